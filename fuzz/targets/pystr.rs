//! libFuzzer entry point for [`axon_fuzz::pystr`]; build and run with `fuzz/run.sh pystr`.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| axon_fuzz::pystr(data));
