//! The analysis subcommands: `rollout`, `drift` and `fill-mask`, as scripts see them.

mod common;
use common::bertscope;

use std::path::PathBuf;
use std::process::Output;

use bertscope_testkit::{parse, DEFAULT_CASE};
use serde_json::Value;

fn models() -> PathBuf {
    bertscope_testkit::models_dir()
}

fn model(relative: &str) -> String {
    models().join(relative).to_str().unwrap().to_string()
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

    fails_with(
        &drift("Apple is huge enterprise", "I am eating a pear"),
        "sentence 2 (\"I am eating a pear\"): “Apple” is not in this sentence",
    );
    fails_with(
        &bertscope(&["drift", "--model", &m, "--text", "one apple", "--word", "apple"]),
        "give --text exactly twice",
    );
}

const BANKS: &str = "The bank near the river bank flooded";
const PIECES: &str = "Tokenization is fun";

/// `rows[q]`, the mean of rows `start..end` of a square matrix given as nested JSON.
fn mean_of_rows(matrix: &Value, start: usize, end: usize) -> Vec<f64> {
    let rows: Vec<Vec<f64>> = (start..end).map(|q| floats(&matrix[q])).collect();
    (0..rows[0].len()).map(|k| rows.iter().map(|r| r[k]).sum::<f64>() / rows.len() as f64).collect()
}

/// A usage error (clap's exit code 2) naming `expected`, nothing on stdout.
fn refused_usage(out: &Output, expected: &str) {
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert!(stderr.contains(expected), "{stderr}");
    assert!(out.stdout.is_empty());
}

fn close(got: &[f64], want: &[f64], what: &str) {
    assert_eq!(got.len(), want.len(), "{what}");
    for (k, (g, w)) in got.iter().zip(want).enumerate() {
        assert!((g - w).abs() < 1e-6, "{what}, key {k}: {g} vs {w}");
    }
}

#[test]
fn drift_follows_the_nth_word_and_all_its_pieces() {
    let m = model(DEFAULT_CASE.model);
    let drift = |a: &str, b: &str, word: &str, nth: &str| {
        bertscope(&["drift", "--model", &m, "--text", a, "--text", b, "--word", word, "--nth", nth])
    };
    let second = json_of(&drift(BANKS, "A bank and another bank", "bank", "2"));
    assert_eq!((second["token_a"].as_u64(), second["token_b"].as_u64()), (Some(6), Some(5)));
    let first = json_of(&drift(BANKS, "A bank and another bank", "bank", "1"));
    assert_eq!((first["token_a"].as_u64(), first["token_b"].as_u64()), (Some(2), Some(2)));
    assert_ne!(floats(&first["layers"]), floats(&second["layers"]), "the occurrence changes the numbers");
    fails_with(
        &drift(BANKS, "A bank and another bank", "bank", "3"),
        "sentence 1 (\"The bank near the river bank flooded\"): “bank” is in this sentence only 2 times, not a 3rd",
    );
    refused_usage(&drift(BANKS, BANKS, "bank", "0"), "--nth");

    // A word of two pieces: both pieces, in both sentences.
    let pieces = json_of(&drift(PIECES, "I like tokenization", "tokenization", "1"));
    assert_eq!(pieces["word_a"], serde_json::json!({ "start": 1, "end": 3, "text": "tokenization" }));
    assert_eq!(pieces["word_b"], serde_json::json!({ "start": 3, "end": 5, "text": "tokenization" }));
    fails_with(&drift(PIECES, "I like tokenization", "token", "1"), "“token” is not in this sentence");
}

#[test]
fn the_word_row_of_rollout_and_attention() {
    let m = model(DEFAULT_CASE.model);
    // Rollout: the word's row is the mean of its pieces' rows; by word, each word's pieces summed.
    let out = json_of(&bertscope(&["rollout", "--model", &m, "--text", PIECES, "--word", "Tokenization"]));
    let word = &out["word"][0];
    assert_eq!(word["word"], serde_json::json!({ "start": 1, "end": 3, "text": "tokenization" }));
    assert_eq!(word["words"], serde_json::json!(["tokenization", "is", "fun"]));
    let layers = out["rollout"][0].as_array().unwrap().len();
    assert_eq!(word["rows"].as_array().unwrap().len(), layers);
    for l in 0..layers {
        let want = mean_of_rows(&out["rollout"][0][l], 1, 3);
        let row = floats(&word["rows"][l]);
        close(&row, &want, &format!("rollout row, layer {}", l + 1));
        assert!((row.iter().sum::<f64>() - 1.0).abs() < 1e-5, "a mean of rows summing to 1 sums to 1");
        let by_word = floats(&word["row_by_word"][l]);
        close(&by_word, &[want[1] + want[2], want[3], want[4]], &format!("rollout by word, layer {}", l + 1));
    }

    // Attention: the 2nd "bank", every layer and head, is that token's own row.
    let out = json_of(&bertscope(&["attention", "--model", &m, "--text", BANKS, "--word", "bank", "--nth", "2"]));
    let word = &out["word"][0];
    assert_eq!(word["word"], serde_json::json!({ "start": 6, "end": 7, "text": "bank" }));
    let attentions = out["attentions"][0].as_array().unwrap();
    for (l, layer) in attentions.iter().enumerate() {
        for (h, head) in layer.as_array().unwrap().iter().enumerate() {
            close(&floats(&word["rows"][l][h]), &floats(&head[6]), &format!("layer {}, head {}", l + 1, h + 1));
        }
    }
    fails_with(
        &bertscope(&["attention", "--model", &m, "--text", BANKS, "--word", "bank", "--nth", "3"]),
        "only 2 times, not a 3rd",
    );
    refused_usage(&bertscope(&["rollout", "--model", &m, "--text", BANKS, "--nth", "2"]), "--word");
}
