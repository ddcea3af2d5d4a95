//! Arbitrary bytes as an ONNX model: a typed error (or, rarely, a model), never a panic.
#![no_main]
use std::sync::OnceLock;

use bertscope_core::Model;
use libfuzzer_sys::fuzz_target;

#[path = "common.rs"]
mod common;

fuzz_target!(|data: &[u8]| {
    static TOKENIZER: OnceLock<Vec<u8>> = OnceLock::new();
    let _ = TOKENIZER.get_or_init(|| common::read("distilbert-tiny-random/tokenizer.json"));
    let _ = Model::from_bytes(data, common::options());
});
