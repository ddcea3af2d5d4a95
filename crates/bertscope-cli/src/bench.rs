//! Native latency: load + optimise once, then median and p90 per input length.

use std::path::Path;
use std::time::Instant;

use bertscope_core::{Engine, LoadOptions};

/// Times the engine on `lengths` tokens (incl. `[CLS]`/`[SEP]`), `runs` times each, and prints a table.
pub fn run(model: &Path, tokenizer: &Path, lengths: &[usize], runs: usize) -> Result<(), String> {
    let started = Instant::now();
    let engine: Engine = crate::load(model, Some(tokenizer), LoadOptions::default())?;
    let load_ms = started.elapsed().as_secs_f64() * 1e3;
    println!("{{\"load_ms\": {load_ms:.1}, \"lengths\": {{");
    for (i, &n) in lengths.iter().enumerate() {
        let text = text_of_tokens(&engine, n);
        engine.run(&[&text]).map_err(|e| e.to_string())?;
        let mut times: Vec<f64> = (0..runs.max(1))
            .map(|_| {
                let t = Instant::now();
                let _ = engine.run(&[&text]);
                t.elapsed().as_secs_f64() * 1e3
            })
            .collect();
        times.sort_by(f64::total_cmp);
        let median = times[times.len() / 2];
        let p90 = times[(times.len() * 9 / 10).min(times.len() - 1)];
        let comma = if i + 1 < lengths.len() { "," } else { "" };
        println!("  \"{n}\": {{\"median_ms\": {median:.2}, \"p90_ms\": {p90:.2}}}{comma}");
    }
    println!("}}}}");
    Ok(())
}

/// A sentence that tokenizes to exactly `n` tokens (one word piece per "word").
fn text_of_tokens(engine: &Engine, n: usize) -> String {
    let words = ["the", "bank", "raised", "its", "interest", "rates", "and", "we", "ate", "an", "apple"];
    let text: Vec<&str> = (0..n.saturating_sub(2)).map(|i| words[i % words.len()]).collect();
    let text = text.join(" ");
    debug_assert_eq!(engine.tokenizer().encode(&text).map(|e| e.len).ok(), Some(n.max(2)));
    text
}
