//! Handlers defined in a library crate, for `tests/registry.rs`: a binary that depends on
//! this crate finds them through `Axon::from_registry()`.
//!
//! The synapse lives in [`synapses`] and the handlers in a private module, so the test
//! proves that handlers are found even though the binary never names them.

/// The synapse served by this crate.
pub mod synapses {
    /// Python: `class Remote(bt.Synapse): word: str; shout: Optional[str] = None`.
    #[axon::synapse]
    #[derive(Debug, Clone, PartialEq)]
    pub struct Remote {
        #[hash]
        pub word: String,
        #[default]
        pub shout: Option<String>,
    }
}

mod handlers {
    use super::synapses::Remote;

    #[axon::forward]
    async fn shout(mut synapse: Remote) -> Remote {
        synapse.shout = Some(synapse.word.to_uppercase());
        synapse
    }

    #[axon::priority]
    fn by_length(synapse: &Remote) -> f64 {
        synapse.word.len() as f64
    }
}
