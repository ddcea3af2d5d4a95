//! bertscope's engine: tokenize text with a WordPiece `tokenizer.json`, run a BERT-family ONNX
//! export with tract, and return every layer's and head's attention and hidden states.
//!
//! ```no_run
//! # fn main() -> bertscope_core::Result<()> {
//! let engine = bertscope_core::Engine::new(&std::fs::read("model.onnx").unwrap(),
//!     &std::fs::read("tokenizer.json").unwrap(), Default::default())?;
//! let analysis = engine.run(&["Apple is huge enterprise", "I am eating an apple"])?;
//! let apple_row = analysis.runs[0].attention.row(0, 0, 1);
//! # let _ = apple_row; Ok(()) }
//! ```
#![warn(missing_docs)]

pub mod analysis;
mod engine;
mod error;
pub mod kernels;
pub mod model;
mod output;
pub mod quantize;
pub mod tokenize;

pub use engine::{Analysis, Engine, MaskPrediction};
pub use error::{Error, Result};
pub use model::{LoadOptions, MatMulKernel, Model, ModelInfo};
pub use output::{Attention, HiddenStates, SentenceRun};
pub use tokenize::{Batch, Encoding, Tokenizer};
