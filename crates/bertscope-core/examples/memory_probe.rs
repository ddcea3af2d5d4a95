//! Where a model's memory goes, natively and with bertscope's own kernels (the wasm engine's
//! path): bytes live and the peak live bytes of each phase (load, plan for one sentence, a long
//! run, a batch-2 plan), from a counting allocator. Deterministic, unlike timings, so it can tell
//! a change that saves memory from one that does not. A benchmark: it prints and never fails on a
//! number.
//!
//! `cargo run --release -p bertscope-core --example memory_probe -- MODEL.onnx TOKENIZER.json [TOKENS]`

use bertscope_core::{Engine, LoadOptions, MatMulKernel};
use bertscope_testkit::Counting;

#[global_allocator]
static ALLOCATOR: Counting = Counting;

fn report(what: &str) {
    let mb = |bytes: usize| bytes as f64 / 1e6;
    println!("{what}: live {:.1} MB, peak live in this phase {:.1} MB", mb(Counting::live()), mb(Counting::peak()));
    Counting::phase();
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let [model, tokenizer, rest @ ..] = args.as_slice() else {
        return Err("usage: memory_probe MODEL.onnx TOKENIZER.json [TOKENS]".into());
    };
    let tokens: usize = rest.first().map_or(Ok(512), |t| t.parse())?;
    let (model, tokenizer) = (std::fs::read(model)?, std::fs::read(tokenizer)?);
    report("files read");
    let options = LoadOptions { matmul: MatMulKernel::Packed, ..LoadOptions::default() };
    let engine = Engine::from_owned(model, &tokenizer, options)?;
    report("loaded (file freed)");
    engine.prepare(1)?;
    report("plan for 1 sentence");
    let text = "word ".repeat(tokens.saturating_sub(2));
    let run = engine.run(&[text.as_str()])?;
    report(&format!("a {}-token run (result held)", run.batch.seq_len));
    drop(run);
    report("result dropped");
    engine.prepare(2)?;
    report("plan for 2 sentences");
    Ok(())
}
