//! libFuzzer entry point for [`axon_fuzz::headers`]; build and run with `fuzz/run.sh headers`.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| axon_fuzz::headers(data));
