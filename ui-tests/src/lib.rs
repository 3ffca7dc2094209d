//! Compile-fail and compile-pass tests for the axon macros (see `tests/ui.rs`).
