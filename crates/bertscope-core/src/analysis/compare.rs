//! Analyses across the sentences of one batch, addressed by word rather than token index:
//! what the page and the CLI ask for.

use serde::Serialize;

use super::{drift, find_token, pca};
use crate::engine::Analysis;

/// How one word's hidden vector compares between two sentences, level by level.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct WordDrift {
    /// Token position of the word in the first sentence.
    pub token_a: usize,
    /// Token position of the word in the second sentence.
    pub token_b: usize,
    /// Cosine similarity at the embeddings, then after each layer.
    pub cosine: Vec<f32>,
}

/// Cosine drift of `word` between sentences `a` and `b`; `None` if either lacks the word.
pub fn word_drift(analysis: &Analysis, a: usize, b: usize, word: &str) -> Option<WordDrift> {
    let token_a = find_token(analysis.batch.sentences.get(a)?, word)?;
    let token_b = find_token(analysis.batch.sentences.get(b)?, word)?;
    let cosine = drift(&analysis.runs[a].hidden, token_a, &analysis.runs[b].hidden, token_b);
    Some(WordDrift { token_a, token_b, cosine })
}

/// Every real token of every sentence placed in 2-D by PCA of its final hidden vector.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct TokenMap {
    /// One entry per point: `(sentence, token position, token text)`.
    pub tokens: Vec<(usize, usize, String)>,
    /// `[x, y]` per point, in the same order.
    pub points: Vec<[f32; 2]>,
    /// Share of variance along each axis.
    pub explained_variance_ratio: [f32; 2],
}

/// PCA of the last layer's vectors of all real (unpadded) tokens across the batch.
pub fn token_map(analysis: &Analysis) -> TokenMap {
    let mut tokens = Vec::new();
    let mut vectors = Vec::new();
    for (s, (sentence, run)) in analysis.batch.sentences.iter().zip(&analysis.runs).enumerate() {
        let last = run.hidden.shape()[0] - 1;
        for t in 0..sentence.len {
            tokens.push((s, t, sentence.tokens[t].clone()));
            vectors.push(run.hidden.vector(last, t));
        }
    }
    let projection = pca(&vectors);
    TokenMap { tokens, points: projection.points, explained_variance_ratio: projection.explained_variance_ratio }
}
