//! Numbers derived from a run: fill-mask probabilities, attention rollout and flow, how a token's
//! hidden vector drifts between sentences, a 2-D PCA of hidden vectors, and finding a word's token.
//!
//! Everything here is plain arithmetic on the engine's buffers (no model, no I/O), so the page and
//! the CLI only draw or print what these functions return.

mod compare;
mod drift;
mod flow;
mod maxflow;
mod pca;
mod rollout;
mod tokens;

pub use compare::{token_map, word_drift, TokenMap, WordDrift};
pub use drift::{cosine, drift};
pub use flow::{flow, Flow, FlowError, MAX_FLOW_TOKENS};
pub use pca::{pca, Pca};
pub use rollout::{rollout, Rollout};
pub use tokens::find_token;

use crate::output::Attention;

/// Softmax of `logits`, returning the `k` most probable indices with their probabilities.
pub fn top_k_softmax(logits: &[f32], k: usize) -> Vec<(usize, f32)> {
    let max = logits.iter().copied().fold(f32::NEG_INFINITY, f32::max);
    let total: f64 = logits.iter().map(|&x| ((x - max) as f64).exp()).sum();
    let mut order: Vec<usize> = (0..logits.len()).collect();
    order.sort_by(|&a, &b| logits[b].total_cmp(&logits[a]).then(a.cmp(&b)));
    order.truncate(k);
    order.into_iter().map(|i| (i, (((logits[i] - max) as f64).exp() / total) as f32)).collect()
}

/// One layer's attention as rollout and flow see it, `[query][key]` over all `tokens` tokens:
/// the heads' mean `A`, mixed with the identity for the residual connection (`0.5·A + 0.5·I`,
/// Abnar & Zuidema 2020) and each row renormalised to sum to 1.
///
/// Padding needs no special case: the model gives pad keys zero weight, so real query rows stay
/// zero in pad columns. Pad query rows are well defined (mass on the real tokens and on
/// themselves) but mean nothing.
fn residual_attention(attention: &Attention, layer: usize) -> Vec<f64> {
    let [_, heads, n, _] = attention.shape();
    let mut mixed = vec![0.0f64; n * n];
    for head in 0..heads {
        for (m, &a) in mixed.iter_mut().zip(attention.head(layer, head)) {
            *m += a as f64;
        }
    }
    let scale = if heads == 0 { 0.0 } else { 0.5 / heads as f64 };
    for (q, row) in mixed.chunks_mut(n.max(1)).enumerate() {
        row.iter_mut().for_each(|x| *x *= scale);
        row[q] += 0.5;
        let sum: f64 = row.iter().sum();
        if sum > 0.0 {
            row.iter_mut().for_each(|x| *x /= sum);
        }
    }
    mixed
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

    #[test]
    fn residual_attention_averages_heads_and_adds_the_identity() {
        // Two heads over two tokens: head 0 all on token 0, head 1 all on token 1.
        let att = Attention::from_vec(vec![1.0, 0.0, 1.0, 0.0, 0.0, 1.0, 0.0, 1.0], 1, 2, 2).unwrap();
        // Mean = [[.5,.5],[.5,.5]]; 0.5·mean + 0.5·I = [[.75,.25],[.25,.75]].
        assert_eq!(residual_attention(&att, 0), vec![0.75, 0.25, 0.25, 0.75]);
    }
}
