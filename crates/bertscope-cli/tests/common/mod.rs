//! Helpers shared by the CLI's integration tests.
#![allow(dead_code)]

use std::process::{Command, Output};

use serde_json::Value;

/// Runs the `bertscope` binary with `args` and waits for it.
pub fn bertscope(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_bertscope")).args(args).output().expect("bertscope runs")
}

/// Every number of a (nested) JSON array, in order, as f32.
pub fn floats(v: &Value) -> Vec<f32> {
    match v {
        Value::Array(items) => items.iter().flat_map(floats).collect(),
        Value::Number(n) => vec![n.as_f64().unwrap() as f32],
        other => panic!("not a number: {other}"),
    }
}
