//! How a token's hidden vector compares across sentences, layer by layer.

use serde::Serialize;

use super::find_word;
use crate::output::{BatchRun, HiddenStates};
use crate::tokenize::Word;

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
    /// Token position of the word (its first piece) in the first sentence.
    pub token_a: usize,
    /// Token position of the word (its first piece) in the second sentence.
    pub token_b: usize,
    /// The word's pieces in the first sentence.
    pub word_a: Word,
    /// The word's pieces in the second sentence.
    pub word_b: Word,
    /// Cosine similarity at the embeddings, then after each layer.
    pub cosine: Vec<f32>,
}

/// Cosine drift of the first `word` between sentences `a` and `b`; `None` if either lacks the word.
pub fn word_drift(run: &BatchRun, a: usize, b: usize, word: &str) -> Option<WordDrift> {
    word_drift_at(run, a, b, word, 1)
}

/// Cosine drift of the `occurrence`-th `word` (see `find_word`) between sentences `a` and `b`;
/// `None` if either lacks it. A word of several pieces is compared by the mean of its pieces'
/// vectors.
pub fn word_drift_at(run: &BatchRun, a: usize, b: usize, word: &str, occurrence: usize) -> Option<WordDrift> {
    let word_a = find_word(run.batch.sentences.get(a)?, word, occurrence).ok()?;
    let word_b = find_word(run.batch.sentences.get(b)?, word, occurrence).ok()?;
    let (hidden_a, hidden_b) = (&run.runs.get(a)?.hidden, &run.runs.get(b)?.hidden);
    let levels = hidden_a.shape()[0];
    let cosine = (0..levels)
        .map(|level| cosine(&mean_vector(hidden_a, level, &word_a), &mean_vector(hidden_b, level, &word_b)))
        .collect();
    Some(WordDrift { token_a: word_a.start, token_b: word_b.start, word_a, word_b, cosine })
}

/// The mean of the word's pieces' vectors at `level`.
fn mean_vector(hidden: &HiddenStates, level: usize, word: &Word) -> Vec<f32> {
    let width = hidden.shape()[2];
    let pieces = (word.end - word.start).max(1) as f32;
    let mut sum = vec![0.0f32; width];
    for token in word.start..word.end {
        for (s, &v) in sum.iter_mut().zip(hidden.vector(level, token)) {
            *s += v;
        }
    }
    sum.iter_mut().for_each(|s| *s /= pieces);
    sum
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
