//! A tokenizer and a model that belong together: text in, attention out.

use serde::Serialize;

use crate::error::{Error, Result};
use crate::model::{LoadOptions, Model, ModelInfo};
use crate::output::SentenceRun;
use crate::tokenize::{Batch, Tokenizer};

/// A checked tokenizer/model pair.
#[derive(Debug)]
pub struct Engine {
    tokenizer: Tokenizer,
    model: Model,
}

/// A batch of sentences and what the model made of each.
#[derive(Debug, Clone)]
pub struct Analysis {
    /// The padded batch as tokenized.
    pub batch: Batch,
    /// One run per sentence, in order.
    pub runs: Vec<SentenceRun>,
}

/// The likeliest fillers for one `[MASK]`.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct MaskPrediction {
    /// Position of the `[MASK]` token.
    pub position: usize,
    /// `(token id, token, probability)`, most likely first.
    pub candidates: Vec<(u32, String, f32)>,
}

impl Engine {
    /// Loads both halves and checks that every token id has an embedding row.
    pub fn new(model_bytes: &[u8], tokenizer_json: &[u8], options: LoadOptions) -> Result<Self> {
        let model = Model::from_bytes(model_bytes, options)?;
        let tokenizer = Tokenizer::from_json(tokenizer_json, model.info().max_tokens)?;
        if let Some(rows) = model.info().vocab_size {
            if tokenizer.vocab_size() > rows {
                return Err(Error::VocabMismatch { tokenizer: tokenizer.vocab_size(), model: rows });
            }
        }
        Ok(Self { tokenizer, model })
    }

    /// The model's description.
    pub fn info(&self) -> &ModelInfo {
        self.model.info()
    }

    /// Optimises the model for batches of `batch` sentences ahead of the first such run.
    pub fn prepare(&self, batch: usize) -> Result<()> {
        self.model.prepare(batch)
    }

    /// The tokenizer, for tokenizing without running.
    pub fn tokenizer(&self) -> &Tokenizer {
        &self.tokenizer
    }

    /// Tokenizes sentences as one padded batch and runs it.
    pub fn run<S: AsRef<str>>(&self, texts: &[S]) -> Result<Analysis> {
        let batch = self.tokenizer.encode_batch(texts)?;
        let runs = self.model.run(&batch)?;
        Ok(Analysis { batch, runs })
    }

    /// For each `[MASK]` of sentence `index`, the `k` likeliest tokens (needs logits kept at load).
    pub fn fill_mask(&self, analysis: &Analysis, index: usize, k: usize) -> Vec<MaskPrediction> {
        let (Some(sentence), Some(run)) = (analysis.batch.sentences.get(index), analysis.runs.get(index)) else {
            return Vec::new();
        };
        let (Some((logits, vocab)), Some(mask_id)) = (&run.logits, self.tokenizer.token_to_id("[MASK]")) else {
            return Vec::new();
        };
        sentence
            .input_ids
            .iter()
            .enumerate()
            .filter(|(_, &id)| id == mask_id)
            .map(|(position, _)| {
                let row = &logits[position * vocab..(position + 1) * vocab];
                let candidates = crate::analysis::top_k_softmax(row, k)
                    .into_iter()
                    .map(|(id, p)| (id as u32, self.tokenizer.id_to_token(id as u32).unwrap_or_default(), p))
                    .collect();
                MaskPrediction { position, candidates }
            })
            .collect()
    }
}
