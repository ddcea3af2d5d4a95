//! bertscope's engine: tokenize text with a WordPiece `tokenizer.json`, run a BERT-family ONNX
//! export with tract, and return every layer's and head's attention and hidden states.
//!
//! ```no_run
//! # fn main() -> bertscope_core::Result<()> {
//! let engine = bertscope_core::Engine::new(&std::fs::read("model.onnx").unwrap(),
//!     &std::fs::read("tokenizer.json").unwrap(), Default::default())?;
//! let run = engine.run(&["Apple is huge enterprise", "I am eating an apple"])?;
//! let apple_row = run.runs[0].attention.row(0, 0, 1);
//! # let _ = apple_row; Ok(()) }
//! ```
//!
//! # Layers
//! Data flows one way: [`tokenize`] turns text into a [`Batch`]; [`Model`] reads the ONNX file
//! (the file stage, `onnx/`: parse, rewrite, find the anatomy), builds tract plans with
//! bertscope's operators (`ops/`, computing with [`kernels`]) and returns a [`SentenceRun`] per
//! sentence; [`Engine`] pairs a tokenizer with its model and returns a [`BatchRun`]; [`analysis`]
//! derives measures (rollout, flow, drift, token map, fill-mask) from a run without a model.
//! `kernels` depends on nothing but `std`; nothing below points back up.
//!
//! # Names across the bindings
//! One name per concept: [`Engine`] is `Engine` in the wasm bindings and the page's worker;
//! [`BatchRun`] is `BatchRun` in the bindings, and the page's copy of it (the batch plus each
//! sentence's attention, moved out of the worker as typed arrays) is `BatchRun` in
//! `www/src/engine/protocol.ts`. [`ModelInfo`], [`Batch`], [`Encoding`] and the analysis results
//! keep their names in TypeScript, whose declarations are generated from these types (feature
//! `tsify`, enabled by the wasm bindings).
#![warn(missing_docs)]

pub mod analysis;
mod budget;
mod contain;
mod engine;
mod error;
#[cfg(feature = "bench")]
pub mod kernel_bench;
pub mod kernels;
mod model;
mod onnx;
mod ops;
mod output;
pub mod quantize;
pub mod timing;
pub mod tokenize;

pub use budget::{run_bytes, MEMORY_BUDGET_BYTES};
pub use contain::panic_message;
pub use engine::Engine;
pub use error::{Error, Result};
pub use model::{LoadOptions, MatMulKernel, Model, ModelInfo};
pub use onnx::mixing::LayerMixing;
pub use output::{Attention, BatchRun, HiddenStates, MixingTaps, SentenceRun};
pub use tokenize::{Batch, Encoding, Tokenizer};
