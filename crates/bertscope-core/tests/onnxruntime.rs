//! bertscope's quantized files in the ONNX tools themselves (Python, in the venv that
//! `scripts/lib/common.sh` `ensure_python_refs` makes; tests/reference/onnx_reference.py):
//! each passes onnx.checker, loads in onnxruntime as written, and gives there the attentions
//! bertscope gives; and each is byte for byte what `make_weights_int8.py` writes for the same input.
//!
//! They need Python, so a plain `cargo test` lists them as ignored (never as passed);
//! `scripts/test` runs them with `--ignored` and `BERTSCOPE_PYTHON` set, and run without
//! `BERTSCOPE_PYTHON` they fail, saying what to set.

mod common;
mod quantize_support;

use std::path::{Path, PathBuf};
use std::process::Command;

use bertscope_core::{Engine, LoadOptions, MatMulKernel};
use bertscope_testkit::{max_abs_diff, models_dir, parse, INTEGER_PRODUCTS_TOL};
use quantize_support::{at_opset_12, minilm_fp32, minilm_requantized, quantized, scratch_dir};

use common::read;

/// bertscope (tract's products) against onnxruntime on the same quantized file, every attention
/// probability of every sentence. Both compute in f32 from the same dequantized weights, adding
/// in different orders; measured: 3.0e-8 (tiny DistilBERT, masked-LM too), 3.0e-6 (MiniLM).
/// bertscope's integer products are held to the testkit's `INTEGER_PRODUCTS_TOL` instead
/// (measured: 6.6e-7 tiny, 2.1e-4 MiniLM).
const SAME_FILE_TOL: f32 = 1e-5;

fn python() -> PathBuf {
    std::env::var_os("BERTSCOPE_PYTHON").map(PathBuf::from).unwrap_or_else(|| {
        panic!(
            "BERTSCOPE_PYTHON is not set: point it at the python of the venv that \
             `source scripts/lib/common.sh && ensure_python_refs` makes (scripts/test does this)"
        )
    })
}

fn script() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../tests/reference/onnx_reference.py")
}

fn run_python(args: &[&Path]) -> Vec<u8> {
    let out = Command::new(python()).arg(script()).args(args).output().expect("python runs");
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    out.stdout
}

/// Every sentence of `reference` of at most 64 tokens, alone, through bertscope and through
/// onnxruntime on the file `model`: the largest attention difference.
fn agreement(name: &str, model: &[u8], tokenizer: &str, reference: &str, matmul: MatMulKernel) -> f32 {
    let dir = scratch_dir();
    let path = dir.join(format!("{name}.onnx"));
    std::fs::write(&path, model).unwrap();
    let engine = Engine::new(model, &read(tokenizer), LoadOptions { matmul, ..Default::default() }).unwrap();
    let texts: Vec<String> = parse(&read(reference)).unwrap().sentences.into_iter().map(|s| s.text).collect();
    let mut ids = Vec::new();
    let mut ours = Vec::new();
    for text in &texts {
        let run = engine.run(std::slice::from_ref(text)).unwrap();
        if run.batch.seq_len <= 64 {
            ids.push(run.batch.sentences[0].input_ids.clone());
            ours.push(run.runs[0].attention.as_slice().to_vec());
        }
    }
    assert!(ids.len() >= 5, "enough sentences");
    let (inputs, output) = (dir.join(format!("{name}.ids.json")), dir.join(format!("{name}.ort.json")));
    std::fs::write(&inputs, serde_json::to_vec(&ids).unwrap()).unwrap();
    run_python(&["attentions".as_ref(), &path, &inputs, &output]);
    let theirs: serde_json::Value = serde_json::from_slice(&std::fs::read(&output).unwrap()).unwrap();
    let theirs = theirs["attentions"].as_array().unwrap();
    assert_eq!(theirs.len(), ours.len());
    let worst = ours.iter().zip(theirs).map(|(o, t)| max_abs_diff(o, &floats(t))).fold(0.0, f32::max);
    println!("{name} ({matmul:?} products): {} sentences, attention max diff vs onnxruntime {worst:.2e}", ours.len());
    worst
}

fn floats(v: &serde_json::Value) -> Vec<f32> {
    match v {
        serde_json::Value::Array(items) => items.iter().flat_map(floats).collect(),
        serde_json::Value::Number(n) => vec![n.as_f64().unwrap() as f32],
        other => panic!("not a number: {other}"),
    }
}

fn check_agreement(name: &str, model: &[u8], tokenizer: &str, reference: &str) {
    let d = agreement(name, model, tokenizer, reference, MatMulKernel::Tract);
    assert!(d <= SAME_FILE_TOL, "{name}: bertscope and onnxruntime differ by {d:.2e} on the same file");
    let d = agreement(name, model, tokenizer, reference, MatMulKernel::Packed);
    assert!(d <= INTEGER_PRODUCTS_TOL.0, "{name}: bertscope's integer products and onnxruntime differ by {d:.2e}");
}

#[test]
#[ignore = "needs BERTSCOPE_PYTHON (scripts/test sets it up)"]
fn tiny_distilbert_agrees_with_onnxruntime() {
    let tokenizer = "distilbert-tiny-random/tokenizer.json";
    let reference = "references/distilbert-tiny-random.fp32.ort.json";
    check_agreement("tiny", &quantized("distilbert-tiny-random/model.onnx").bytes, tokenizer, reference);
    check_agreement("tiny-mlm", &quantized("distilbert-tiny-random-mlm/model.onnx").bytes, tokenizer, reference);
    // Below opset 13 (Cast/Sub/Mul): onnxruntime runs the form too.
    let opset_12 = quantize_support::quantized_bytes(&at_opset_12(&read("distilbert-tiny-random/model.onnx")));
    check_agreement("tiny-opset12", &opset_12, tokenizer, reference);
}

#[test]
#[ignore = "needs BERTSCOPE_PYTHON (scripts/test sets it up)"]
fn minilm_agrees_with_onnxruntime() {
    let reference = "references/minilm-l6.weights_int8.ort.json";
    check_agreement("minilm", &minilm_requantized().bytes, "minilm-l6/tokenizer.json", reference);
}

/// `make_weights_int8.py` (the script that made the shared int8 files) on `source`, against
/// bertscope's output for the same file.
fn same_bytes_as_make_weights_int8(name: &str, source: &[u8], ours: &[u8]) {
    let dir = scratch_dir();
    let (input, output) = (dir.join(format!("{name}.fp32.onnx")), dir.join(format!("{name}.py-int8.onnx")));
    std::fs::write(&input, source).unwrap();
    run_python(&["make-weights-int8".as_ref(), &models_dir(), &input, &output]);
    let theirs = std::fs::read(&output).unwrap();
    assert_eq!(theirs.len(), ours.len(), "{name}: sizes differ");
    let first = theirs.iter().zip(ours).position(|(a, b)| a != b);
    assert!(first.is_none(), "{name}: bertscope's file differs from make_weights_int8.py's at byte {first:?}");
    println!("{name}: {} bytes, identical to make_weights_int8.py's", ours.len());
}

#[test]
#[ignore = "needs BERTSCOPE_PYTHON (scripts/test sets it up)"]
fn files_are_byte_for_byte_what_make_weights_int8_writes() {
    for relative in ["distilbert-tiny-random/model.onnx", "distilbert-tiny-random-mlm/model.onnx"] {
        same_bytes_as_make_weights_int8(
            relative.split('/').next().unwrap(),
            &read(relative),
            &quantized(relative).bytes,
        );
    }
    same_bytes_as_make_weights_int8("minilm", minilm_fp32(), &minilm_requantized().bytes);
}
