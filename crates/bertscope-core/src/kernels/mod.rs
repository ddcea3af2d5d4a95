//! Hand-written compute kernels for the hot spots tract leaves slow in wasm, and for ALTI's inner
//! loop ([`mixture`]).
//!
//! [`Weights`] prepares a constant weight matrix once at load for one of two GEMMs: [`qgemm`]
//! when every column is a whole multiple of a step (int8 weights folded to f32), [`gemm`]
//! otherwise. The model loader plugs them into tract's graph in place of constant-weight
//! matrix products.

mod aligned;
pub mod gemm;
pub mod mixture;
pub mod qgemm;
#[cfg(all(target_arch = "wasm32", target_feature = "simd128"))]
mod simd128;
pub mod split;

use gemm::PackedB;
use qgemm::QuantizedB;

/// A constant `k × n` weight matrix, packed for the kernel that suits it.
#[derive(Debug, Clone, PartialEq)]
pub enum Weights {
    /// Integer steps per column: multiplied in integers by [`qgemm::qgemm`].
    Quantized(QuantizedB),
    /// Any other values: multiplied in f32 by [`gemm::gemm`].
    Float(PackedB),
}

impl Weights {
    /// Packs a row-major `k × n` matrix, in integers where it is made of integer steps.
    /// Panics if `b.len() != k * n`.
    pub fn prepare(b: &[f32], k: usize, n: usize) -> Self {
        QuantizedB::detect(b, k, n).map_or_else(|| Self::Float(PackedB::pack(b, k, n)), Self::Quantized)
    }

    /// Inner dimension (rows of `B`).
    pub fn k(&self) -> usize {
        match self {
            Self::Quantized(b) => b.k(),
            Self::Float(b) => b.k(),
        }
    }

    /// Output width (columns of `B`).
    pub fn n(&self) -> usize {
        match self {
            Self::Quantized(b) => b.n(),
            Self::Float(b) => b.n(),
        }
    }

    /// `c = a · B + bias` with the matching kernel; see [`gemm::gemm`].
    pub fn gemm(&self, a: &[f32], m: usize, bias: Option<&[f32]>, c: &mut [f32]) {
        match self {
            Self::Quantized(b) => qgemm::qgemm(a, m, b, bias, c),
            Self::Float(b) => gemm::gemm(a, m, b, bias, c),
        }
    }
}
