//! What a run of the model gives back: per sentence, flat `f32` buffers with shapes; per batch,
//! the tokenized batch beside them.

use std::sync::Arc;

use crate::tokenize::Batch;

/// Attention probabilities of one sentence, `[layer][head][query][key]`, row-major. Never written
/// once made; its buffer can be shared ([`Attention::shared`]) so it outlives the run.
#[derive(Debug, Clone, PartialEq)]
pub struct Attention {
    data: Arc<Vec<f32>>,
    layers: usize,
    heads: usize,
    tokens: usize,
}

impl Attention {
    /// All-zero attention of the given shape.
    pub fn zeros(layers: usize, heads: usize, tokens: usize) -> Self {
        Self { data: Arc::new(vec![0.0; layers * heads * tokens * tokens]), layers, heads, tokens }
    }

    /// Wraps a flat `[layer][head][query][key]` buffer; `None` if the length does not match.
    pub fn from_vec(data: Vec<f32>, layers: usize, heads: usize, tokens: usize) -> Option<Self> {
        (data.len() == layers * heads * tokens * tokens).then(|| Self { data: Arc::new(data), layers, heads, tokens })
    }

    /// `[layers, heads, tokens, tokens]`.
    pub fn shape(&self) -> [usize; 4] {
        [self.layers, self.heads, self.tokens, self.tokens]
    }

    /// The whole buffer.
    pub fn as_slice(&self) -> &[f32] {
        &self.data
    }

    /// The buffer itself, shared (no copy): it stays as it is, and alive, for as long as the
    /// holder keeps it, whatever happens to this attention or its run. The page's threaded engine
    /// lends the attention to the page this way (a view of wasm memory instead of a copy).
    pub fn shared(&self) -> Arc<Vec<f32>> {
        Arc::clone(&self.data)
    }

    /// Consumes the attention, giving its buffer (a copy only if it is shared).
    pub fn into_vec(self) -> Vec<f32> {
        Arc::try_unwrap(self.data).unwrap_or_else(|shared| shared.as_ref().clone())
    }

    /// One head's `tokens × tokens` matrix (query rows, key columns).
    pub fn head(&self, layer: usize, head: usize) -> &[f32] {
        let n = self.tokens * self.tokens;
        let start = (layer * self.heads + head) * n;
        &self.data[start..start + n]
    }

    /// What `query` attends to in one head: a row of `tokens` weights summing to 1.
    pub fn row(&self, layer: usize, head: usize, query: usize) -> &[f32] {
        let m = self.head(layer, head);
        &m[query * self.tokens..(query + 1) * self.tokens]
    }
}

/// Hidden states of one sentence, `[layer + 1][token][hidden]`: the embeddings, then each layer's output.
#[derive(Debug, Clone, PartialEq)]
pub struct HiddenStates {
    data: Vec<f32>,
    layers: usize,
    tokens: usize,
    width: usize,
}

impl HiddenStates {
    /// All-zero hidden states of the given shape.
    pub fn zeros(layers: usize, tokens: usize, width: usize) -> Self {
        Self { data: vec![0.0; layers * tokens * width], layers, tokens, width }
    }

    /// `[layers + 1, tokens, hidden]`.
    pub fn shape(&self) -> [usize; 3] {
        [self.layers, self.tokens, self.width]
    }

    /// The whole buffer.
    pub fn as_slice(&self) -> &[f32] {
        &self.data
    }

    /// One layer's `[token][hidden]` matrix (0 = embeddings).
    pub fn layer(&self, layer: usize) -> &[f32] {
        let n = self.tokens * self.width;
        &self.data[layer * n..(layer + 1) * n]
    }

    /// The encoder's final output, `[token][hidden]` (what exports call `last_hidden_state`).
    pub fn last(&self) -> &[f32] {
        self.layer(self.layers - 1)
    }

    /// One token's vector at one layer.
    pub fn vector(&self, layer: usize, token: usize) -> &[f32] {
        &self.layer(layer)[token * self.width..(token + 1) * self.width]
    }

    pub(crate) fn layer_mut(&mut self, layer: usize) -> &mut [f32] {
        let n = self.tokens * self.width;
        &mut self.data[layer * n..(layer + 1) * n]
    }
}

/// Everything one sentence's run produced.
#[derive(Debug, Clone, PartialEq)]
pub struct SentenceRun {
    /// Every layer's and head's attention.
    pub attention: Attention,
    /// Embeddings and every layer's output.
    pub hidden: HiddenStates,
    /// Masked-language-model logits `[token][vocab]` and the vocabulary size, when the model has them and they were kept.
    pub logits: Option<(Vec<f32>, usize)>,
    /// What the context-mixing measures read, when the run was asked for it.
    pub mixing: Option<MixingTaps>,
}

/// Tensors of one sentence's run that the context-mixing measures (`analysis::mixing`) read.
#[derive(Debug, Clone, PartialEq)]
pub struct MixingTaps {
    /// Each layer's attention values, `[layer][head][token][head_dim]`.
    pub values: Vec<f32>,
    /// Each layer's residual sum entering its first LayerNorm, `[layer][token][hidden]`.
    pub residual: Vec<f32>,
}

/// A batch of sentences as tokenized, and what the model made of each.
#[derive(Debug, Clone)]
pub struct BatchRun {
    /// The padded batch as tokenized.
    pub batch: Batch,
    /// One run per sentence, in order.
    pub runs: Vec<SentenceRun>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_shared_attention_buffer_outlives_its_attention_unchanged() {
        let values: Vec<f32> = (0..2 * 3 * 3).map(|i| i as f32 / 7.0).collect();
        let attention = Attention::from_vec(values.clone(), 1, 2, 3).unwrap();
        let shared = attention.shared();
        assert_eq!(shared.as_ptr(), attention.as_slice().as_ptr(), "shared, not copied");
        let copy = attention.clone().into_vec();
        assert_eq!(copy, values);
        drop(attention);
        assert_eq!(*shared, values);
        assert_eq!(Attention::from_vec(values.clone(), 1, 2, 3).unwrap().into_vec(), values);
    }
}
