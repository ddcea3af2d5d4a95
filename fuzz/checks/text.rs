//! Arbitrary text through tokenize + run on the tiny DistilBERT: `Ok`, or a typed error.
use std::sync::OnceLock;

use super::fixtures::{options, read, unless_internal};
use bertscope_core::Engine;

fn engine() -> &'static Engine {
    static ENGINE: OnceLock<Engine> = OnceLock::new();
    ENGINE.get_or_init(|| {
        let model = read("distilbert-tiny-random/model.onnx");
        let tokenizer = read("distilbert-tiny-random/tokenizer.json");
        Engine::new(&model, &tokenizer, options()).expect("the tiny model loads")
    })
}

/// One input of the fuzz target: returns, or panics on a finding.
pub fn check(data: &[u8]) {
    let text = String::from_utf8_lossy(data);
    // Up to three sentences, split on a byte the fuzzer controls, as one padded batch.
    let sentences: Vec<&str> = text.splitn(3, '\u{1}').collect();
    if let Some(analysis) = unless_internal(engine().run(&sentences)) {
        for run in &analysis.runs {
            let [_, _, n, _] = run.attention.shape();
            assert!(n <= 512, "inputs are truncated to 512 tokens");
        }
    }
}
