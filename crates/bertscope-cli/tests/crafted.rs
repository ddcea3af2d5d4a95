//! Crafted model files that used to panic the engine end, through the command line, in one plain
//! line on stderr and exit status 1: no panic report, no backtrace, not status 101.

use std::path::PathBuf;
use std::process::{Command, Output};

use prost::Message;
use tract_onnx::pb::{tensor_proto::DataType, GraphProto, ModelProto};

fn models() -> PathBuf {
    bertscope_testkit::models_dir()
}

/// The tiny DistilBERT with `change` applied to its graph, written as `name` in a scratch folder.
fn mutant(name: &str, change: impl FnOnce(&mut GraphProto)) -> PathBuf {
    let bytes = std::fs::read(models().join("distilbert-tiny-random/model.onnx")).unwrap();
    let mut model = ModelProto::decode(&bytes[..]).unwrap();
    change(model.graph.as_mut().unwrap());
    let dir = std::env::temp_dir().join(format!("bertscope-crafted-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join(name);
    std::fs::write(&path, model.encode_to_vec()).unwrap();
    path
}

fn attention(model: &PathBuf) -> Output {
    let tokenizer = models().join("distilbert-tiny-random/tokenizer.json");
    Command::new(env!("CARGO_BIN_EXE_bertscope"))
        .args(["attention", "--text", "Apple is huge enterprise", "--model"])
        .arg(model)
        .arg("--tokenizer")
        .arg(tokenizer)
        // Rust's own report would add a backtrace: bertscope's must not.
        .env("RUST_BACKTRACE", "1")
        .output()
        .unwrap()
}

fn refused(out: &Output, expected: &str) {
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    assert_eq!(stderr.lines().count(), 1, "{stderr}");
    assert!(stderr.starts_with("bertscope: ") && stderr.contains(expected), "{stderr}");
    assert!(!stderr.contains("panicked") && !stderr.contains("backtrace"), "{stderr}");
    assert!(out.stdout.is_empty());
}

#[test]
fn crafted_models_end_in_one_line_and_status_1() {
    let reduce_axis = mutant("reduce-axis.onnx", |g| {
        let node = g.node.iter_mut().find(|n| n.op_type == "ReduceMean").unwrap();
        node.attribute.iter_mut().find(|a| a.name == "axes").unwrap().ints = vec![5];
    });
    refused(&attention(&reduce_axis), "reduces axis 5 of a rank-3 tensor; the file is corrupt");
    let string_tensor = mutant("string-tensor.onnx", |g| {
        let t = g.initializer.iter_mut().find(|t| t.name == "embeddings.LayerNorm.bias").unwrap();
        t.data_type = DataType::String as i32;
    });
    refused(&attention(&string_tensor), "stores STRING values as raw bytes, which cannot be read");
    // `bertscope info` on this one grew to 8.4 GB in 20 s.
    let repeated_axis = mutant("repeated-axis.onnx", |g| {
        let node = g.node.iter_mut().find(|n| n.op_type == "Transpose").unwrap();
        node.attribute.iter_mut().find(|a| a.name == "perm").unwrap().ints = vec![0, 2, 2, 3];
    });
    refused(&attention(&repeated_axis), "which names axis 2 twice; the file is corrupt");
}
