//! Attention rollout (Abnar & Zuidema 2020): how much of each input token reaches each position,
//! multiplying the residual-augmented, head-averaged attention through the layers.

use super::residual_attention;
use crate::output::Attention;

/// Every layer's cumulative rollout of one sentence, `[layer][query][key]`, row-major: layer `l`
/// is `Â_l · … · Â_0`, where `Â = rownorm(0.5·mean_heads(A) + 0.5·I)` is a layer's attention
/// with the residual connection mixed in. Rows sum to 1.
#[derive(Debug, Clone, PartialEq)]
pub struct Rollout {
    data: Vec<f32>,
    layers: usize,
    tokens: usize,
}

impl Rollout {
    /// `[layers, tokens, tokens]`.
    pub fn shape(&self) -> [usize; 3] {
        [self.layers, self.tokens, self.tokens]
    }

    /// The whole buffer.
    pub fn as_slice(&self) -> &[f32] {
        &self.data
    }

    /// Consumes the rollout, giving its buffer.
    pub fn into_vec(self) -> Vec<f32> {
        self.data
    }

    /// Layer `layer`'s `tokens × tokens` matrix: how much of input token `key` reaches `query`.
    pub fn layer(&self, layer: usize) -> &[f32] {
        let n = self.tokens * self.tokens;
        &self.data[layer * n..(layer + 1) * n]
    }

    /// One query's row at one layer, summing to 1.
    pub fn row(&self, layer: usize, query: usize) -> &[f32] {
        &self.layer(layer)[query * self.tokens..(query + 1) * self.tokens]
    }
}

/// Attention rollout of one sentence's attention, every layer's cumulative product.
///
/// Runs on the full (padded) matrix: pad key columns are 0 in the model's attention, so real
/// query rows keep zero weight on padding at every layer; pad query rows are well defined but
/// meaningless. Cost `O(layers · tokens³)`; products are accumulated in `f64`.
pub fn rollout(attention: &Attention) -> Rollout {
    let [layers, _, n, _] = attention.shape();
    let mut data = Vec::with_capacity(layers * n * n);
    let mut product: Vec<f64> = (0..n * n).map(|i| if i / n == i % n { 1.0 } else { 0.0 }).collect();
    for layer in 0..layers {
        product = matmul(&residual_attention(attention, layer), &product, n);
        data.extend(product.iter().map(|&x| x as f32));
    }
    Rollout { data, layers, tokens: n }
}

/// `a · b` for square row-major `n × n` matrices (zeros in `a`, such as pad columns, are skipped).
fn matmul(a: &[f64], b: &[f64], n: usize) -> Vec<f64> {
    let mut out = vec![0.0; n * n];
    for (out_row, a_row) in out.chunks_mut(n.max(1)).zip(a.chunks(n.max(1))) {
        for (&x, b_row) in a_row.iter().zip(b.chunks(n)) {
            if x != 0.0 {
                out_row.iter_mut().zip(b_row).for_each(|(o, &y)| *o += x * y);
            }
        }
    }
    out
}
