//! The context-mixing subcommands: `mixing` (norm-based attention, ALTI and ALTI rollout per
//! sentence) and `heads` (each head's role, over sentences or a corpus file). The numbers come
//! from `bertscope_core::analysis`; this only loads, runs and prints.

use std::io::{IsTerminal, Write};
use std::path::Path;

use bertscope_core::analysis::{self, HeadRoles, Measures, Mixing, MixingInput};
use bertscope_core::{BatchRun, Engine, LoadOptions};

/// Sentences of a corpus run together (a small batch: memory stays bounded whatever the file's length).
const CORPUS_BATCH: usize = 8;

/// `bertscope mixing`: `{"tokens", "input_ids", "norm_head", "norm_layer", "alti", "alti_rollout",
/// "reconstruction_error"}`, each per sentence over its own tokens.
pub fn mixing(model: &Path, tokenizer: Option<&Path>, texts: &[String]) -> Result<(), String> {
    let engine = crate::load(model, tokenizer, LoadOptions { batch_size: texts.len(), ..Default::default() })?;
    crate::limits::check_batch(&engine, texts)?;
    let run = engine.run_with_mixing(texts).map_err(|e| e.to_string())?;
    let measures = measure(&engine, &run)?;
    crate::json::write_mixing(&mut std::io::stdout().lock(), &run, &measures).map_err(crate::output::write_error)
}

/// Every sentence's measures.
fn measure(engine: &Engine, run: &BatchRun) -> Result<Vec<Mixing>, String> {
    let layers = engine.mixing_layers().map_err(|e| e.to_string())?;
    run.batch
        .sentences
        .iter()
        .zip(&run.runs)
        .map(|(sentence, r)| {
            let taps = r.mixing.as_ref().ok_or("the run did not read the mixing tensors")?;
            let input = MixingInput { attention: &r.attention, hidden: &r.hidden, taps, tokens: sentence.len };
            Ok(analysis::mixing(input, layers, Measures::NormsAndAlti, |_, _| {}))
        })
        .collect()
}

/// `bertscope heads`: `{"layers", "heads", "sentences", "heads_stats": [layer][head]}` over the
/// `--text` sentences and every non-empty line of `corpus`.
pub fn heads(model: &Path, tokenizer: Option<&Path>, texts: &[String], corpus: Option<&Path>) -> Result<(), String> {
    let engine = crate::load(model, tokenizer, LoadOptions::default())?;
    let info = engine.info();
    let mut roles = HeadRoles::new(info.layers, info.heads);
    let mut add = |batch: &[String]| -> Result<(), String> {
        if batch.is_empty() {
            return Ok(());
        }
        let run = engine.run(batch).map_err(|e| e.to_string())?;
        for (sentence, r) in run.batch.sentences.iter().zip(&run.runs) {
            roles.add(&r.attention, sentence);
        }
        Ok(())
    };
    for text in texts {
        add(std::slice::from_ref(text))?;
    }
    if let Some(path) = corpus {
        read_corpus(path, &mut add)?;
    }
    if roles.sentences() == 0 {
        return Err("no sentence to measure: give --text or a --corpus with at least one non-empty line".into());
    }
    let out = serde_json::json!({
        "layers": info.layers,
        "heads": info.heads,
        "sentences": roles.sentences(),
        "heads_stats": roles.stats(),
    });
    crate::output::print(out)
}

/// Feeds the corpus to `add` in small batches, with a progress bar on stderr when it is a terminal
/// (a line per thousand sentences otherwise).
fn read_corpus(path: &Path, add: &mut impl FnMut(&[String]) -> Result<(), String>) -> Result<(), String> {
    let file = std::fs::File::open(path).map_err(|e| format!("cannot read corpus {}: {e}", path.display()))?;
    let total = std::fs::metadata(path).map(|m| m.len()).unwrap_or(0);
    let progress = Progress::new(total);
    let (mut batch, mut read, mut done) = (Vec::with_capacity(CORPUS_BATCH), 0u64, 0usize);
    let (mut reader, mut line, mut number) = (std::io::BufReader::new(file), String::new(), 0);
    loop {
        number += 1;
        let more = crate::files::next_line(&mut reader, &mut line, number)
            .map_err(|e| format!("reading corpus {}: {e}", path.display()))?;
        if !more {
            break;
        }
        read += line.len() as u64 + 1;
        if line.trim().is_empty() {
            continue;
        }
        batch.push(std::mem::take(&mut line));
        if batch.len() == CORPUS_BATCH {
            add(&batch)?;
            done += batch.len();
            batch.clear();
            progress.show(read, done);
        }
    }
    add(&batch)?;
    progress.finish(done + batch.len());
    Ok(())
}

/// A one-line progress bar on stderr.
struct Progress {
    total: u64,
    terminal: bool,
}

impl Progress {
    fn new(total: u64) -> Self {
        Self { total, terminal: std::io::stderr().is_terminal() }
    }

    fn show(&self, read: u64, sentences: usize) {
        let fraction = if self.total == 0 { 1.0 } else { (read as f64 / self.total as f64).min(1.0) };
        if self.terminal {
            let filled = (fraction * 30.0).round() as usize;
            let _ = write!(
                std::io::stderr(),
                "\r[{}{}] {:>3.0}%  {sentences} sentences",
                "#".repeat(filled),
                " ".repeat(30 - filled),
                fraction * 100.0
            );
        } else if sentences % 1000 < CORPUS_BATCH {
            crate::output::say(format_args!("{:.0}%  {sentences} sentences", fraction * 100.0));
        }
    }

    fn finish(&self, sentences: usize) {
        if self.terminal {
            crate::output::say("");
        }
        crate::output::say(format_args!("measured {sentences} corpus sentences"));
    }
}
