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

use std::ops::Range;

use gemm::{PackedB, NR};
use qgemm::{QuantizedB, QuantizedRows};

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

    /// Column panels of the packed weights, [`NR`] columns each (the last one may be narrower).
    pub fn panels(&self) -> usize {
        self.n().div_ceil(NR)
    }

    /// `c = a · B + bias` with the matching kernel; see [`gemm::gemm`].
    pub fn gemm(&self, a: &[f32], m: usize, bias: Option<&[f32]>, c: &mut [f32]) {
        match self {
            Self::Quantized(b) => qgemm::qgemm(a, m, b, bias, c),
            Self::Float(b) => gemm::gemm(a, m, b, bias, c),
        }
    }

    /// The row-major `m × k` activations `a` as this matrix's kernel reads them, for
    /// [`Weights::gemm_panels`]: rounded once for the integer kernel, as they are for the other.
    /// Panics unless `a.len() == m * k`.
    pub fn activations<'a>(&self, a: &'a [f32], m: usize) -> Activations<'a> {
        match self {
            Self::Quantized(b) => Activations::Rounded(QuantizedRows::new(a, m, b.k())),
            Self::Float(b) => {
                assert_eq!(a.len(), m * b.k(), "activations are not {m} x {}", b.k());
                Activations::Plain { a, m }
            }
        }
    }

    /// The columns of panels `panels` of `c = a · B + bias`, with the same bits as those
    /// columns of [`Weights::gemm`], into `rows`: the `m` rows of `c`, each from the first of
    /// those columns on and at least as wide as they are ([`gemm::panel_columns`]). Panics on
    /// mismatched lengths, or if `a` was made for weights of the other kind.
    pub fn gemm_panels(&self, a: &Activations, bias: Option<&[f32]>, panels: Range<usize>, rows: &mut [&mut [f32]]) {
        match (self, a) {
            (Self::Quantized(b), Activations::Rounded(a)) => qgemm::qgemm_panels(a, b, bias, panels, rows),
            (Self::Float(b), &Activations::Plain { a, m }) => gemm::gemm_panels(a, m, b, bias, panels, rows),
            _ => panic!("activations made for the other kind of weights"),
        }
    }
}

/// Activations made ready once ([`Weights::activations`]) for several column parts of one
/// product ([`Weights::gemm_panels`]).
pub enum Activations<'a> {
    /// Rounded to `i16` blocks for the integer kernel.
    Rounded(QuantizedRows),
    /// As given, for the f32 kernel.
    Plain {
        /// The rows, row-major.
        a: &'a [f32],
        /// How many rows.
        m: usize,
    },
}
