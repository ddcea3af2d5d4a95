//! What each fuzz target checks of one input, as plain functions: the libFuzzer binaries in
//! `fuzz_targets/` call them, and `crates/bertscope-core/tests/fuzz_seeds.rs` replays every seed
//! through them in `cargo test`, so past findings stay fixed without an instrumented build.
//! Each `check` returns, or panics on a finding.
#![allow(dead_code)]

pub mod fixtures;
pub mod model_bytes;
pub mod mutated_model;
pub mod onnx_attributes;
pub mod text;
pub mod tokenizer_json;
