//! Numbers derived from a run: fill-mask probabilities, attention rollout and flow, context mixing
//! (norm-based attention, ALTI), head roles, how a token's hidden vector drifts between sentences,
//! a 2-D PCA of hidden vectors, and finding a word's tokens.
//!
//! Everything here is plain arithmetic on the engine's buffers (no model, no I/O), so the page and
//! the CLI only draw or print what these functions return.

mod drift;
mod fill_mask;
mod flow;
mod head_roles;
mod maxflow;
mod mixing;
mod pca;
mod rollout;
mod token_map;
mod tokens;

pub use drift::{cosine, drift, word_drift, word_drift_at, WordDrift};
pub use fill_mask::{fill_mask, top_k_softmax, MaskPrediction};
pub use flow::{flow, Flow, FlowError, MAX_FLOW_TOKENS};
pub use head_roles::{HeadRole, HeadRoles, HeadStats, BROAD_ENTROPY, ROLE_SHARE};
pub use mixing::{mixing, Measures, Mixing, MixingInput};
pub use pca::{pca, Pca};
pub use rollout::{rollout, Rollout};
pub use token_map::{token_map, TokenMap};
pub use tokens::{find_token, find_word, ordinal, word_focus, word_row, word_weights, WordFocus, WordMiss};

use crate::output::Attention;

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
    fn residual_attention_averages_heads_and_adds_the_identity() {
        // Two heads over two tokens: head 0 all on token 0, head 1 all on token 1.
        let att = Attention::from_vec(vec![1.0, 0.0, 1.0, 0.0, 0.0, 1.0, 0.0, 1.0], 1, 2, 2).unwrap();
        // Mean = [[.5,.5],[.5,.5]]; 0.5·mean + 0.5·I = [[.75,.25],[.25,.75]].
        assert_eq!(residual_attention(&att, 0), vec![0.75, 0.25, 0.25, 0.75]);
    }
}
