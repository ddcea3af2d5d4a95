//! Arbitrary text through tokenize + run on the tiny DistilBERT: `Ok`, or a typed error.
#![no_main]
use std::sync::OnceLock;

use bertscope_core::Engine;
use libfuzzer_sys::fuzz_target;

#[path = "common.rs"]
mod common;

fn engine() -> &'static Engine {
    static ENGINE: OnceLock<Engine> = OnceLock::new();
    ENGINE.get_or_init(|| {
        let model = common::read("distilbert-tiny-random/model.onnx");
        let tokenizer = common::read("distilbert-tiny-random/tokenizer.json");
        Engine::new(&model, &tokenizer, common::options()).expect("the tiny model loads")
    })
}

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    // Up to three sentences, split on a byte the fuzzer controls, as one padded batch.
    let sentences: Vec<&str> = text.splitn(3, '\u{1}').collect();
    if let Ok(analysis) = engine().run(&sentences) {
        for run in &analysis.runs {
            let [_, _, n, _] = run.attention.shape();
            assert!(n <= 512, "inputs are truncated to 512 tokens");
        }
    }
});
