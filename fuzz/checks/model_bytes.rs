//! Arbitrary bytes as an ONNX model: a typed error (or, rarely, a model), never a panic.
use std::sync::OnceLock;

use super::fixtures::{options, read};
use bertscope_core::Model;

/// One input of the fuzz target: returns, or panics on a finding.
pub fn check(data: &[u8]) {
    static TOKENIZER: OnceLock<Vec<u8>> = OnceLock::new();
    let _ = TOKENIZER.get_or_init(|| read("distilbert-tiny-random/tokenizer.json"));
    let _ = Model::from_bytes(data, options());
}
