//! `Axon::from_registry()` finds handlers declared in two modules of this binary and in a
//! second crate, injects state, and reports every startup problem at once.

use axon::{
    Axon, Blacklist, HandlerError, HandlerKind, HandlerProblem, Problem, State, StatusCode,
};
use axon_remote_handlers::synapses::Remote;
use std::sync::atomic::{AtomicUsize, Ordering};

/// Shared state: a word list and a call counter.
pub struct Dictionary {
    pub words: Vec<&'static str>,
}

#[derive(Default)]
pub struct Calls(AtomicUsize);

mod alpha {
    use super::*;

    #[axon::synapse]
    #[derive(Debug, Clone, PartialEq)]
    pub struct Lookup {
        #[hash]
        pub index: i64,
        #[default]
        pub word: Option<String>,
    }

    #[axon::forward]
    pub async fn lookup(
        mut synapse: Lookup,
        dictionary: &Dictionary,
        calls: State<Calls>,
    ) -> Result<Lookup, HandlerError> {
        calls.0.fetch_add(1, Ordering::SeqCst);
        let word = usize::try_from(synapse.index)
            .ok()
            .and_then(|i| dictionary.words.get(i))
            .ok_or_else(|| HandlerError::new(StatusCode::NOT_FOUND, "no such word"))?;
        synapse.word = Some(word.to_string());
        Ok(synapse)
    }
}

mod beta {
    use super::alpha::Lookup;
    use super::*;

    #[axon::blacklist(Lookup)]
    pub async fn negative_indexes(synapse: &Lookup) -> (bool, String) {
        (
            synapse.index < 0,
            format!("index {} is negative", synapse.index),
        )
    }

    #[axon::priority]
    pub fn by_index(synapse: &Lookup, calls: &Calls) -> f64 {
        (synapse.index as f64) + calls.0.load(Ordering::SeqCst) as f64
    }

    #[axon::verify]
    pub fn only_with_hotkey(synapse: &Lookup) -> Result<(), HandlerError> {
        match synapse.dendrite.hotkey {
            Some(_) => Ok(()),
            None => Err(HandlerError::new(StatusCode::UNAUTHORIZED, "no hotkey")),
        }
    }
}

fn axon() -> Axon {
    Axon::from_registry()
        .state(Dictionary {
            words: vec!["zero", "one", "two"],
        })
        .state(Calls::default())
}

#[test]
fn finds_handlers_of_two_modules_and_a_second_crate() {
    let handlers = axon().handlers().unwrap();
    assert_eq!(
        handlers.synapses().collect::<Vec<_>>(),
        ["Synapse", "Lookup", "Remote"]
    );
    // `Display` lists the same synapses before the table is built.
    assert_eq!(
        axon().to_string(),
        "Axon([::], 8091, None, stopped, ['Synapse', 'Lookup', 'Remote'])"
    );

    let lookup = handlers.route("Lookup").unwrap();
    assert_eq!(lookup.forward.name(), "registry::alpha::lookup");
    assert_eq!(lookup.forward.kind(), HandlerKind::Forward);
    assert_eq!(
        lookup.blacklist.unwrap().name(),
        "registry::beta::negative_indexes"
    );
    assert_eq!(lookup.priority.unwrap().name(), "registry::beta::by_index");
    assert_eq!(
        lookup.verify.unwrap().name(),
        "registry::beta::only_with_hotkey"
    );
    assert!(lookup.synapse_type.ends_with("alpha::Lookup"));
    assert!(lookup.forward.file().ends_with("tests/registry.rs"));

    let remote = handlers.route("Remote").unwrap();
    assert_eq!(
        remote.forward.name(),
        "axon_remote_handlers::handlers::shout"
    );
    assert_eq!(remote.blacklist, None);
    assert_eq!(remote.verify, None);

    let ping = handlers.route("Synapse").unwrap();
    assert_eq!(ping.forward.name(), "axon::ping");
}

#[tokio::test]
async fn registered_handlers_run_with_their_state() {
    let handlers = axon().handlers().unwrap();
    let mut request = alpha::Lookup::new(1);

    assert_eq!(handlers.priority(&request).await, Some(1.0));
    let out = handlers.forward(request.clone()).await.unwrap();
    assert_eq!(out.word.as_deref(), Some("one"));
    // The forward counted its call in the shared `Calls`, which the priority reads.
    assert_eq!(handlers.priority(&request).await, Some(2.0));

    let missing = handlers.forward(alpha::Lookup::new(9)).await.unwrap_err();
    assert_eq!(missing.status(), StatusCode::NOT_FOUND);
    assert_eq!(missing.message(), "no such word");

    request.index = -4;
    assert_eq!(
        handlers.blacklist(&request).await,
        Blacklist::Deny("index -4 is negative".into())
    );
    let refused = handlers.custom_verify(&request).await.unwrap().unwrap_err();
    assert_eq!(refused.message(), "no hotkey");
    request.dendrite.hotkey = Some("5Grw".into());
    assert!(handlers.custom_verify(&request).await.unwrap().is_ok());

    let shouted = handlers.forward(Remote::new("hey".into())).await.unwrap();
    assert_eq!(shouted.shout.as_deref(), Some("HEY"));
    assert_eq!(
        handlers.priority(&Remote::new("four".into())).await,
        Some(4.0)
    );
}

