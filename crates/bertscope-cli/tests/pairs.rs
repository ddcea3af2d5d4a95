//! `--pair A B` and `--text "A | B"`: the tokenizer's pair encoding, type ids in the JSON, the
//! attention of MiniLM (which reads type ids) and DistilBERT (which has none), plain errors.
//!
//! The `#[ignore]`d test compares with the Python reference (`tests/reference/pair_reference.py`)
//! that `scripts/test` writes into `$BERTSCOPE_PAIR_REFS` and runs with `--ignored`.

mod common;
use common::{bertscope, floats};

use std::path::PathBuf;

use bertscope_testkit::{models_dir, pair_attention_diff, parse_pairs, CASES, DEFAULT_CASE};
use serde_json::{json, Value};

fn model(relative: &str) -> String {
    models_dir().join(relative).to_str().unwrap().to_string()
}

fn attention(model_file: &str, args: &[&str]) -> Value {
    let model = model(model_file);
    let out = bertscope(&[&["attention", "--model", &model], args].concat());
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    serde_json::from_slice(&out.stdout).unwrap()
}

#[test]
fn pair_flag_runs_the_pair_template() {
    for case in [&DEFAULT_CASE, &CASES[3]] {
        let flag =
            attention(case.model, &["--text", "Hello there", "--pair", "The cat sat.", "It was tired | sleepy."]);
        let type_ids = [vec![0; 13], vec![0, 0, 0, 0, 0, 0, 1, 1, 1, 1, 1, 1, 1]];
        assert_eq!(flag["token_type_ids"], json!(type_ids), "{}", case.model);
        assert_eq!(flag["sentence_b_start"], json!([null, 6]));
        assert_eq!(
            flag["tokens"][1],
            json!(["[CLS]", "the", "cat", "sat", ".", "[SEP]", "it", "was", "tired", "|", "sleepy", ".", "[SEP]"]),
        );
        // The same pair written as one line: the same run.
        let line =
            attention(case.model, &["--text", "Hello there", "--text", r"The cat sat. | It was tired \| sleepy."]);
        assert_eq!(line["input_ids"], flag["input_ids"]);
        assert_eq!(line["token_type_ids"], flag["token_type_ids"]);
        assert_eq!(floats(&line["attentions"]), floats(&flag["attentions"]), "{}", case.model);
    }
}

#[test]
fn bad_pairs_are_a_message_and_an_exit_code() {
    let minilm = model(DEFAULT_CASE.model);
    for (args, says) in [
        (vec!["--pair", "  ", "b"], "--pair: sentence A is empty"),
        (vec!["--pair", "a", ""], "--pair: sentence B is empty"),
        (vec!["--text", "ok", "--text", "a | "], "sentence 2 has nothing after its “|”"),
        (vec!["--text", "a | b | c"], "sentence 1 has 2 “|”"),
    ] {
        let out = bertscope(&[&["attention", "--model", &minilm], args.as_slice()].concat());
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(1), "{args:?}: {stderr}");
        assert!(stderr.contains(says), "{args:?}: {stderr}");
        assert!(!stderr.contains("panicked"), "{stderr}");
    }
    let out = bertscope(&["attention", "--model", &minilm, "--pair", "only one"]);
    assert_eq!(out.status.code(), Some(2), "clap refuses a --pair with one sentence");
}

#[test]
fn rollout_and_mixing_take_pairs_too() {
    let tiny = model(CASES[3].model);
    for command in ["rollout", "mixing"] {
        let out = bertscope(&[command, "--model", &tiny, "--pair", "The cat sat.", "It was tired."]);
        assert!(out.status.success(), "{command}: {}", String::from_utf8_lossy(&out.stderr));
        let json: Value = serde_json::from_slice(&out.stdout).unwrap();
        assert_eq!(json["tokens"][0][5], "[SEP]", "{command}");
        assert_eq!(json["tokens"][0][6], "it", "{command}");
    }
}

#[test]
#[ignore = "needs BERTSCOPE_PAIR_REFS (scripts/test makes them with Python)"]
fn pair_flag_matches_the_python_reference() {
    let dir = std::env::var_os("BERTSCOPE_PAIR_REFS").map(PathBuf::from).unwrap_or_else(|| {
        panic!("BERTSCOPE_PAIR_REFS is not set: run `python tests/reference/pair_reference.py generate MODELS_DIR OUT_DIR`")
    });
    let reference = parse_pairs(&std::fs::read(dir.join("pairs.json")).expect("pairs.json")).unwrap();
    for m in &reference.models {
        let tol = CASES.iter().find(|c| c.model == m.model).expect("a case").attention_tol;
        let args: Vec<&str> = m.pairs.iter().flat_map(|p| ["--pair", &p.input[0], &p.input[1]]).collect();
        let json = attention(&m.model, &args);
        for (i, p) in m.pairs.iter().enumerate() {
            let n = p.input_ids.len();
            let unpadded =
                |v: &Value| -> Vec<u64> { v.as_array().unwrap()[..n].iter().map(|x| x.as_u64().unwrap()).collect() };
            assert_eq!(unpadded(&json["input_ids"][i]), p.input_ids.iter().map(|&x| x as u64).collect::<Vec<_>>());
            assert_eq!(
                unpadded(&json["token_type_ids"][i]),
                p.token_type_ids.iter().map(|&x| x as u64).collect::<Vec<_>>()
            );
            // Padded in the batch: compare the real tokens' rows and columns.
            let padded = json["input_ids"][i].as_array().unwrap().len();
            let all = floats(&json["attentions"][i]);
            let real: Vec<f32> = all
                .chunks(padded)
                .enumerate()
                .filter(|(row, _)| row % padded < n)
                .flat_map(|(_, r)| r[..n].to_vec())
                .collect();
            let diff = pair_attention_diff(&real, &p.flat_attentions().unwrap()).unwrap();
            // Padding keys get exactly 0, so a real row is the unpadded row (a batch of one per pair in the reference).
            assert!(diff <= tol, "{} pair {i}: attention differs by {diff} (tolerance {tol})", m.name);
        }
    }
}
