//! The libFuzzer target `text`: what it checks is in `checks/text.rs`.
#![no_main]

#[path = "../checks/mod.rs"]
mod checks;

libfuzzer_sys::fuzz_target!(|data: &[u8]| checks::text::check(data));
