//! Placeholder: the active fuzz target lands with its issue.
#![no_main]
use libfuzzer_sys::fuzz_target;

fuzz_target!(|_data: &[u8]| {});
