//! A library crate the binary names only with `use .. as _;` is linked, and its handlers are
//! found: the one line `Axon::from_registry`'s documentation asks for.

use axon_remote_handlers as _;

#[test]
fn handlers_of_a_crate_named_only_by_use_as_underscore_are_found() {
    let handlers = axon::Axon::from_registry().handlers().unwrap();
    assert_eq!(
        handlers.synapses().collect::<Vec<_>>(),
        ["Synapse", "Remote"]
    );
    let route = handlers.route("Remote").unwrap();
    assert_eq!(
        route.forward.name(),
        "axon_remote_handlers::handlers::shout"
    );
    assert_eq!(
        route.priority.unwrap().name(),
        "axon_remote_handlers::handlers::by_length"
    );
    assert!(route.forward.file().ends_with("remote-handlers/src/lib.rs"));
}
