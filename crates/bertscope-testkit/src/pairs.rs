//! The sentence-pair references (`tests/reference/pair_reference.py`: the Python `tokenizers`
//! library's own pair encoding and onnxruntime's attentions, written once per test run by
//! `scripts/test`) and how bertscope's pairs are compared with them, natively, through the CLI
//! and inside the browsers.

use serde::Deserialize;

use crate::max_abs_diff;

/// `pairs.json`: every model's pairs.
#[derive(Debug, Deserialize)]
pub struct PairReference {
    /// The `tokenizers` version that encoded the pairs.
    pub tokenizers: String,
    /// Longest encoding, in tokens.
    pub max_tokens: usize,
    /// One entry per model.
    pub models: Vec<PairModel>,
}

/// One model's pairs.
#[derive(Debug, Deserialize)]
pub struct PairModel {
    /// Short name.
    pub name: String,
    /// ONNX file, relative to the models folder.
    pub model: String,
    /// tokenizer.json, relative to the models folder.
    pub tokenizer: String,
    /// Whether the graph has a `token_type_ids` input (onnxruntime was fed the type ids).
    pub takes_token_type_ids: bool,
    /// Short pairs, each run alone.
    pub pairs: Vec<PairEntry>,
    /// Two pairs around a single sentence, padded as one batch.
    pub batch: PairBatch,
    /// Pairs longer than the model takes, tokenized only.
    pub long_pairs: Vec<PairEntry>,
}

/// One input as the Python tokenizer encoded it.
#[derive(Debug, Deserialize)]
pub struct PairEntry {
    /// `[A, B]` for a pair, `[text]` for a single sentence.
    pub input: Vec<String>,
    /// Token ids.
    pub input_ids: Vec<u32>,
    /// Segment ids.
    pub token_type_ids: Vec<u32>,
    /// Token strings.
    pub tokens: Vec<String>,
    /// Whether the tokenizer cut it (longest first).
    pub truncated: bool,
    /// Position of B's first token.
    pub sentence_b_start: Option<usize>,
    /// `[L][H][n][n]` (short pairs only).
    pub attentions: Option<Vec<Vec<Vec<Vec<f32>>>>>,
    /// Tokens of A and of B alone, before truncation (long pairs only).
    pub lengths_untruncated: Option<Vec<usize>>,
}

impl PairEntry {
    /// The input as one line of the page's syntax (`A | B`, bars inside a sentence as `\|`).
    pub fn line(&self) -> String {
        self.input.iter().map(|s| s.replace('|', "\\|")).collect::<Vec<_>>().join(" | ")
    }

    /// The attentions as one flat `[L][H][n][n]` buffer.
    pub fn flat_attentions(&self) -> Option<Vec<f32>> {
        self.attentions.as_ref().map(|a| a.iter().flatten().flatten().flatten().copied().collect())
    }
}

/// A padded batch of inputs.
#[derive(Debug, Deserialize)]
pub struct PairBatch {
    /// `[A, B]` or `[text]` per entry.
    pub inputs: Vec<Vec<String>>,
    /// `[entry][n]`, padded.
    pub input_ids: Vec<Vec<u32>>,
    /// `[entry][n]`, padded with 0.
    pub token_type_ids: Vec<Vec<u32>>,
    /// `[entry][n]`.
    pub attention_mask: Vec<Vec<u32>>,
    /// `[entry][L][H][n][n]`.
    pub attentions: Vec<Vec<Vec<Vec<Vec<f32>>>>>,
}

impl PairBatch {
    /// Each entry as one line of the page's syntax.
    pub fn lines(&self) -> Vec<String> {
        self.inputs.iter().map(|i| i.iter().map(|s| s.replace('|', "\\|")).collect::<Vec<_>>().join(" | ")).collect()
    }

    /// Entry `i`'s attentions as one flat `[L][H][n][n]` buffer.
    pub fn flat_attentions(&self, i: usize) -> Vec<f32> {
        self.attentions[i].iter().flatten().flatten().flatten().copied().collect()
    }
}

/// Parses `pairs.json`.
pub fn parse_pairs(json: &[u8]) -> Result<PairReference, String> {
    serde_json::from_slice(json).map_err(|e| format!("pair reference JSON: {e}"))
}

/// What an engine made of one input.
#[derive(Debug, Clone, Copy)]
pub struct PairObserved<'a> {
    /// Token ids (padded).
    pub input_ids: &'a [u32],
    /// Segment ids (padded).
    pub token_type_ids: &'a [u32],
    /// Token strings (padded).
    pub tokens: &'a [String],
    /// Whether it was cut.
    pub truncated: bool,
    /// Position of B's first token.
    pub sentence_b_start: Option<usize>,
}

/// The differences between an encoded input and the reference's, in words (empty when equal).
pub fn pair_encoding_diff(observed: PairObserved<'_>, expected: &PairEntry) -> Vec<String> {
    let mut wrong = Vec::new();
    let line = expected.line();
    if observed.input_ids != expected.input_ids.as_slice() {
        wrong.push(format!("{line:.60}: input_ids {:?} != {:?}", observed.input_ids, expected.input_ids));
    }
    if observed.token_type_ids != expected.token_type_ids.as_slice() {
        wrong
            .push(format!("{line:.60}: token_type_ids {:?} != {:?}", observed.token_type_ids, expected.token_type_ids));
    }
    if observed.tokens != expected.tokens.as_slice() {
        wrong.push(format!("{line:.60}: tokens differ"));
    }
    if observed.truncated != expected.truncated {
        wrong.push(format!("{line:.60}: truncated {} != {}", observed.truncated, expected.truncated));
    }
    if observed.sentence_b_start != expected.sentence_b_start {
        wrong.push(format!(
            "{line:.60}: sentence B starts at {:?}, not {:?}",
            observed.sentence_b_start, expected.sentence_b_start
        ));
    }
    wrong
}

/// The largest attention difference, or why the shapes differ.
pub fn pair_attention_diff(observed: &[f32], expected: &[f32]) -> Result<f32, String> {
    if observed.len() != expected.len() {
        return Err(format!("{} attention values, the reference has {}", observed.len(), expected.len()));
    }
    Ok(max_abs_diff(observed, expected))
}
