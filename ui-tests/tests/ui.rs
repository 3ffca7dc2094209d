//! Compile-time errors of the axon macros, pinned: each `fail/*.rs` must fail with exactly
//! its `.stderr`; each `pass/*.rs` must build. `TRYBUILD=overwrite cargo test -p axon-ui-tests`
//! regenerates the `.stderr` files after an intended change of wording.

#[test]
fn ui() {
    let t = trybuild::TestCases::new();
    t.compile_fail("fail/*.rs");
    t.pass("pass/*.rs");
}
