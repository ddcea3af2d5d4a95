//! The `bertscope` binary as people script it: JSON out, plain errors, exit codes.

mod common;
use common::{bertscope, floats};

use std::path::PathBuf;

use bertscope_testkit::{max_abs_diff, parse, DEFAULT_CASE};
use serde_json::Value;

fn models() -> PathBuf {
    bertscope_testkit::models_dir()
}

#[test]
fn seed_batch_matches_the_batch_reference() {
    let model = models().join(DEFAULT_CASE.model);
    let out = bertscope(&[
        "attention",
        "--model",
        model.to_str().unwrap(),
        "--text",
        "Apple is huge enterprise",
        "--text",
        "I am eating an apple",
    ]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let json: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(
        json["input_ids"],
        serde_json::json!([[101, 6207, 2003, 4121, 6960, 102, 0], [101, 1045, 2572, 5983, 2019, 6207, 102]])
    );
    assert_eq!(json["attention_mask"], serde_json::json!([[1, 1, 1, 1, 1, 1, 0], [1, 1, 1, 1, 1, 1, 1]]));
    assert_eq!(json["tokens"][0], serde_json::json!(["[CLS]", "apple", "is", "huge", "enterprise", "[SEP]", "[PAD]"]));
    assert_eq!(json["truncated"], serde_json::json!([false, false]));
    let reference = parse(&std::fs::read(models().join(DEFAULT_CASE.reference)).unwrap()).unwrap();
    let batch = reference.batch.unwrap();
    for i in 0..2 {
        let want: Vec<f32> = batch.attentions[i].iter().flatten().flatten().flatten().copied().collect();
        let got = floats(&json["attentions"][i]);
        assert!(max_abs_diff(&got, &want) < DEFAULT_CASE.attention_tol, "sentence {i}");
    }
    assert_eq!(json["last_hidden_state"][1].as_array().unwrap().len(), 7);
    assert_eq!(json["last_hidden_state"][1][0].as_array().unwrap().len(), 384);
}

#[test]
fn bad_input_is_a_message_and_an_exit_code() {
    let dir = std::env::temp_dir().join(format!("bertscope-cli-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let empty = dir.join("empty.onnx");
    std::fs::write(&empty, b"").unwrap();
    let tokenizer = models().join(DEFAULT_CASE.tokenizer);
    for (model, expected) in [
        (empty.to_str().unwrap().to_string(), "empty"),
        (dir.join("missing.onnx").to_str().unwrap().to_string(), "cannot read"),
        (tokenizer.to_str().unwrap().to_string(), "not a readable ONNX model"),
    ] {
        let out =
            bertscope(&["attention", "--model", &model, "--tokenizer", tokenizer.to_str().unwrap(), "--text", "hi"]);
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(1), "{model}: {stderr}");
        assert!(stderr.contains(expected), "{model}: {stderr}");
        assert!(!stderr.contains("panicked"), "{stderr}");
        assert!(out.stdout.is_empty());
    }
}

#[test]
fn info_describes_the_model() {
    let model = models().join(DEFAULT_CASE.model);
    let out = bertscope(&["info", "--model", model.to_str().unwrap()]);
    assert!(out.status.success());
    let info: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(info["layers"], 6);
    assert_eq!(info["heads"], 12);
    assert_eq!(info["quantization"], "weight-only int8 (per-channel)");
}