#[tokio::test]
async fn attached_closures_share_the_table_with_registered_handlers() {
    #[axon::synapse(name = "Extra")]
    #[derive(Debug)]
    pub struct Extra {
        #[default]
        pub n: i64,
    }

    let handlers = axon()
        .attach(|mut s: Extra| {
            s.n *= 2;
            s
        })
        .blacklist(|s: &Extra| (s.n > 100, "too big".to_string()))
        .handlers()
        .unwrap();
    assert_eq!(
        handlers.synapses().collect::<Vec<_>>(),
        ["Synapse", "Extra", "Lookup", "Remote"]
    );
    let out = handlers
        .forward(Extra {
            n: 21,
            ..Extra::default()
        })
        .await
        .unwrap();
    assert_eq!(out.n, 42);
    let big = Extra {
        n: 101,
        ..Extra::default()
    };
    assert!(handlers.blacklist(&big).await.is_denied());
}

#[test]
fn every_startup_problem_is_reported_at_once() {
    #[axon::synapse]
    pub struct Orphan {
        #[default]
        pub n: i64,
    }

    /// A second type claiming the name `Lookup`.
    #[axon::synapse(name = "Lookup")]
    pub struct Impostor {
        #[default]
        pub n: i64,
    }

    let err = Axon::from_registry() // no `Dictionary`: `lookup` cannot start
        .state(Calls::default())
        .attach(|s: alpha::Lookup| s) // a second forward for `Lookup`
        .priority(|_: &Orphan| 1.0) // a priority with no forward
        .attach(|s: Impostor| s) // another type named `Lookup`
        .state(1u32)
        .state(2u32) // two values of one state type
        .handlers()
        .unwrap_err();

    let problems = err.problems();
    assert_eq!(problems.len(), 5, "{err}");
    assert!(matches!(
        problems[0],
        Problem::Handlers(HandlerProblem::DuplicateState { state: "u32" })
    ));
    match &problems[1] {
        Problem::Handlers(HandlerProblem::MissingState { handler, state }) => {
            assert_eq!(handler.name(), "registry::alpha::lookup");
            assert_eq!(*state, "registry::Dictionary");
        }
        other => panic!("{other:?}"),
    }
    match &problems[2] {
        Problem::Handlers(HandlerProblem::DuplicateHandler {
            synapse,
            first,
            second,
        }) => {
            assert_eq!(*synapse, "Lookup");
            assert_eq!(first.name(), "registry::alpha::lookup");
            assert!(second.name().contains("{{closure}}"));
            assert!(second.file().ends_with("tests/registry.rs"));
        }
        other => panic!("{other:?}"),
    }
    match &problems[3] {
        Problem::Handlers(HandlerProblem::NameClash {
            synapse,
            first_type,
            second_type,
            ..
        }) => {
            assert_eq!(*synapse, "Lookup");
            assert!(first_type.ends_with("alpha::Lookup"));
            assert!(second_type.ends_with("Impostor"));
        }
        other => panic!("{other:?}"),
    }
    match &problems[4] {
        Problem::Handlers(HandlerProblem::NoForward { synapse, handler }) => {
            assert_eq!(*synapse, "Orphan");
            assert_eq!(handler.kind(), HandlerKind::Priority);
        }
        other => panic!("{other:?}"),
    }

    let text = err.to_string();
    assert!(
        text.starts_with("the axon cannot start (5 problems):\n  - "),
        "{text}"
    );
    assert!(
        text.contains("forward `registry::alpha::lookup` (tests/registry.rs:"),
        "{text}"
    );
    assert!(text.contains("needs state `registry::Dictionary`, which was not provided: call `.state(value)` with a `registry::Dictionary` on the axon"), "{text}");
}

#[test]
fn a_handler_needing_absent_state_names_itself_and_the_type() {
    let err = Axon::from_registry().handlers().unwrap_err();
    let missing: Vec<(String, &str)> = err
        .problems()
        .iter()
        .map(|p| match p {
            Problem::Handlers(HandlerProblem::MissingState { handler, state }) => {
                (handler.to_string(), *state)
            }
            other => panic!("{other:?}"),
        })
        .collect();
    let line = |name: &str| {
        let src = include_str!("registry.rs");
        let at = src.find(&format!("fn {name}(")).unwrap();
        src[..at].matches('\n').count() // the attribute's line, one above `fn`
    };
    assert_eq!(
        missing,
        [
            (
                format!(
                    "forward `registry::alpha::lookup` (tests/registry.rs:{})",
                    line("lookup")
                ),
                "registry::Dictionary"
            ),
            (
                format!(
                    "forward `registry::alpha::lookup` (tests/registry.rs:{})",
                    line("lookup")
                ),
                "registry::Calls"
            ),
            (
                format!(
                    "priority `registry::beta::by_index` (tests/registry.rs:{})",
                    line("by_index")
                ),
                "registry::Calls"
            ),
        ]
    );
}
