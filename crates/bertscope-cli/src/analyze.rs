//! The analysis subcommands: `rollout`, `drift` and `fill-mask`. The numbers come from
//! `bertscope_core::analysis`; this only loads, runs and prints.

use std::path::Path;

use bertscope_core::tokenize::Word;
use bertscope_core::{analysis, BatchRun, Encoding, LoadOptions};
use serde_json::{json, Value};

/// `bertscope rollout`: `{"tokens", "rollout": [batch][layer][n][n]}` on stdout, and with a word
/// `"word"` (see [`word_rows`]).
pub fn rollout(
    model: &Path,
    tokenizer: Option<&Path>,
    texts: &[String],
    word: Option<&str>,
    nth: usize,
) -> Result<(), String> {
    let engine = crate::load(model, tokenizer, LoadOptions { batch_size: texts.len(), ..Default::default() })?;
    crate::limits::check_batch(&engine, texts)?;
    let run = engine.run(texts).map_err(|e| e.to_string())?;
    let rollouts: Vec<_> = run.runs.iter().map(|r| analysis::rollout(&r.attention)).collect();
    let rows = match word {
        Some(word) => {
            let words = find_in_each(&run, texts, word, nth)?;
            let per_sentence = words.iter().enumerate().map(|(i, w)| {
                let [layers, n, _] = rollouts[i].shape();
                word_rows(&run.batch.sentences[i], w, rollouts[i].as_slice(), &[layers], n)
            });
            Some(Value::Array(per_sentence.collect()))
        }
        None => None,
    };
    crate::json::write_rollout(&mut std::io::stdout().lock(), &run, &rollouts, rows.as_ref())
        .map_err(crate::output::write_error)
}

/// `bertscope attention --word`: per sentence, the word's attention rows (see [`word_rows`]) of
/// every layer and head.
pub fn attention_word_rows(run: &BatchRun, texts: &[String], word: &str, nth: usize) -> Result<Value, String> {
    let words = find_in_each(run, texts, word, nth)?;
    let per_sentence = words.iter().enumerate().map(|(i, w)| {
        let [layers, heads, n, _] = run.runs[i].attention.shape();
        word_rows(&run.batch.sentences[i], w, run.runs[i].attention.as_slice(), &[layers, heads], n)
    });
    Ok(Value::Array(per_sentence.collect()))
}

/// The `nth` `word` of every sentence (see `analysis::find_word`), or which sentence lacks it and why.
fn find_in_each(run: &BatchRun, texts: &[String], word: &str, nth: usize) -> Result<Vec<Word>, String> {
    run.batch
        .sentences
        .iter()
        .enumerate()
        .map(|(i, encoding)| {
            analysis::find_word(encoding, word, nth)
                .map_err(|miss| format!("sentence {} ({:?}): {miss}", i + 1, texts[i]))
        })
        .collect()
}

/// `{"word": {start, end, text}, "rows": [..lead][n], "words": [text], "row_by_word": [..lead][words]}`:
/// for each `n×n` matrix of `matrices` (laid out `[..lead][n][n]`), the word's row, the mean of
/// its pieces' rows (pieces as queries; it still sums to 1), and that row summed over each word's
/// pieces (pieces as keys: what each word receives), in the sentence's word order.
fn word_rows(encoding: &Encoding, word: &Word, matrices: &[f32], lead: &[usize], n: usize) -> Value {
    let rows: Vec<Vec<f32>> = matrices.chunks_exact(n * n).map(|m| analysis::word_row(m, n, word)).collect();
    let by_word: Vec<Vec<f32>> = rows.iter().map(|row| analysis::word_weights(row, encoding)).collect();
    json!({
        "word": word,
        "rows": nest(&rows, lead),
        "words": encoding.words.iter().map(|w| &w.text).collect::<Vec<_>>(),
        "row_by_word": nest(&by_word, lead),
    })
}

/// Rows grouped into nested arrays of the `lead` shape (`[layers]`, `[layers, heads]`).
fn nest(rows: &[Vec<f32>], lead: &[usize]) -> Value {
    match lead {
        [] | [_] => json!(rows),
        [_, rest @ ..] => {
            let size: usize = rest.iter().product();
            Value::Array(rows.chunks(size.max(1)).map(|chunk| nest(chunk, rest)).collect())
        }
    }
}

/// `bertscope drift`: `{"layers": [cosine per level, embeddings first], "token_a", "token_b",
/// "word_a", "word_b"}`: the `nth` `word` of each sentence, a word of several pieces compared by
/// the mean of its pieces' vectors.
pub fn drift(model: &Path, tokenizer: Option<&Path>, texts: &[String], word: &str, nth: usize) -> Result<(), String> {
    if texts.len() != 2 {
        return Err(format!("drift compares two sentences: give --text exactly twice (got {})", texts.len()));
    }
    let engine = crate::load(model, tokenizer, LoadOptions { batch_size: 2, ..Default::default() })?;
    let run = engine.run(texts).map_err(|e| e.to_string())?;
    find_in_each(&run, texts, word, nth)?;
    let drift = analysis::word_drift_at(&run, 0, 1, word, nth).ok_or("drift could not be computed")?;
    crate::output::print(json!({
        "layers": drift.cosine,
        "token_a": drift.token_a,
        "token_b": drift.token_b,
        "word_a": drift.word_a,
        "word_b": drift.word_b,
    }))
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
