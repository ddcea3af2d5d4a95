//! Every shared model variant against its onnxruntime reference: ids, tokens, masks exact;
//! attentions and hidden states within the documented tolerances; rows summing to 1.

mod common;

use bertscope_core::MatMulKernel;
use bertscope_testkit::{parse, verify, Case, CASES};

/// Checks `case` with tract's products and with bertscope's packed GEMM (the wasm default).
fn check(case: &Case) {
    for matmul in [MatMulKernel::Tract, MatMulKernel::Packed] {
        check_with(case, matmul);
    }
}

fn check_with(case: &Case, matmul: MatMulKernel) {
    let engine = common::engine_with(case, matmul);
    let case = &case.with_kernel(matmul == MatMulKernel::Packed);
    let reference = parse(&common::read(case.reference)).expect("reference parses");
    assert_eq!(engine.info().layers, reference.num_layers, "layers");
    assert_eq!(engine.info().heads, reference.num_heads, "heads");
    let report = verify(case, &reference, |texts| {
        engine.run(texts).map(|a| common::observed(&engine, &a)).map_err(|e| e.to_string())
    });
    println!("{} ({}, {matmul:?} products)", case.model, engine.info().quantization);
    for line in &report.lines {
        println!("  {line}");
    }
    assert!(report.failures.is_empty(), "{}:\n{}", case.model, report.failures.join("\n"));
    assert!(report.lines.len() >= reference.sentences.len(), "every sentence was compared");
}

#[test]
fn minilm_weights_int8() {
    check(&CASES[0]);
}

#[test]
fn minilm_quint8() {
    check(&CASES[1]);
}

#[test]
fn minilm_qint8() {
    check(&CASES[2]);
}

#[test]
fn distilbert_tiny_fp32() {
    check(&CASES[3]);
}

#[test]
fn distilbert_tiny_quint8() {
    check(&CASES[4]);
}

#[test]
fn distilbert_tiny_qint8() {
    check(&CASES[5]);
}

#[test]
fn distilbert_tiny_mlm_fp32() {
    check(&CASES[6]);
}

#[test]
fn distilbert_tiny_mlm_quint8() {
    check(&CASES[7]);
}
