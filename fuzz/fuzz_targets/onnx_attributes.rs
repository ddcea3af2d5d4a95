//! The libFuzzer target `onnx_attributes`: what it checks is in `checks/onnx_attributes.rs`.
#![no_main]

#[path = "../checks/mod.rs"]
mod checks;

libfuzzer_sys::fuzz_target!(|data: &[u8]| checks::onnx_attributes::check(data));
