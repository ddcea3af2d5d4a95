//! The token map: every real token of a batch placed in 2-D by a PCA of its final hidden vector.

use serde::Serialize;

use super::pca;
use crate::output::BatchRun;

/// Every real token of every sentence placed in 2-D by PCA of its final hidden vector.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[cfg_attr(feature = "tsify", derive(tsify::Tsify))]
pub struct TokenMap {
    /// One entry per point: `(sentence, token position, token text)`.
    pub tokens: Vec<(usize, usize, String)>,
    /// `[x, y]` per point, in the same order.
    pub points: Vec<[f32; 2]>,
    /// Share of variance along each axis.
    pub explained_variance_ratio: [f32; 2],
}

/// PCA of the last layer's vectors of all real (unpadded) tokens across the batch.
pub fn token_map(run: &BatchRun) -> TokenMap {
    let mut tokens = Vec::new();
    let mut vectors = Vec::new();
    for (s, (sentence, sentence_run)) in run.batch.sentences.iter().zip(&run.runs).enumerate() {
        let last = sentence_run.hidden.shape()[0] - 1;
        for t in 0..sentence.len {
            tokens.push((s, t, sentence.tokens[t].clone()));
            vectors.push(sentence_run.hidden.vector(last, t));
        }
    }
    let projection = pca(&vectors);
    TokenMap { tokens, points: projection.points, explained_variance_ratio: projection.explained_variance_ratio }
}
