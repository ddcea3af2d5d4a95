//! Text to token ids: a `tokenizers` WordPiece tokenizer, padded batches, truncation that reports itself.

mod expansion;
mod guard;
mod pair;
mod words;

pub use pair::{Input, PAIR_SEPARATOR};
pub use words::{words_of, Word};

pub use expansion::MAX_CHARS_PER_CHAR;

use crate::error::{Error, Result};
use serde::{Deserialize, Serialize};
use tokenizers::{
    EncodeInput, PaddingDirection, PostProcessor, TruncationDirection, TruncationParams, TruncationStrategy,
};

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

/// One sentence, or one sentence pair, as the model sees it, padded to its batch's length (read
/// back by `Deserialize` when the page asks the engine to find a word in it).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "tsify", derive(tsify::Tsify))]
pub struct Encoding {
    /// The text as written (a pair as `A | B`, see [`Input`]).
    pub text: String,
    /// Token ids, `[CLS] … [SEP] [PAD]…` (a pair: `[CLS] A [SEP] B [SEP] [PAD]…`).
    pub input_ids: Vec<u32>,
    /// 1 for real tokens, 0 for padding.
    pub attention_mask: Vec<u32>,
    /// Segment ids from the tokenizer's template: all 0 for a sentence; for a BERT pair 0 up to
    /// and including the first `[SEP]`, 1 for sentence B and its `[SEP]`; 0 for padding.
    pub token_type_ids: Vec<u32>,
    /// For a pair, the position of sentence B's first token; `None` for a single sentence.
    #[cfg_attr(feature = "tsify", tsify(type = "number | null"))]
    pub sentence_b_start: Option<usize>,
    /// Token strings (`##` marks a word piece continuing the previous token).
    pub tokens: Vec<String>,
    /// Each token's `[start, end)` in its sentence (for a pair: in A or in B, each trimmed),
    /// counted in Unicode scalar values; `(0, 0)` for special tokens.
    pub offsets: Vec<(usize, usize)>,
    /// True for `[CLS]`, `[SEP]` and `[PAD]`.
    pub special: Vec<bool>,
    /// Whether the text was cut to fit the maximum length (a pair: longest first, see
    /// [`Tokenizer::encode_inputs`]).
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

    /// Encodes one sentence (or a pair written `A | B`), unpadded.
    pub fn encode(&self, text: &str) -> Result<Encoding> {
        Ok(self.encode_batch(&[text])?.sentences.remove(0))
    }

    /// Encodes lines and pads them to the longest, as a batch. Each line is a sentence or a
    /// pair written `A | B` ([`Input::parse`]); a line that is neither is refused, naming it.
    pub fn encode_batch<S: AsRef<str>>(&self, texts: &[S]) -> Result<Batch> {
        let inputs = texts
            .iter()
            .enumerate()
            .map(|(i, text)| {
                Input::parse(text.as_ref()).map_err(|why| Error::BadInput(format!("sentence {} {why}", i + 1)))
            })
            .collect::<Result<Vec<_>>>()?;
        let texts: Vec<&str> = texts.iter().map(AsRef::as_ref).collect();
        self.encode_all(&inputs, &texts)
    }

    /// Encodes sentences and pairs and pads them to the longest, as a batch. A pair is encoded
    /// with the tokenizer's own pair template (BERT: `[CLS] A [SEP] B [SEP]`, `token_type_ids`
    /// 0 then 1). A pair too long for the model is cut longest first: tokens come off the end
    /// of the longer sentence until both fit (both end up about half the room if both are long).
    pub fn encode_inputs(&self, inputs: &[Input]) -> Result<Batch> {
        let texts: Vec<String> = inputs.iter().map(Input::to_string).collect();
        self.encode_all(inputs, &texts)
    }

    fn encode_all<S: AsRef<str>>(&self, inputs: &[Input], texts: &[S]) -> Result<Batch> {
        if inputs.is_empty() {
            return Err(Error::NoSentences);
        }
        let mut raw =
            inputs.iter().enumerate().map(|(i, input)| self.encode_one(input, i + 1)).collect::<Result<Vec<_>>>()?;
        let seq_len = raw.iter().map(|(e, _)| e.len()).max().unwrap_or(0);
        let sentences = texts
            .iter()
            .zip(raw.iter_mut())
            .map(|(text, (enc, sentence_b_start))| {
                let len = enc.len();
                let truncated = !enc.get_overflowing().is_empty();
                enc.pad(seq_len, self.pad_id, 0, &self.pad_token, PaddingDirection::Right);
                let tokens = enc.get_tokens().to_vec();
                let special: Vec<bool> = enc.get_special_tokens_mask().iter().map(|&s| s == 1).collect();
                Encoding {
                    text: text.as_ref().to_string(),
                    input_ids: enc.get_ids().to_vec(),
                    attention_mask: enc.get_attention_mask().to_vec(),
                    token_type_ids: enc.get_type_ids().to_vec(),
                    sentence_b_start: *sentence_b_start,
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

    /// One input, unpadded, and where its sentence B starts; `number` (from 1) names it in errors.
    fn encode_one(&self, input: &Input, number: usize) -> Result<(tokenizers::Encoding, Option<usize>)> {
        let encoded = match input {
            Input::Single(text) => self.inner.encode_char_offsets(text.as_str(), true),
            Input::Pair(a, b) => {
                let bad = |why: &str| Error::BadInput(format!("sentence {number} is a pair {why}"));
                if a.trim().is_empty() || b.trim().is_empty() {
                    let side = if a.trim().is_empty() { "A" } else { "B" };
                    return Err(bad(&format!("whose sentence {side} is empty")));
                }
                let added = self.inner.get_post_processor().map_or(0, |p| p.added_tokens(true));
                if added + 2 > self.max_tokens {
                    return Err(bad(&format!(
                        "and this model takes at most {} tokens: too few for the tokenizer's {added} special tokens and both sentences",
                        self.max_tokens
                    )));
                }
                let encoded = self
                    .inner
                    .encode_char_offsets(EncodeInput::Dual(a.trim().into(), b.trim().into()), true)
                    .map_err(|e| Error::Tokenizer(e.to_string()))?;
                let sequences = encoded.get_sequence_ids();
                let start = sequences.iter().position(|&s| s == Some(1));
                return match start {
                    Some(start) if sequences.contains(&Some(0)) => Ok((encoded, Some(start))),
                    _ => {
                        let side = if start.is_some() { "A" } else { "B" };
                        Err(bad(&format!(
                            "whose sentence {side} gives no tokens (only characters the tokenizer drops)"
                        )))
                    }
                };
            }
        };
        Ok((encoded.map_err(|e| Error::Tokenizer(e.to_string()))?, None))
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
