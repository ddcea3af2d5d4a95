//! The GEMM kernels against the plain triple loop of the testkit (the browser tests run the
//! same cases with the simd128 kernels).

use bertscope_core::kernels::gemm::{gemm, PackedB};
use bertscope_core::kernels::qgemm::{qgemm, QuantizedB};
use bertscope_core::kernels::Weights;
use bertscope_testkit::{check_gemm, check_l1_from_mixtures, check_qgemm, gemm_values, step_weights};

fn packed_gemm(a: &[f32], m: usize, b: &[f32], k: usize, n: usize, bias: Option<&[f32]>) -> Vec<f32> {
    let mut c = vec![f32::NAN; m * n];
    gemm(a, m, &PackedB::pack(b, k, n), bias, &mut c);
    c
}

#[test]
fn gemm_matches_the_triple_loop() {
    let failures = check_gemm(&packed_gemm);
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

#[test]
fn gemm_refuses_mismatched_lengths() {
    let packed = PackedB::pack(&[1.0; 6], 2, 3);
    let result = std::panic::catch_unwind(|| gemm(&[1.0; 5], 3, &packed, None, &mut [0.0; 9]));
    assert!(result.is_err());
}

fn quantized_gemm(a: &[f32], m: usize, b: &[f32], k: usize, n: usize, bias: Option<&[f32]>) -> Vec<f32> {
    let weights = QuantizedB::detect(b, k, n).expect("whole steps are detected");
    let mut c = vec![f32::NAN; m * n];
    qgemm(a, m, &weights, bias, &mut c);
    c
}

#[test]
fn qgemm_matches_the_triple_loop() {
    let failures = check_qgemm(&quantized_gemm);
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

#[test]
fn weights_choose_their_kernel() {
    let (k, n) = (33, 15);
    assert!(matches!(Weights::prepare(&step_weights(k, n, 3), k, n), Weights::Quantized(_)));
    assert!(matches!(Weights::prepare(&gemm_values(k * n, 3), k, n), Weights::Float(_)));
}

fn mixture_l1(targets: &[f32], weights: &[f32], vectors: &[f32], width: usize, parts: usize, rows: usize) -> Vec<f32> {
    let mut out = vec![f32::NAN; rows];
    bertscope_core::kernels::mixture::l1_from_mixtures(targets, weights, vectors, width, parts, &mut out);
    out
}

/// ALTI's distance kernel against its definition (natively the plain loop; the browser tests run
/// the simd128 one on the same cases).
#[test]
fn l1_from_mixtures_matches_the_definition() {
    let failures = check_l1_from_mixtures(&mixture_l1);
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}
