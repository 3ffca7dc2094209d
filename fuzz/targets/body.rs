//! libFuzzer entry point for [`axon_fuzz::body`]; build and run with `fuzz/run.sh body`.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| axon_fuzz::body(data));
