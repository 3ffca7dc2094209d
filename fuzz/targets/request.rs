//! libFuzzer entry point for [`axon_fuzz::request`]; build and run with `fuzz/run.sh request`.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| axon_fuzz::request(data));
