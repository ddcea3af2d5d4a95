//! Where loading a model and its first run spend their time, natively and with bertscope's own
//! kernels (the wasm engine's path): the engine's load phases ([`bertscope_core::timing`]) of
//! `Engine::from_owned` and of the first run of a two-sentence batch (which builds its plan), then
//! a second run. A benchmark: it prints and never fails on a number. The browser's own breakdown
//! is `node tests/bench/cold-ab.mjs www/dist`.
//!
//! `cargo run --release -p bertscope-core --example load_phases -- MODEL.onnx TOKENIZER.json`

use std::sync::OnceLock;
use std::time::Instant;

use bertscope_core::{timing, Engine, LoadOptions, MatMulKernel};

fn now_ms() -> f64 {
    static START: OnceLock<Instant> = OnceLock::new();
    START.get_or_init(Instant::now).elapsed().as_secs_f64() * 1e3
}

fn report(what: &str, started: f64) {
    println!("{what}: {:.1} ms", now_ms() - started);
    for phase in timing::take_phases() {
        println!("  {:>8.1} {:>8.1}  {}", phase.start_ms - started, phase.end_ms - phase.start_ms, phase.name);
    }
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let [model, tokenizer] = args.as_slice() else {
        return Err("usage: load_phases MODEL.onnx TOKENIZER.json".into());
    };
    let (model, tokenizer) = (std::fs::read(model)?, std::fs::read(tokenizer)?);
    timing::set_clock(now_ms);
    let options = LoadOptions { matmul: MatMulKernel::Packed, ..LoadOptions::default() };
    let started = now_ms();
    let engine = Engine::from_owned(model, &tokenizer, options)?;
    report("load", started);
    let texts = ["Apple is huge enterprise", "I am eating an apple"];
    let started = now_ms();
    engine.run(&texts)?;
    report("first run (builds the plan)", started);
    let started = now_ms();
    engine.run(&texts)?;
    report("second run", started);
    Ok(())
}
