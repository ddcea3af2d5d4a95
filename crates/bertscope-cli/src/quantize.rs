//! `bertscope quantize` and `bertscope dequantize`: rewrite a model's weights, check what that
//! did to its attention, and write the new file atomically (never a half-written output).

use std::fs::File;
use std::io::{IsTerminal, Write};
use std::path::{Path, PathBuf};
use std::time::Instant;

use bertscope_core::quantize::{self, attention_change, Axis, Form, QuantizeReport};
use bertscope_core::{Engine, LoadOptions};

use crate::output::print;

/// The seed's two sentences: the attention change is measured on them, as one padded batch.
pub const SEED: [&str; 2] = ["Apple is huge enterprise", "I am eating an apple"];

/// Quantizes `input` to weight-only int8, runs the seed sentences through both files, prints
/// sizes, tensors, time and the largest attention change, then writes `output`.
pub fn quantize(input: &Path, output: &Path, tokenizer: Option<&Path>) -> Result<(), String> {
    let tokenizer_path = crate::tokenizer_path(input, tokenizer);
    let tokenizer = crate::read_tokenizer(&tokenizer_path).map_err(|e| format!("{e} (give --tokenizer)"))?;
    let bytes = crate::read_model(input)?;
    let mut progress = Progress::new("quantizing");
    let started = Instant::now();
    let quantized = quantize::quantize(&bytes, |done, total| progress.show(done, total))
        .map_err(|e| format!("{}: {e}", input.display()))?;
    let seconds = started.elapsed().as_secs_f64();
    progress.finish();
    print_report(&quantized.report, seconds)?;

    let started = Instant::now();
    let before = run_seed(&bytes, &tokenizer, input)?;
    drop(bytes);
    let after = run_seed(&quantized.bytes, &tokenizer, output)?;
    let change = attention_change(&before, &after).ok_or("the two models gave attention of different shapes")?;
    print(format_args!(
        "largest attention change on the seed sentences {SEED:?}: {:.3e} (sentence {}, layer {}, head {}, \
         query {}, key {}); mean {:.2e} (checked in {:.1} s)",
        change.max,
        change.sentence,
        change.layer,
        change.head,
        change.query,
        change.key,
        change.mean,
        started.elapsed().as_secs_f64()
    ))?;
    write_atomically(output, &quantized.bytes)?;
    print(format_args!("wrote {}", output.display()))
}

/// Folds every constant dequantization of `input` back to f32 weights and writes `output`.
pub fn dequantize(input: &Path, output: &Path) -> Result<(), String> {
    let bytes = crate::read_model(input)?;
    let started = Instant::now();
    let folded = quantize::dequantize(&bytes).map_err(|e| format!("{}: {e}", input.display()))?;
    if folded.tensors == 0 {
        return Err(format!("{}: it has no constant DequantizeLinear weights to fold", input.display()));
    }
    print(format_args!("size: {} -> {}", size(bytes.len()), size(folded.bytes.len())))?;
    print(format_args!("tensors folded to f32: {} (in {:.2} s)", folded.tensors, started.elapsed().as_secs_f64()))?;
    write_atomically(output, &folded.bytes)?;
    print(format_args!("wrote {}", output.display()))
}

fn print_report(report: &QuantizeReport, seconds: f64) -> Result<(), String> {
    let (input, output) = (report.input_bytes, report.output_bytes);
    print(format_args!(
        "size: {} -> {}: {:.1}% of the input ({:.2}x smaller)",
        size(input),
        size(output),
        100.0 * output as f64 / input.max(1) as f64,
        input as f64 / output.max(1) as f64
    ))?;
    let per_column = report.tensors.iter().filter(|t| t.axis == Axis::Columns).count();
    let form = match report.form {
        Form::DequantizeLinear => "DequantizeLinear".to_string(),
        Form::Arithmetic => format!("Cast/Sub/Mul, as opset {} has no per-axis DequantizeLinear", report.opset),
    };
    print(format_args!(
        "tensors quantized: {} ({per_column} MatMul weights per output column, {} embedding tables per row; \
         opset {}, {form})",
        report.tensors.len(),
        report.tensors.len() - per_column,
        report.opset
    ))?;
    print(format_args!("quantized in {seconds:.2} s"))
}

fn size(bytes: usize) -> String {
    format!("{bytes} bytes ({:.1} MB)", bytes as f64 / 1e6)
}

fn run_seed(model: &[u8], tokenizer: &[u8], path: &Path) -> Result<bertscope_core::BatchRun, String> {
    let options = LoadOptions { batch_size: SEED.len(), ..Default::default() };
    let engine = Engine::new(model, tokenizer, options).map_err(|e| format!("{}: {e}", path.display()))?;
    engine.run(&SEED).map_err(|e| format!("{}: {e}", path.display()))
}

/// Writes `bytes` to a temporary file beside `path`, flushes it to disk, then renames it over
/// `path`: readers see the old file or the whole new one, never a part.
pub fn write_atomically(path: &Path, bytes: &[u8]) -> Result<(), String> {
    let name = path.file_name().ok_or_else(|| format!("{} is not a file name", path.display()))?;
    let mut temporary = name.to_os_string();
    temporary.push(format!(".{}.part", std::process::id()));
    let temporary: PathBuf = path.with_file_name(temporary);
    let written = File::create(&temporary).and_then(|mut file| {
        file.write_all(bytes)?;
        file.sync_all()
    });
    let result = written.and_then(|()| std::fs::rename(&temporary, path));
    result.map_err(|e| {
        let _ = std::fs::remove_file(&temporary);
        format!("cannot write {}: {e}", path.display())
    })
}

/// A one-line progress bar on stderr, shown only when someone is watching.
struct Progress {
    what: &'static str,
    visible: bool,
}

impl Progress {
    fn new(what: &'static str) -> Self {
        Self { what, visible: std::io::stderr().is_terminal() }
    }

    fn show(&mut self, done: usize, total: usize) {
        if self.visible {
            let filled = (done * 30).checked_div(total).unwrap_or(30);
            let _ = write!(
                std::io::stderr(),
                "\r{} [{}{}] {done}/{total} tensors",
                self.what,
                "#".repeat(filled),
                " ".repeat(30 - filled)
            );
        }
    }

    fn finish(&self) {
        if self.visible {
            crate::output::say("");
        }
    }
}
