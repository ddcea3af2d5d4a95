//! The libFuzzer target `tokenizer_json`: what it checks is in `checks/tokenizer_json.rs`.
#![no_main]

#[path = "../checks/mod.rs"]
mod checks;

libfuzzer_sys::fuzz_target!(|data: &[u8]| checks::tokenizer_json::check(data));
