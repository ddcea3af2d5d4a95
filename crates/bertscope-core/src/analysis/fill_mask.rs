//! Fill-mask: the likeliest tokens for each `[MASK]`, from a masked-language-model export's logits.

use serde::Serialize;

use crate::output::BatchRun;
use crate::tokenize::Tokenizer;

/// The likeliest fillers for one `[MASK]`.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[cfg_attr(feature = "tsify", derive(tsify::Tsify))]
pub struct MaskPrediction {
    /// Position of the `[MASK]` token.
    pub position: usize,
    /// `(token id, token, probability)`, most likely first.
    pub candidates: Vec<(u32, String, f32)>,
}

/// For each `[MASK]` of sentence `index`, the `k` likeliest tokens; empty when the run kept no
/// logits (see `LoadOptions::logits`) or the tokenizer has no `[MASK]`.
pub fn fill_mask(run: &BatchRun, tokenizer: &Tokenizer, index: usize, k: usize) -> Vec<MaskPrediction> {
    let (Some(sentence), Some(sentence_run)) = (run.batch.sentences.get(index), run.runs.get(index)) else {
        return Vec::new();
    };
    let (Some((logits, vocab)), Some(mask_id)) = (&sentence_run.logits, tokenizer.token_to_id("[MASK]")) else {
        return Vec::new();
    };
    sentence
        .input_ids
        .iter()
        .enumerate()
        .filter(|(_, &id)| id == mask_id)
        .map(|(position, _)| {
            let row = &logits[position * vocab..(position + 1) * vocab];
            let candidates = top_k_softmax(row, k)
                .into_iter()
                .map(|(id, p)| (id as u32, tokenizer.id_to_token(id as u32).unwrap_or_default(), p))
                .collect();
            MaskPrediction { position, candidates }
        })
        .collect()
}

/// Softmax of `logits`, returning the `k` most probable indices with their probabilities.
pub fn top_k_softmax(logits: &[f32], k: usize) -> Vec<(usize, f32)> {
    let max = logits.iter().copied().fold(f32::NEG_INFINITY, f32::max);
    let total: f64 = logits.iter().map(|&x| ((x - max) as f64).exp()).sum();
    let mut order: Vec<usize> = (0..logits.len()).collect();
    order.sort_by(|&a, &b| logits[b].total_cmp(&logits[a]).then(a.cmp(&b)));
    order.truncate(k);
    order.into_iter().map(|i| (i, (((logits[i] - max) as f64).exp() / total) as f32)).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn top_k_is_sorted_and_normalised() {
        let top = top_k_softmax(&[0.0, (2.0f32).ln(), 0.0, (4.0f32).ln()], 2);
        assert_eq!(top.iter().map(|t| t.0).collect::<Vec<_>>(), vec![3, 1]);
        assert!((top[0].1 - 0.5).abs() < 1e-6 && (top[1].1 - 0.25).abs() < 1e-6);
    }
}
