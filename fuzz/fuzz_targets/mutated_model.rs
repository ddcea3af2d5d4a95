//! The libFuzzer target `mutated_model`: what it checks is in `checks/mutated_model.rs`.
#![no_main]

#[path = "../checks/mod.rs"]
mod checks;

libfuzzer_sys::fuzz_target!(|data: &[u8]| checks::mutated_model::check(data));
