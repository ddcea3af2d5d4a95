//! Text to token ids: a `tokenizers` WordPiece tokenizer, padded batches, truncation that reports itself.

mod expansion;
mod guard;
mod words;

pub use words::{words_of, Word};

pub use expansion::MAX_CHARS_PER_CHAR;

use crate::error::{Error, Result};
use serde::{Deserialize, Serialize};
use tokenizers::{PaddingDirection, TruncationDirection, TruncationParams, TruncationStrategy};

/// Longest input, in tokens including `[CLS]` and `[SEP]`, that BERT-family models accept.
pub const DEFAULT_MAX_TOKENS: usize = 512;

/// A loaded tokenizer with padding switched off and truncation at a fixed length.
#[derive(Debug)]
pub struct Tokenizer {
    inner: tokenizers::Tokenizer,
    pad_id: u32,
    pad_token: String,
    max_tokens: usize,
}

/// One sentence as the model sees it, padded to its batch's length (read back by `Deserialize`
/// when the page asks the engine to find a word in it).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "tsify", derive(tsify::Tsify))]
pub struct Encoding {
    /// The original text.
    pub text: String,
    /// Token ids, `[CLS] … [SEP] [PAD]…`.
    pub input_ids: Vec<u32>,
    /// 1 for real tokens, 0 for padding.
    pub attention_mask: Vec<u32>,
    /// Token strings (`##` marks a word piece continuing the previous token).
    pub tokens: Vec<String>,
    /// Each token's `[start, end)` in the text, counted in Unicode scalar values; `(0, 0)` for special tokens.
    pub offsets: Vec<(usize, usize)>,
    /// True for `[CLS]`, `[SEP]` and `[PAD]`.
    pub special: Vec<bool>,
    /// Whether the text was cut to fit the maximum length.
    pub truncated: bool,
    /// Number of real (unpadded) tokens.
    pub len: usize,
    /// Its words: each non-special token with the `##` pieces after it (see `words_of`).
    pub words: Vec<Word>,
}

/// Several sentences padded to a common length, ready to run as one batch.
#[cfg_attr(feature = "tsify", derive(tsify::Tsify))]
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Batch {
    /// The sentences, in input order.
    pub sentences: Vec<Encoding>,
    /// Length every sentence is padded to (the longest one's).
    pub seq_len: usize,
}

impl Tokenizer {
    /// Reads a `tokenizer.json`, truncating inputs at `max_tokens` (clamped to at least 2).
    pub fn from_json(json: &[u8], max_tokens: usize) -> Result<Self> {
        guard::check(json).map_err(Error::Tokenizer)?;
        let mut inner = tokenizers::Tokenizer::from_bytes(json).map_err(|e| Error::Tokenizer(plain(&e.to_string())))?;
        let max_tokens = max_tokens.max(2);
        inner.with_padding(None);
        inner
            .with_truncation(Some(TruncationParams {
                max_length: max_tokens,
                strategy: TruncationStrategy::LongestFirst,
                stride: 0,
                direction: TruncationDirection::Right,
            }))
            .map_err(|e| Error::Tokenizer(e.to_string()))?;
        let pad_token = "[PAD]".to_string();
        let pad_id = inner
            .token_to_id(&pad_token)
            .ok_or_else(|| Error::Tokenizer("it has no [PAD] token, so it is not a BERT WordPiece tokenizer".into()))?;
        Ok(Self { inner, pad_id, pad_token, max_tokens })
    }

    /// Number of ids the tokenizer can produce: one more than its largest id.
    pub fn vocab_size(&self) -> usize {
        self.inner.get_vocab(true).values().max().map_or(0, |&id| id as usize + 1)
    }

    /// Longest encoding this tokenizer produces.
    pub fn max_tokens(&self) -> usize {
        self.max_tokens
    }

    /// The string for a token id, if the vocabulary has it.
    pub fn id_to_token(&self, id: u32) -> Option<String> {
        self.inner.id_to_token(id)
    }

    /// The id of a token string, if the vocabulary has it.
    pub fn token_to_id(&self, token: &str) -> Option<u32> {
        self.inner.token_to_id(token)
    }

    /// Encodes one sentence, unpadded.
    pub fn encode(&self, text: &str) -> Result<Encoding> {
        Ok(self.encode_batch(&[text])?.sentences.remove(0))
    }

    /// Encodes sentences and pads them to the longest, as a batch.
    pub fn encode_batch<S: AsRef<str>>(&self, texts: &[S]) -> Result<Batch> {
        if texts.is_empty() {
            return Err(Error::NoSentences);
        }
        let mut raw = texts
            .iter()
            .map(|t| self.inner.encode_char_offsets(t.as_ref(), true).map_err(|e| Error::Tokenizer(e.to_string())))
            .collect::<Result<Vec<_>>>()?;
        let seq_len = raw.iter().map(|e| e.len()).max().unwrap_or(0);
        let sentences = texts
            .iter()
            .zip(raw.iter_mut())
            .map(|(text, enc)| {
                let len = enc.len();
                let truncated = !enc.get_overflowing().is_empty();
                enc.pad(seq_len, self.pad_id, 0, &self.pad_token, PaddingDirection::Right);
                let tokens = enc.get_tokens().to_vec();
                let special: Vec<bool> = enc.get_special_tokens_mask().iter().map(|&s| s == 1).collect();
                Encoding {
                    text: text.as_ref().to_string(),
                    input_ids: enc.get_ids().to_vec(),
                    attention_mask: enc.get_attention_mask().to_vec(),
                    words: words_of(&tokens, &special),
                    tokens,
                    offsets: enc.get_offsets().to_vec(),
                    special,
                    truncated,
                    len,
                }
            })
            .collect();
        Ok(Batch { sentences, seq_len })
    }
}

/// serde_json's messages name line and column of a file nobody sees; keep the gist.
fn plain(message: &str) -> String {
    if message.contains("expected") || message.contains("EOF") || message.contains("line ") {
        format!("it is not a valid tokenizer.json ({message})")
    } else {
        message.to_string()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn not_json_is_a_typed_error() {
        assert!(matches!(Tokenizer::from_json(b"{not json", 512), Err(Error::Tokenizer(_))));
        assert!(matches!(Tokenizer::from_json(b"", 512), Err(Error::Tokenizer(_))));
    }

    #[test]
    fn empty_batch_is_refused() {
        let json = br###"{"version":"1.0","truncation":null,"padding":null,"added_tokens":[],"normalizer":null,
            "pre_tokenizer":{"type":"Whitespace"},"post_processor":null,"decoder":null,
            "model":{"type":"WordPiece","unk_token":"[UNK]","continuing_subword_prefix":"##","max_input_chars_per_word":100,
            "vocab":{"[PAD]":0,"[UNK]":1,"a":2}}}"###;
        let tok = Tokenizer::from_json(json, 512).unwrap();
        assert!(matches!(tok.encode_batch::<&str>(&[]), Err(Error::NoSentences)));
        assert_eq!(tok.encode("a b").unwrap().input_ids, vec![2, 1]);
    }
}
