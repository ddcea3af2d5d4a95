//! A tokenizer and a model that belong together: text in, attention out.

use crate::contain::contain;
use crate::error::{Error, Result};
use crate::model::{LoadOptions, Model, ModelInfo};
use crate::onnx::mixing::LayerMixing;
use crate::output::BatchRun;
use crate::tokenize::Tokenizer;

/// A checked tokenizer/model pair.
#[derive(Debug)]
pub struct Engine {
    tokenizer: Tokenizer,
    model: Model,
}

impl Engine {
    /// Loads both halves and checks that every token id has an embedding row. Natively, a panic
    /// while loading is returned as [`Error::Internal`].
    pub fn new(model_bytes: &[u8], tokenizer_json: &[u8], options: LoadOptions) -> Result<Self> {
        contain("loading the model", || Self::with_model(Model::from_bytes(model_bytes, options)?, tokenizer_json))
    }

    /// As [`Engine::new`], taking the model file: it is freed as soon as it is decoded, so a big
    /// model is not held twice while it loads (see [`Model::from_owned`]).
    pub fn from_owned(model_bytes: Vec<u8>, tokenizer_json: &[u8], options: LoadOptions) -> Result<Self> {
        contain("loading the model", || Self::with_model(Model::from_owned(model_bytes, options)?, tokenizer_json))
    }

    fn with_model(model: Model, tokenizer_json: &[u8]) -> Result<Self> {
        let tokenizer = crate::timing::phase("parse the tokenizer", || {
            Tokenizer::from_json(tokenizer_json, model.info().max_tokens)
        })?;
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
        contain("preparing the model", || self.model.prepare(batch))
    }

    /// The tokenizer, for tokenizing without running (and for reading token ids back as text).
    pub fn tokenizer(&self) -> &Tokenizer {
        &self.tokenizer
    }

    /// Tokenizes sentences as one padded batch and runs it. Natively, a panic while running is
    /// returned as [`Error::Internal`].
    pub fn run<S: AsRef<str>>(&self, texts: &[S]) -> Result<BatchRun> {
        self.run_batch(texts, false)
    }

    /// Like [`Engine::run`], and also reads what the context-mixing measures need
    /// ([`crate::SentenceRun::mixing`]; combine with [`Engine::mixing_layers`] in
    /// [`crate::analysis::mixing`]).
    pub fn run_with_mixing<S: AsRef<str>>(&self, texts: &[S]) -> Result<BatchRun> {
        self.run_batch(texts, true)
    }

    fn run_batch<S: AsRef<str>>(&self, texts: &[S], mixing: bool) -> Result<BatchRun> {
        contain("running the model", || {
            let batch = self.tokenizer.encode_batch(texts)?;
            let runs = self.model.run(&batch, mixing)?;
            Ok(BatchRun { batch, runs })
        })
    }

    /// Each layer's constants for the context-mixing measures.
    pub fn mixing_layers(&self) -> Result<&[LayerMixing]> {
        self.model.mixing_layers().map_err(|e| Error::Mixing(e.to_string()))
    }
}
