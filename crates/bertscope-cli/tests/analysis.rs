//! The analysis subcommands: `rollout`, `drift` and `fill-mask`, as scripts see them.

use std::path::PathBuf;
use std::process::{Command, Output};

use bertscope_testkit::{parse, DEFAULT_CASE};
use serde_json::Value;

fn models() -> PathBuf {
    bertscope_testkit::models_dir()
}

fn model(relative: &str) -> String {
    models().join(relative).to_str().unwrap().to_string()
}

fn bertscope(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_bertscope")).args(args).output().expect("bertscope runs")
}

fn json_of(out: &Output) -> Value {
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    serde_json::from_slice(&out.stdout).unwrap()
}

/// Exit code 1, a plain message containing `expected`, nothing on stdout.
fn fails_with(out: &Output, expected: &str) {
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    assert!(stderr.contains(expected), "{stderr}");
    assert!(!stderr.contains("panicked"), "{stderr}");
    assert!(out.stdout.is_empty());
}

fn floats(v: &Value) -> Vec<f64> {
    v.as_array().unwrap().iter().map(|x| x.as_f64().unwrap()).collect()
}

#[test]
fn fill_mask_matches_the_reference_top_10() {
    let mlm = "distilbert-tiny-random-mlm/model.onnx";
    let out = bertscope(&["fill-mask", "--model", &model(mlm), "--text", "Apple is huge [MASK]"]);
    let json = json_of(&out);
    let reference =
        parse(&std::fs::read(models().join("references/distilbert-tiny-random-mlm.fp32.ort.json")).unwrap()).unwrap();
    let sentence = reference.sentences.iter().find(|s| s.text == "Apple is huge [MASK]").unwrap();
    let want = &sentence.fill_mask.as_ref().unwrap()[0];
    let predictions = json["predictions"].as_array().unwrap();
    assert_eq!(predictions.len(), 1);
    assert_eq!(predictions[0]["position"], want.position);
    let candidates = predictions[0]["candidates"].as_array().unwrap();
    let ids: Vec<u32> = candidates.iter().map(|c| c[0].as_u64().unwrap() as u32).collect();
    assert_eq!(ids, want.top10_ids);
    for (c, p) in candidates.iter().zip(&want.top10_probs) {
        assert!((c[2].as_f64().unwrap() - *p as f64).abs() < 1e-6);
    }
    assert_eq!(candidates[0][1], "bureaucracy");

    let three =
        json_of(&bertscope(&["fill-mask", "--model", &model(mlm), "--text", "Apple is huge [MASK]", "--k", "3"]));
    assert_eq!(three["predictions"][0]["candidates"].as_array().unwrap().len(), 3);
}

#[test]
fn fill_mask_needs_a_logits_head_and_a_mask() {
    let out = bertscope(&["fill-mask", "--model", &model(DEFAULT_CASE.model), "--text", "Apple is huge [MASK]"]);
    fails_with(&out, "no fill-mask head");
    let mlm = model("distilbert-tiny-random-mlm/model.onnx");
    fails_with(&bertscope(&["fill-mask", "--model", &mlm, "--text", "no mask here"]), "no [MASK]");
}

#[test]
fn rollout_of_the_seed_batch() {
    let json = json_of(&bertscope(&[
        "rollout",
        "--model",
        &model(DEFAULT_CASE.model),
        "--text",
        "Apple is huge enterprise",
        "--text",
        "I am eating an apple",
    ]));
    assert_eq!(json["tokens"][1], serde_json::json!(["[CLS]", "i", "am", "eating", "an", "apple", "[SEP]"]));
    let rollout = json["rollout"].as_array().unwrap();
    assert_eq!(rollout.len(), 2);
    for (i, sentence) in rollout.iter().enumerate() {
        let layers = sentence.as_array().unwrap();
        assert_eq!(layers.len(), 6);
        for layer in layers {
            let rows = layer.as_array().unwrap();
            assert_eq!(rows.len(), 7);
            for row in &rows[..6] {
                let row = floats(row);
                assert!((row.iter().sum::<f64>() - 1.0).abs() < 1e-5, "sentence {i}: rows sum to 1");
                if i == 0 {
                    assert_eq!(row[6], 0.0, "nothing comes from [PAD]");
                }
            }
        }
    }
}

#[test]
fn drift_of_apple_between_senses() {
    let m = model(DEFAULT_CASE.model);
    let drift = |a: &str, b: &str| bertscope(&["drift", "--model", &m, "--text", a, "--text", b, "--word", "Apple"]);
    let across = json_of(&drift("Apple is huge enterprise", "I am eating an apple"));
    assert_eq!((across["token_a"].as_u64(), across["token_b"].as_u64()), (Some(1), Some(5)));
    let layers = floats(&across["layers"]);
    assert_eq!(layers.len(), 7, "embeddings + 6 layers");
    assert!(*layers.last().unwrap() < 1.0 - 1e-3, "{layers:?}");
    let same = floats(&json_of(&drift("I am eating an apple", "I am eating an apple"))["layers"]);
    assert!(same.iter().all(|&c| (c - 1.0).abs() < 1e-6), "{same:?}");

    fails_with(&drift("Apple is huge enterprise", "I am eating a pear"), "not among the tokens of sentence 2");
    fails_with(
        &bertscope(&["drift", "--model", &m, "--text", "one apple", "--word", "apple"]),
        "give --text exactly twice",
    );
}
