//! The cross-crate test suites and examples of the axon workspace.
