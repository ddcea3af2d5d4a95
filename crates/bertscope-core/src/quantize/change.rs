//! How far a model's attention moved: the same sentences run through two models.

use serde::Serialize;

use crate::output::BatchRun;

/// The largest attention difference between two runs of the same batch, and where it is.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
#[cfg_attr(feature = "tsify", derive(tsify::Tsify))]
pub struct AttentionChange {
    /// The largest absolute difference of one attention probability.
    pub max: f32,
    /// The mean absolute difference over every probability compared.
    pub mean: f32,
    /// Where the largest is: sentence of the batch.
    pub sentence: usize,
    /// Layer.
    pub layer: usize,
    /// Head.
    pub head: usize,
    /// Query token.
    pub query: usize,
    /// Key token.
    pub key: usize,
}

/// Compares every attention probability of two runs of the same sentences (padding included:
/// both models see the same padded batch). `None` if the runs do not have the same shape.
pub fn attention_change(before: &BatchRun, after: &BatchRun) -> Option<AttentionChange> {
    if before.runs.len() != after.runs.len() || before.runs.is_empty() {
        return None;
    }
    let mut change = AttentionChange { max: 0.0, mean: 0.0, sentence: 0, layer: 0, head: 0, query: 0, key: 0 };
    let (mut sum, mut count) = (0.0f64, 0usize);
    for (sentence, (a, b)) in before.runs.iter().zip(&after.runs).enumerate() {
        let shape = a.attention.shape();
        if shape != b.attention.shape() {
            return None;
        }
        let [_, heads, n, _] = shape;
        for (at, (x, y)) in a.attention.as_slice().iter().zip(b.attention.as_slice()).enumerate() {
            let d = (x - y).abs();
            sum += f64::from(d);
            count += 1;
            if d > change.max || d.is_nan() {
                let (layer, head, query, key) = (at / (heads * n * n), at / (n * n) % heads, at / n % n, at % n);
                change = AttentionChange { max: d, sentence, layer, head, query, key, ..change };
            }
        }
    }
    change.mean = (sum / count.max(1) as f64) as f32;
    Some(change)
}
