//! Arbitrary bytes as tokenizer.json, then a sentence through whatever loaded.
use bertscope_core::Tokenizer;

/// One input of the fuzz target: returns, or panics on a finding.
pub fn check(data: &[u8]) {
    if let Ok(tokenizer) = Tokenizer::from_json(data, 512) {
        let _ = tokenizer.encode_batch(&["Apple is huge enterprise", "I am eating an apple"]);
    }
}
