//! `bertscope quantize` and `bertscope dequantize` as scripts (fetch-model) call them: the file
//! written whole, the report on stdout, refusals as a message and exit code 1 that leave the
//! output alone.

use std::ffi::OsStr;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use bertscope_core::quantize::{attention_change, dequantize, quantize};
use bertscope_core::{Engine, LoadOptions};

const SEED: [&str; 2] = ["Apple is huge enterprise", "I am eating an apple"];

fn models() -> PathBuf {
    bertscope_testkit::models_dir()
}

fn bertscope<S: AsRef<OsStr>>(args: &[S]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_bertscope")).args(args).output().expect("bertscope runs")
}

fn scratch(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("bertscope-cli-quantize-{}-{name}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

fn seed_run(model: &[u8], tokenizer: &[u8]) -> bertscope_core::BatchRun {
    Engine::new(model, tokenizer, LoadOptions::default()).unwrap().run(&SEED).unwrap()
}

#[test]
fn quantize_writes_the_file_and_reports_sizes_tensors_and_attention_change() {
    let dir = scratch("ok");
    let (input, output) = (models().join("distilbert-tiny-random/model.onnx"), dir.join("tiny-int8.onnx"));
    let out = bertscope(&[OsStr::new("quantize"), input.as_os_str(), OsStr::new("-o"), output.as_os_str()]);
    let stdout = String::from_utf8(out.stdout).unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    println!("{stdout}");
    let source = std::fs::read(&input).unwrap();
    let expected = quantize(&source, |_, _| {}).unwrap();
    let written = std::fs::read(&output).unwrap();
    assert!(written == expected.bytes, "the file written is the library's output");
    let (a, b) = (source.len(), written.len());
    let sizes = format!(
        "size: {a} bytes ({:.1} MB) -> {b} bytes ({:.1} MB): {:.1}% of the input ({:.2}x smaller)",
        a as f64 / 1e6,
        b as f64 / 1e6,
        100.0 * b as f64 / a as f64,
        a as f64 / b as f64
    );
    assert!(stdout.contains(&sizes), "{sizes}");
    assert!(stdout.contains(
        "tensors quantized: 14 (12 MatMul weights per output column, 2 embedding tables per row; opset 14, DequantizeLinear)"
    ));
    // The change it prints is the one measured here from both files.
    let tokenizer = std::fs::read(models().join("distilbert-tiny-random/tokenizer.json")).unwrap();
    let want = attention_change(&seed_run(&source, &tokenizer), &seed_run(&written, &tokenizer)).unwrap().max;
    let printed: f32 = stdout
        .split_once(
            "largest attention change on the seed sentences [\"Apple is huge enterprise\", \"I am eating an apple\"]: ",
        )
        .and_then(|(_, rest)| rest.split_once(' '))
        .map(|(number, _)| number.parse().unwrap())
        .expect("the attention change line");
    assert!((printed - want).abs() <= want * 1e-3, "printed {printed}, measured {want}");
    assert!(want > 0.0 && want < 1e-3, "{want}");
    let leftovers: Vec<_> = std::fs::read_dir(&dir).unwrap().map(|e| e.unwrap().file_name()).collect();
    assert_eq!(leftovers, [OsStr::new("tiny-int8.onnx")], "no temporary file is left");
}

#[test]
fn refusals_exit_1_with_a_plain_message_and_leave_the_output_alone() {
    let dir = scratch("refused");
    let output = dir.join("existing.onnx");
    let tokenizer = models().join("distilbert-tiny-random/tokenizer.json");
    let cases: [(PathBuf, &str); 4] = [
        (models().join("minilm-l6/model_quantized.onnx"), "this model is already quantized: dynamic int8"),
        (models().join("minilm-l6/model_weights_int8.onnx"), "this model is already quantized: weight-only int8"),
        (tokenizer.clone(), "this is not a readable ONNX model"),
        (dir.join("missing.onnx"), "cannot read model"),
    ];
    for (input, says) in cases {
        std::fs::write(&output, b"the previous file").unwrap();
        let args = [OsStr::new("quantize"), input.as_os_str(), OsStr::new("-o"), output.as_os_str()];
        let out = bertscope(&[&args[..], &[OsStr::new("--tokenizer"), tokenizer.as_os_str()]].concat());
        let stderr = String::from_utf8_lossy(&out.stderr);
        println!("{stderr}");
        assert_eq!(out.status.code(), Some(1), "{stderr}");
        assert!(stderr.starts_with("bertscope: ") && stderr.contains(says), "{stderr}");
        assert!(!stderr.contains("panicked"));
        assert_eq!(std::fs::read(&output).unwrap(), b"the previous file");
    }
}

#[test]
fn quantize_needs_a_tokenizer_to_measure_the_change() {
    let dir = scratch("no-tokenizer");
    let input = dir.join("model.onnx");
    std::fs::copy(models().join("distilbert-tiny-random/model.onnx"), &input).unwrap();
    let output = dir.join("out.onnx");
    let out = bertscope(&[OsStr::new("quantize"), input.as_os_str(), OsStr::new("-o"), output.as_os_str()]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    assert!(stderr.contains("cannot read tokenizer") && stderr.contains("--tokenizer"), "{stderr}");
    assert!(!Path::new(&output).exists());
}

#[test]
fn dequantize_folds_the_weights_back_to_f32() {
    let dir = scratch("dequantize");
    let (input, output) = (models().join("minilm-l6/model_weights_int8.onnx"), dir.join("minilm-fp32.onnx"));
    let out = bertscope(&[OsStr::new("dequantize"), input.as_os_str(), OsStr::new("-o"), output.as_os_str()]);
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    assert!(stdout.contains("tensors folded to f32: 38"), "{stdout}");
    let written = std::fs::read(&output).unwrap();
    assert!(written == dequantize(&std::fs::read(&input).unwrap()).unwrap().bytes);
    // An fp32 file has nothing to fold.
    let fp32 = models().join("distilbert-tiny-random/model.onnx");
    let out =
        bertscope(&[OsStr::new("dequantize"), fp32.as_os_str(), OsStr::new("-o"), dir.join("x.onnx").as_os_str()]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1));
    assert!(stderr.contains("it has no constant DequantizeLinear weights to fold"), "{stderr}");
}
