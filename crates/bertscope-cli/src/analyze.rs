//! The analysis subcommands: `rollout`, `drift` and `fill-mask`. The numbers come from
//! `bertscope_core::analysis`; this only loads, runs and prints.

use std::path::Path;

use bertscope_core::{analysis, LoadOptions};
use serde_json::json;

/// `bertscope rollout`: `{"tokens", "rollout": [batch][layer][n][n]}` on stdout.
pub fn rollout(model: &Path, tokenizer: Option<&Path>, texts: &[String]) -> Result<(), String> {
    let engine = crate::load(model, tokenizer, LoadOptions { batch_size: texts.len(), ..Default::default() })?;
    crate::limits::check_batch(&engine, texts)?;
    let run = engine.run(texts).map_err(|e| e.to_string())?;
    let rollouts: Vec<_> = run.runs.iter().map(|r| analysis::rollout(&r.attention)).collect();
    crate::json::write_rollout(&mut std::io::stdout().lock(), &run, &rollouts).map_err(crate::output::write_error)
}

/// `bertscope drift`: `{"layers": [cosine per level, embeddings first], "token_a", "token_b"}`.
pub fn drift(model: &Path, tokenizer: Option<&Path>, texts: &[String], word: &str) -> Result<(), String> {
    if texts.len() != 2 {
        return Err(format!("drift compares two sentences: give --text exactly twice (got {})", texts.len()));
    }
    let engine = crate::load(model, tokenizer, LoadOptions { batch_size: 2, ..Default::default() })?;
    let run = engine.run(texts).map_err(|e| e.to_string())?;
    let [a, b] = [0, 1].map(|i| {
        analysis::find_token(&run.batch.sentences[i], word)
            .ok_or_else(|| format!("the word {word:?} is not among the tokens of sentence {} ({:?})", i + 1, texts[i]))
    });
    let (a, b) = (a?, b?);
    let layers = analysis::drift(&run.runs[0].hidden, a, &run.runs[1].hidden, b);
    crate::output::print(json!({ "layers": layers, "token_a": a, "token_b": b }))
}

/// `bertscope fill-mask`: `{"predictions": [{"position", "candidates": [[id, token, p], …]}, …]}`.
pub fn fill_mask(model: &Path, tokenizer: Option<&Path>, text: &str, k: usize) -> Result<(), String> {
    let engine = crate::load(model, tokenizer, LoadOptions { logits: true, batch_size: 1, ..Default::default() })?;
    if !engine.info().fill_mask {
        return Err(format!(
            "{}: this model has no fill-mask head (no `logits` output); use a masked-language-model export",
            model.display()
        ));
    }
    let run = engine.run(&[text]).map_err(|e| e.to_string())?;
    let predictions = analysis::fill_mask(&run, engine.tokenizer(), 0, k);
    if predictions.is_empty() {
        return Err(format!("the text has no [MASK] token to fill: {text:?}"));
    }
    crate::output::print(json!({ "predictions": predictions }))
}
