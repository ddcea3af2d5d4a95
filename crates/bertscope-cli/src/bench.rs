//! Native latency: load + optimise once, then median and p90 per input length.

use std::path::Path;
use std::time::Instant;

use bertscope_core::{Engine, LoadOptions};
use serde_json::{json, Map, Value};

/// Times the engine on `lengths` tokens (incl. `[CLS]`/`[SEP]`), `runs` times each, and prints JSON:
/// `{"load_ms", "lengths": {"7": {"median_ms", "p90_ms", "times_ms": [..], "text", "input_ids": [..]}, ..}}`.
/// Each run tokenizes the text and extracts every layer's attention, as the page does.
pub fn run(model: &Path, tokenizer: &Path, lengths: &[usize], runs: usize) -> Result<(), String> {
    let started = Instant::now();
    let engine: Engine = crate::load(model, Some(tokenizer), LoadOptions { batch_size: 1, ..Default::default() })?;
    let load_ms = started.elapsed().as_secs_f64() * 1e3;
    crate::limits::check_bench(runs, lengths, engine.info().max_tokens)?;
    let mut per_length = Map::new();
    for &n in lengths {
        let text = text_of_tokens(n);
        let input_ids = engine.tokenizer().encode(&text).map_err(|e| e.to_string())?.input_ids;
        engine.run(&[&text]).map_err(|e| e.to_string())?;
        let mut times: Vec<f64> = (0..runs.max(1))
            .map(|_| {
                let t = Instant::now();
                let _ = engine.run(&[&text]);
                t.elapsed().as_secs_f64() * 1e3
            })
            .collect();
        let raw = times.clone();
        times.sort_by(f64::total_cmp);
        let median = times[times.len() / 2];
        let p90 = times[(times.len() * 9 / 10).min(times.len() - 1)];
        per_length.insert(
            n.to_string(),
            json!({"median_ms": median, "p90_ms": p90, "times_ms": raw, "text": text, "input_ids": input_ids}),
        );
    }
    let out = json!({"load_ms": load_ms, "lengths": Value::Object(per_length)});
    crate::output::print(out)
}

/// A sentence of `n - 2` one-piece words, so `n` tokens with `[CLS]`/`[SEP]` for a BERT
/// uncased vocabulary (the benchmark checks the ids it gets).
fn text_of_tokens(n: usize) -> String {
    let words = ["the", "bank", "raised", "its", "interest", "rates", "and", "we", "ate", "an", "apple"];
    let text: Vec<&str> = (0..n.saturating_sub(2)).map(|i| words[i % words.len()]).collect();
    text.join(" ")
}
