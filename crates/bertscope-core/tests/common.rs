//! Shared helpers of the native integration tests.
#![allow(dead_code)]

use bertscope_core::{analysis, BatchRun, Engine, LoadOptions, MatMulKernel};
use bertscope_testkit::{fill_mask_entry, models_dir, Case, Observed};

pub fn read(relative: &str) -> Vec<u8> {
    let path = models_dir().join(relative);
    std::fs::read(&path).unwrap_or_else(|e| panic!("cannot read {}: {e} (set BERTSCOPE_MODELS)", path.display()))
}

pub fn engine(case: &Case) -> Engine {
    engine_with(case, MatMulKernel::Auto)
}

/// The engine of `case` with a chosen kernel for constant-weight products.
pub fn engine_with(case: &Case, matmul: MatMulKernel) -> Engine {
    let options = LoadOptions { logits: case.fill_mask, matmul, ..Default::default() };
    Engine::new(&read(case.model), &read(case.tokenizer), options).unwrap_or_else(|e| panic!("{}: {e}", case.model))
}

/// Turns a batch run into the testkit's flat view.
pub fn observed(engine: &Engine, batch_run: &BatchRun) -> Vec<Observed> {
    batch_run
        .batch
        .sentences
        .iter()
        .zip(&batch_run.runs)
        .enumerate()
        .map(|(i, (e, run))| {
            let [l, h, n, _] = run.attention.shape();
            Observed {
                input_ids: e.input_ids.clone(),
                attention_mask: e.attention_mask.clone(),
                tokens: e.tokens.clone(),
                truncated: e.truncated,
                attention: run.attention.as_slice().to_vec(),
                shape: [l, h, n],
                last_hidden: run.hidden.last().to_vec(),
                fill_mask: analysis::fill_mask(batch_run, engine.tokenizer(), i, 10)
                    .into_iter()
                    .map(|m| fill_mask_entry(m.position, &m.candidates))
                    .collect(),
            }
        })
        .collect()
}
