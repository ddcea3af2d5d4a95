//! Arbitrary bytes as tokenizer.json, then a sentence through whatever loaded.
#![no_main]
use bertscope_core::Tokenizer;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(tokenizer) = Tokenizer::from_json(data, 512) {
        let _ = tokenizer.encode_batch(&["Apple is huge enterprise", "I am eating an apple"]);
    }
});
