//! The one error type of the engine: every failure is a value with a plain message.

use thiserror::Error;

/// Everything that can go wrong between bytes and attention maps.
#[derive(Debug, Error)]
pub enum Error {
    /// The model bytes were empty.
    #[error("the model file is empty (0 bytes)")]
    EmptyModel,
    /// The bytes are not a readable ONNX model (corrupt, truncated, or another format).
    #[error("this is not a readable ONNX model ({0}); the file may be truncated, corrupt or in another format")]
    NotOnnx(String),
    /// The ONNX graph is readable but not a BERT-family encoder this engine can explain.
    #[error("this ONNX model is not a BERT-family encoder: {0}")]
    NotBert(String),
    /// The graph uses an op tract has no builder for; the text names it.
    #[error("this model uses the ONNX op {0}, which bertscope does not run")]
    UnsupportedOp(String),
    /// The graph is BERT-like but tract could not prepare it for running.
    #[error("the model could not be prepared for running: {0}")]
    Prepare(String),
    /// tract failed while running the model.
    #[error("the model failed while running: {0}")]
    Run(String),
    /// The tokenizer.json could not be read.
    #[error("the tokenizer could not be read: {0}")]
    Tokenizer(String),
    /// The tokenizer produces ids the model has no embedding for.
    #[error("the tokenizer and the model do not match: the tokenizer knows {tokenizer} tokens but the model's embedding table has {model} rows")]
    VocabMismatch {
        /// Size of the tokenizer's vocabulary.
        tokenizer: usize,
        /// Rows in the model's word-embedding table.
        model: usize,
    },
    /// The model already stores its weights in fewer bits; the text says which kind.
    #[error("this model is already quantized: {0}; quantize the fp32 export instead")]
    AlreadyQuantized(String),
    /// The quantizer cannot improve this model; the text says why.
    #[error("this model cannot be quantized: {0}")]
    CannotQuantize(String),
    /// The context-mixing measures cannot be computed for this model.
    #[error("context mixing cannot be measured for this model: {0}")]
    Mixing(String),
    /// A run would need more memory than [`crate::MEMORY_BUDGET_BYTES`]; the text says how much.
    #[error("the run does not fit in memory: {0}")]
    OverBudget(String),
    /// A line of input is neither a sentence nor a sentence pair; the text names it and says why.
    #[error("{0}")]
    BadInput(String),
    /// A run was asked for with no sentences.
    #[error("there is no sentence to run")]
    NoSentences,
    /// A panic inside the engine or a library it uses, caught natively (see `contain.rs`); the
    /// text says what the engine was doing and the panic's message.
    #[error("the engine stopped on an internal error while {0}; the model file may be corrupt, or this is a bug in bertscope")]
    Internal(String),
}

/// Shorthand for results of this crate.
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// tract errors nest context; the innermost cause is the plain part.
pub(crate) fn root_cause(e: &tract_onnx::prelude::TractError) -> String {
    let chain: Vec<String> = e.chain().map(|c| c.to_string()).collect();
    match chain.as_slice() {
        [] => "unknown error".into(),
        [only] => only.clone(),
        [first, .., last] => format!("{first}: {last}"),
    }
}
