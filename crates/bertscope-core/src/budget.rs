//! The memory a run needs, estimated from the model's shapes before tract allocates any of it,
//! against one stated budget: a run that would not fit is refused in words instead of aborting
//! on a failed allocation (in wasm, an abort ends the whole engine).

use crate::error::{Error, Result};
use crate::model::ModelInfo;

/// Most memory one run may need: what a 32-bit WebAssembly memory holds (4 GiB).
pub const MEMORY_BUDGET_BYTES: u64 = 4 << 30;

/// Bytes of `f32` values a run of `batch` sentences padded to `seq_len` tokens keeps and holds at
/// its peak: every layer's attention maps and hidden states (kept for the result), one layer's
/// scores and activations in flight, the logits when the model has them, and the extra values
/// the context-mixing measures read.
pub fn run_bytes(info: &ModelInfo, batch: usize, seq_len: usize, mixing: bool) -> u64 {
    let [b, s, layers, heads, hidden] = [batch, seq_len, info.layers, info.heads, info.hidden_size].map(|n| n as u64);
    let vocab = if info.fill_mask { info.vocab_size.unwrap_or(0) as u64 } else { 0 };
    let per_token = [
        layers.saturating_mul(heads).saturating_mul(s),  // attention maps kept
        2u64.saturating_mul(heads).saturating_mul(s),    // one layer's scores and probabilities
        layers.saturating_add(1).saturating_mul(hidden), // hidden states kept
        8u64.saturating_mul(hidden),                     // one layer's Q, K, V, context and feed-forward
        vocab,                                           // logits
        if mixing { 4u64.saturating_mul(layers).saturating_mul(hidden) } else { 0 },
    ]
    .into_iter()
    .fold(0u64, u64::saturating_add);
    4u64.saturating_mul(b).saturating_mul(s).saturating_mul(per_token)
}

/// Refuses a run whose [`run_bytes`] exceed [`MEMORY_BUDGET_BYTES`].
pub fn check(info: &ModelInfo, batch: usize, seq_len: usize, mixing: bool) -> Result<()> {
    let needed = run_bytes(info, batch, seq_len, mixing);
    if needed > MEMORY_BUDGET_BYTES {
        return Err(Error::OverBudget(format!(
            "{batch} sentences padded to {seq_len} tokens through {} layers of {} heads need about {} MiB, more than \
             the {} MiB bertscope allows one run; give fewer or shorter sentences",
            info.layers,
            info.heads,
            needed >> 20,
            MEMORY_BUDGET_BYTES >> 20
        )));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn base() -> ModelInfo {
        ModelInfo {
            layers: 12,
            heads: 12,
            hidden_size: 768,
            vocab_size: Some(30522),
            max_tokens: 512,
            quantization: "fp32".into(),
            file_bytes: 0,
            token_type_ids: false,
            token_types: None,
            fill_mask: false,
        }
    }

    #[test]
    fn counts_each_kept_and_live_value() {
        // One sentence of 512 tokens: 4 × 512 × (12·12·512 + 2·12·512 + 13·768 + 8·768) bytes.
        assert_eq!(run_bytes(&base(), 1, 512, false), 4 * 512 * (73_728 + 12_288 + 9_984 + 6_144));
        let with_logits = ModelInfo { fill_mask: true, ..base() };
        assert_eq!(run_bytes(&with_logits, 1, 512, false) - run_bytes(&base(), 1, 512, false), 4 * 512 * 30_522);
        assert_eq!(run_bytes(&base(), 1, 512, true) - run_bytes(&base(), 1, 512, false), 4 * 512 * 4 * 12 * 768);
        assert_eq!(run_bytes(&base(), usize::MAX, usize::MAX, true), u64::MAX);
    }

    #[test]
    fn refuses_past_the_budget_in_words() {
        // 16 × 512 tokens (the CLI's largest batch) of a base model fit: about 3.1 GiB.
        assert!(check(&base(), 16, 512, false).is_ok());
        let message = check(&base(), 21, 512, false).unwrap_err().to_string();
        assert_eq!(
            message,
            "the run does not fit in memory: 21 sentences padded to 512 tokens through 12 layers of 12 heads need \
             about 4189 MiB, more than the 4096 MiB bertscope allows one run; give fewer or shorter sentences"
        );
    }
}
