//! The libFuzzer target `model_bytes`: what it checks is in `checks/model_bytes.rs`.
#![no_main]

#[path = "../checks/mod.rs"]
mod checks;

libfuzzer_sys::fuzz_target!(|data: &[u8]| checks::model_bytes::check(data));
