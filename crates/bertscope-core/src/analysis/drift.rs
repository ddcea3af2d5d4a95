//! How a token's hidden vector compares across sentences, layer by layer.

use serde::Serialize;

use super::find_token;
use crate::output::{BatchRun, HiddenStates};

/// Cosine similarity of two equally long vectors, accumulated in `f64`; 0 when either is all zeros.
///
/// # Panics
/// If the lengths differ.
pub fn cosine(a: &[f32], b: &[f32]) -> f32 {
    assert_eq!(a.len(), b.len(), "cosine of vectors of different lengths");
    let (mut dot, mut aa, mut bb) = (0.0f64, 0.0f64, 0.0f64);
    for (&x, &y) in a.iter().zip(b) {
        let (x, y) = (x as f64, y as f64);
        dot += x * y;
        aa += x * x;
        bb += y * y;
    }
    if aa == 0.0 || bb == 0.0 {
        0.0
    } else {
        (dot / (aa.sqrt() * bb.sqrt())) as f32
    }
}

/// Cosine similarity of token `token_a`'s hidden vector in sentence A and token `token_b`'s in
/// sentence B at every level: the embeddings first, then each layer's output
/// (`HiddenStates::shape()[0]` values).
///
/// # Panics
/// If the two runs' shapes differ in levels or width, or a token index is out of range.
pub fn drift(a: &HiddenStates, token_a: usize, b: &HiddenStates, token_b: usize) -> Vec<f32> {
    let ([levels, _, width], [levels_b, _, width_b]) = (a.shape(), b.shape());
    assert!(levels == levels_b && width == width_b, "hidden states of different models");
    (0..levels).map(|level| cosine(a.vector(level, token_a), b.vector(level, token_b))).collect()
}

/// How one word's hidden vector compares between two sentences, level by level.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[cfg_attr(feature = "tsify", derive(tsify::Tsify))]
pub struct WordDrift {
    /// Token position of the word in the first sentence.
    pub token_a: usize,
    /// Token position of the word in the second sentence.
    pub token_b: usize,
    /// Cosine similarity at the embeddings, then after each layer.
    pub cosine: Vec<f32>,
}

/// Cosine drift of `word` between sentences `a` and `b`; `None` if either lacks the word.
pub fn word_drift(run: &BatchRun, a: usize, b: usize, word: &str) -> Option<WordDrift> {
    let token_a = find_token(run.batch.sentences.get(a)?, word)?;
    let token_b = find_token(run.batch.sentences.get(b)?, word)?;
    let cosine = drift(&run.runs[a].hidden, token_a, &run.runs[b].hidden, token_b);
    Some(WordDrift { token_a, token_b, cosine })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cosine_of_simple_vectors() {
        assert_eq!(cosine(&[1.0, 0.0], &[0.0, 2.0]), 0.0);
        assert!((cosine(&[1.0, 1.0], &[2.0, 2.0]) - 1.0).abs() < 1e-7);
        assert!((cosine(&[1.0, 0.0], &[-3.0, 0.0]) + 1.0).abs() < 1e-7);
        assert!((cosine(&[1.0, 0.0], &[1.0, 1.0]) - std::f32::consts::FRAC_1_SQRT_2).abs() < 1e-7);
        assert_eq!(cosine(&[0.0, 0.0], &[1.0, 1.0]), 0.0);
    }

    #[test]
    fn drift_compares_level_by_level() {
        // Two levels, two tokens, width 2.
        let mut a = HiddenStates::zeros(2, 2, 2);
        let mut b = HiddenStates::zeros(2, 2, 2);
        a.layer_mut(0).copy_from_slice(&[1.0, 0.0, 0.0, 1.0]);
        a.layer_mut(1).copy_from_slice(&[0.0, 0.0, 3.0, 4.0]);
        b.layer_mut(0).copy_from_slice(&[5.0, 5.0, 2.0, 0.0]);
        b.layer_mut(1).copy_from_slice(&[4.0, 3.0, 0.0, 1.0]);
        // Token 1 of A against token 0 of B: (0,1)·(5,5) → 1/√2; (3,4)·(4,3) = 24/25.
        let d = drift(&a, 1, &b, 0);
        assert!((d[0] - std::f32::consts::FRAC_1_SQRT_2).abs() < 1e-7);
        assert!((d[1] - 0.96).abs() < 1e-7);
    }
}
