//! The real tiny QInt8 DistilBERT with bytes flipped where the fuzzer says: loads and runs,
//! or fails with a typed error.
use std::sync::OnceLock;

use super::fixtures::{options, read, unless_internal};
use bertscope_core::Engine;

struct Fixture {
    model: Vec<u8>,
    tokenizer: Vec<u8>,
}

fn fixture() -> &'static Fixture {
    static FIXTURE: OnceLock<Fixture> = OnceLock::new();
    FIXTURE.get_or_init(|| Fixture {
        model: read("distilbert-tiny-random/model_qint8.onnx"),
        tokenizer: read("distilbert-tiny-random/tokenizer.json"),
    })
}

/// One input of the fuzz target: returns, or panics on a finding.
pub fn check(data: &[u8]) {
    let fixture = fixture();
    let mut model = fixture.model.clone();
    // Each 5-byte chunk: a 4-byte position and the byte to xor in there.
    for chunk in data.chunks_exact(5) {
        let at = u32::from_le_bytes([chunk[0], chunk[1], chunk[2], chunk[3]]) as usize % model.len();
        model[at] ^= chunk[4];
    }
    if let Some(engine) = unless_internal(Engine::new(&model, &fixture.tokenizer, options())) {
        unless_internal(engine.run(&["Apple is huge enterprise", "I am eating an apple"]));
    }
}
