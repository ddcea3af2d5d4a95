//! Attention flow (Abnar & Zuidema 2020): the attention graph read as a flow network, where the
//! flow from a final-layer position to an input token is the max flow between them.

use super::maxflow::Network;
use super::residual_attention;
use crate::output::Attention;

/// Longest sentence, in tokens, that [`flow`] accepts: it solves `tokens²` max-flow problems
/// on a graph of `layers · tokens²` edges.
pub const MAX_FLOW_TOKENS: usize = 64;

/// Why [`flow`] refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum FlowError {
    /// The sentence is longer than [`MAX_FLOW_TOKENS`].
    #[error("attention flow is computed for at most {max} tokens; this sentence has {tokens}")]
    TooManyTokens {
        /// Tokens asked for.
        tokens: usize,
        /// The limit, [`MAX_FLOW_TOKENS`].
        max: usize,
    },
    /// More tokens were asked for than the attention has.
    #[error("attention flow over {tokens} tokens was asked for, but the attention covers only {available}")]
    OutOfRange {
        /// Tokens asked for.
        tokens: usize,
        /// Tokens in the attention.
        available: usize,
    },
}

/// Attention flow of one sentence's final layer, `[query][input]`, row-major: the max flow from
/// the final-layer position `query` to input token `input`. Values lie in `0..=1`; a row does not
/// sum to 1 (see [`Flow::normalized`]).
#[derive(Debug, Clone, PartialEq)]
pub struct Flow {
    data: Vec<f32>,
    tokens: usize,
}

impl Flow {
    /// Tokens per side.
    pub fn tokens(&self) -> usize {
        self.tokens
    }

    /// The whole `tokens × tokens` buffer.
    pub fn as_slice(&self) -> &[f32] {
        &self.data
    }

    /// Consumes the flow, giving its buffer.
    pub fn into_vec(self) -> Vec<f32> {
        self.data
    }

    /// How much can flow from final-layer position `query` to each input token.
    pub fn row(&self, query: usize) -> &[f32] {
        &self.data[query * self.tokens..(query + 1) * self.tokens]
    }

    /// Each row divided by its sum (rows of zeros stay zero), as the paper's code plots it.
    pub fn normalized(&self) -> Vec<f32> {
        let mut out = self.data.clone();
        for row in out.chunks_mut(self.tokens.max(1)) {
            let sum: f32 = row.iter().sum();
            if sum > 0.0 {
                row.iter_mut().for_each(|x| *x /= sum);
            }
        }
        out
    }
}

/// Attention flow from every final-layer position to every input token, over the first `tokens`
/// tokens (pass [`Encoding::len`](crate::Encoding::len) to leave padding out: the result for real
/// tokens is the same as over the padded tensor, since real queries give pad keys zero weight).
///
/// The graph has a node per token at each of the `layers + 1` levels (inputs, then each layer's
/// output); layer `l`'s position `q` has an edge to level `l - 1`'s token `k` with capacity
/// `Â[q][k]`, the head-averaged, residual-mixed, row-normalised attention used by
/// [`rollout`](super::rollout). Each `(query, input)` value is a max flow (Dinic's algorithm).
/// `progress(done, total)` is called after each query row with rows done and rows in all.
/// With zero layers every token is its own input: the identity.
pub fn flow(attention: &Attention, tokens: usize, mut progress: impl FnMut(usize, usize)) -> Result<Flow, FlowError> {
    let [layers, _, available, _] = attention.shape();
    if tokens > MAX_FLOW_TOKENS {
        return Err(FlowError::TooManyTokens { tokens, max: MAX_FLOW_TOKENS });
    }
    if tokens > available {
        return Err(FlowError::OutOfRange { tokens, available });
    }
    let node = |level: usize, token: usize| level * tokens + token;
    let mut edges = Vec::with_capacity(layers * tokens * tokens);
    for layer in 0..layers {
        let mixed = residual_attention(attention, layer);
        for q in 0..tokens {
            for k in 0..tokens {
                let capacity = mixed[q * available + k];
                if capacity > 0.0 {
                    edges.push((node(layer + 1, q), node(layer, k), capacity));
                }
            }
        }
    }
    let mut network = Network::new((layers + 1) * tokens, &edges);
    let mut data = vec![0.0f32; tokens * tokens];
    for (q, row) in data.chunks_mut(tokens.max(1)).enumerate() {
        for (k, value) in row.iter_mut().enumerate() {
            *value =
                if layers == 0 { (q == k) as u8 as f32 } else { network.max_flow(node(layers, q), node(0, k)) as f32 };
        }
        progress(q + 1, tokens);
    }
    Ok(Flow { data, tokens })
}
