//! WebAssembly bindings of `bertscope-core`. No logic lives here: each method converts types
//! and forwards. Numbers cross as `Float32Array`s with a shape; words cross as plain objects whose
//! TypeScript declarations are generated from the core's types (its `tsify` feature), so the page
//! is type-checked against what the engine really returns.

use bertscope_core::{analysis, quantize as quantizer, LoadOptions};
use js_sys::{Float32Array, Uint8Array};
use wasm_bindgen::prelude::*;

#[cfg(feature = "threads")]
mod threads;

/// Sets up readable panic messages in the browser console (once per instance), the engine's clock,
/// and the tokenizer on the calling thread: a batch is a few sentences, and `tokenizers` asking
/// rayon for its global pool would make a default one of this thread alone, after which the
/// threaded build's real pool could never be made (the page loads a model, or restores a kept one,
/// before it starts the pool).
#[wasm_bindgen(start)]
pub fn start() {
    console_error_panic_hook::set_once();
    bertscope_core::timing::set_clock(performance_now);
    #[cfg(target_arch = "wasm32")]
    tokenizers::utils::parallelism::set_parallelism(false);
}

#[wasm_bindgen]
extern "C" {
    /// The page's (or worker's) clock, in milliseconds.
    #[wasm_bindgen(js_namespace = performance, js_name = now)]
    fn performance_now() -> f64;
}

/// What loading and preparing models did since the last call, phase by phase (timed with
/// `performance.now()`): for User Timing measures and the cold-start benchmark.
#[wasm_bindgen(js_name = takePhases, unchecked_return_type = "Phase[]")]
pub fn take_phases() -> Result<JsValue, JsError> {
    to_js(&bertscope_core::timing::take_phases())
}

fn js_error(e: bertscope_core::Error) -> JsError {
    JsError::new(&e.to_string())
}

/// Name of the errors that are about the sentences given, not the model: the page shows their
/// message as it is, without "Could not run the model".
const INPUT_ERROR: &str = "InputError";

/// A run's error, named [`INPUT_ERROR`] when the sentences are at fault (a bad pair, no sentence).
fn run_error(e: bertscope_core::Error) -> JsValue {
    let about_input = matches!(e, bertscope_core::Error::BadInput(_) | bertscope_core::Error::NoSentences);
    let error = js_sys::Error::new(&e.to_string());
    if about_input {
        error.set_name(INPUT_ERROR);
    }
    error.into()
}

fn to_js<T: serde::Serialize + ?Sized>(value: &T) -> Result<JsValue, JsError> {
    value.serialize(&serde_wasm_bindgen::Serializer::json_compatible()).map_err(|e| JsError::new(&e.to_string()))
}

/// A model and its tokenizer, loaded and optimised once (the core's `Engine`).
#[wasm_bindgen]
pub struct Engine {
    engine: bertscope_core::Engine,
}

#[wasm_bindgen]
impl Engine {
    /// Loads an ONNX export and a `tokenizer.json`; `fillMask` keeps the masked-LM logits. The
    /// model's copy in wasm memory is freed as soon as it is decoded (at DistilBERT-base size,
    /// 67 MB less at the peak of loading than holding it through the load).
    #[wasm_bindgen(constructor)]
    pub fn new(model: Vec<u8>, tokenizer_json: &[u8], fill_mask: bool) -> Result<Engine, JsError> {
        Self::with_first_batch(model, tokenizer_json, fill_mask, 1)
    }

    /// As the constructor, for a first run of `firstBatch` sentences: loading types the graph for
    /// that batch size (it types it for one size anyway) and that run's plan reuses the typing
    /// instead of typing the graph again.
    #[wasm_bindgen(js_name = withFirstBatch)]
    pub fn with_first_batch(
        model: Vec<u8>,
        tokenizer_json: &[u8],
        fill_mask: bool,
        first_batch: usize,
    ) -> Result<Engine, JsError> {
        let options = LoadOptions { logits: fill_mask, first_batch, ..Default::default() };
        let engine = bertscope_core::Engine::from_owned(model, tokenizer_json, options).map_err(js_error)?;
        Ok(Engine { engine })
    }

    /// Loads an ONNX export held in wasm memory, taking it: its bytes are freed as soon as they
    /// are decoded, so a big model is not held twice while tract builds its graph.
    #[wasm_bindgen(js_name = fromFile)]
    pub fn from_file(model: FileBytes, tokenizer_json: &[u8], fill_mask: bool) -> Result<Engine, JsError> {
        let options = LoadOptions { logits: fill_mask, ..Default::default() };
        let engine = bertscope_core::Engine::from_owned(model.bytes, tokenizer_json, options).map_err(js_error)?;
        Ok(Engine { engine })
    }

    /// Optimises the model for batches of `batchSize` sentences now (otherwise the first run
    /// of each batch size does it).
    pub fn prepare(&self, batch_size: usize) -> Result<(), JsError> {
        self.engine.prepare(batch_size).map_err(js_error)
    }

    /// What the model is: layers, heads, sizes, quantization.
    #[wasm_bindgen(unchecked_return_type = "ModelInfo")]
    pub fn info(&self) -> Result<JsValue, JsError> {
        to_js(self.engine.info())
    }

    /// Tokenizes sentences as one padded batch without running the model.
    #[wasm_bindgen(unchecked_return_type = "Batch")]
    pub fn tokenize(&self, texts: Vec<String>) -> Result<JsValue, JsValue> {
        Ok(to_js(&self.engine.tokenizer().encode_batch(&texts).map_err(run_error)?)?)
    }

    /// Tokenizes sentences as one padded batch and runs the model.
    pub fn run(&self, texts: Vec<String>) -> Result<BatchRun, JsValue> {
        Ok(BatchRun { run: self.engine.run(&texts).map_err(run_error)? })
    }

    /// Tokenizes and runs like `run`, also reading what the context-mixing measures need (see
    /// `mixing`). Fails, saying why, for a model whose layers could not be read for them.
    #[wasm_bindgen(js_name = runWithMixing)]
    pub fn run_with_mixing(&self, texts: Vec<String>) -> Result<BatchRun, JsValue> {
        Ok(BatchRun { run: self.engine.run_with_mixing(&texts).map_err(run_error)? })
    }

    /// Norm-based attention (and, with `alti`, ALTI and ALTI rollout, which cost far more) of
    /// sentence `index` of a run made by `runWithMixing`, over its real tokens;
    /// `progress(done, total)` is called after each layer.
    pub fn mixing(
        &self,
        run: &BatchRun,
        index: usize,
        alti: bool,
        #[wasm_bindgen(unchecked_param_type = "(done: number, total: number) => void")] progress: &js_sys::Function,
    ) -> Result<Mixing, JsError> {
        let layers = self.engine.mixing_layers().map_err(js_error)?;
        let sentence = run.sentence(index)?;
        let taps = sentence.mixing.as_ref().ok_or_else(|| JsError::new("this run was made without runWithMixing"))?;
        let tokens = run.run.batch.sentences[index].len;
        let input = analysis::MixingInput { attention: &sentence.attention, hidden: &sentence.hidden, taps, tokens };
        let report = |done: usize, total: usize| {
            let _ = progress.call2(&JsValue::NULL, &JsValue::from(done as u32), &JsValue::from(total as u32));
        };
        let measures = if alti { analysis::Measures::NormsAndAlti } else { analysis::Measures::Norms };
        Ok(Mixing { mixing: analysis::mixing(input, layers, measures, report) })
    }

    /// The `k` likeliest fillers of each `[MASK]` in sentence `index` of a run.
    #[wasm_bindgen(js_name = fillMask, unchecked_return_type = "MaskPrediction[]")]
    pub fn fill_mask(&self, run: &BatchRun, index: usize, k: usize) -> Result<JsValue, JsError> {
        to_js(&analysis::fill_mask(&run.run, self.engine.tokenizer(), index, k))
    }
}

/// The outcome of one run (the core's `BatchRun`): the tokenized batch and, per sentence, flat
/// attention and hidden buffers.
#[wasm_bindgen]
pub struct BatchRun {
    run: bertscope_core::BatchRun,
}

#[wasm_bindgen]
impl BatchRun {
    /// The padded batch as tokenized.
    #[wasm_bindgen(unchecked_return_type = "Batch")]
    pub fn batch(&self) -> Result<JsValue, JsError> {
        to_js(&self.run.batch)
    }

    /// Number of sentences.
    pub fn count(&self) -> usize {
        self.run.runs.len()
    }

    /// Sentence `index`'s attention, `[layer][head][query][key]` (see `attentionShape`).
    pub fn attention(&self, index: usize) -> Result<Float32Array, JsError> {
        Ok(Float32Array::from(self.sentence(index)?.attention.as_slice()))
    }

    /// Copies sentence `index`'s attention (as `attention` gives it) into `into`, which must have
    /// exactly its length: a buffer the caller reuses, so no fresh one is allocated per run.
    #[wasm_bindgen(js_name = copyAttention)]
    pub fn copy_attention(&self, index: usize, into: &Float32Array) -> Result<(), JsError> {
        let attention = self.sentence(index)?.attention.as_slice();
        if into.length() as usize != attention.len() {
            return Err(JsError::new(&format!(
                "the buffer holds {} values and the attention {}",
                into.length(),
                attention.len()
            )));
        }
        into.copy_from(attention);
        Ok(())
    }

    /// Sentence `index`'s attention, held in wasm memory (not copied) for as long as the returned
    /// object lives, whatever happens to this run: read it through `HeldAttention.view`.
    #[wasm_bindgen(js_name = holdAttention)]
    pub fn hold_attention(&self, index: usize) -> Result<HeldAttention, JsError> {
        Ok(HeldAttention { data: self.sentence(index)?.attention.shared() })
    }

    /// `[layers, heads, tokens, tokens]`.
    #[wasm_bindgen(js_name = attentionShape)]
    pub fn attention_shape(&self) -> Vec<u32> {
        self.run.runs.first().map_or(vec![], |r| r.attention.shape().iter().map(|&d| d as u32).collect())
    }

    /// Sentence `index`'s hidden states, `[layer + 1][token][hidden]` (see `hiddenShape`).
    pub fn hidden(&self, index: usize) -> Result<Float32Array, JsError> {
        Ok(Float32Array::from(self.sentence(index)?.hidden.as_slice()))
    }

    /// `[layers + 1, tokens, hidden]`.
    #[wasm_bindgen(js_name = hiddenShape)]
    pub fn hidden_shape(&self) -> Vec<u32> {
        self.run.runs.first().map_or(vec![], |r| r.hidden.shape().iter().map(|&d| d as u32).collect())
    }

    /// Sentence `index`'s attention rollout, `[layer][query][key]` (cumulative through each layer).
    pub fn rollout(&self, index: usize) -> Result<Float32Array, JsError> {
        Ok(Float32Array::from(analysis::rollout(&self.sentence(index)?.attention).as_slice()))
    }

    /// Sentence `index`'s attention flow over its real tokens, `[query][key]` rows normalised to 1;
    /// `progress(done, total)` is called per query row. Up to 64 tokens.
    pub fn flow(
        &self,
        index: usize,
        #[wasm_bindgen(unchecked_param_type = "(done: number, total: number) => void")] progress: &js_sys::Function,
    ) -> Result<Float32Array, JsError> {
        let attention = &self.sentence(index)?.attention;
        let tokens = self.run.batch.sentences[index].len;
        let report = |done: usize, total: usize| {
            let _ = progress.call2(&JsValue::NULL, &JsValue::from(done as u32), &JsValue::from(total as u32));
        };
        let flow = analysis::flow(attention, tokens, report).map_err(|e| JsError::new(&e.to_string()))?;
        Ok(Float32Array::from(flow.normalized().as_slice()))
    }

    /// How the `occurrence`-th (from 1) `word` compares between sentences `a` and `b` at every
    /// level (a word of several pieces by the mean of their vectors), or `null` when either
    /// sentence lacks it. Words are found as `analysis::find_word` finds them.
    #[wasm_bindgen(unchecked_return_type = "WordDrift | null")]
    pub fn drift(&self, a: usize, b: usize, word: &str, occurrence: usize) -> Result<JsValue, JsError> {
        to_js(&analysis::word_drift_at(&self.run, a, b, word, occurrence))
    }

    /// Each head's shares, entropy and role over the run's sentences, `[layer][head]`.
    #[wasm_bindgen(js_name = headStats, unchecked_return_type = "HeadStats[][]")]
    pub fn head_stats(&self) -> Result<JsValue, JsError> {
        let [layers, heads, _, _] = self.sentence(0)?.attention.shape();
        let mut roles = analysis::HeadRoles::new(layers, heads);
        for (sentence, run) in self.run.batch.sentences.iter().zip(&self.run.runs) {
            roles.add(&run.attention, sentence);
        }
        to_js(&roles.stats())
    }

    /// Every real token's final hidden vector, projected to 2-D by PCA.
    #[wasm_bindgen(js_name = tokenMap, unchecked_return_type = "TokenMap")]
    pub fn token_map(&self) -> Result<JsValue, JsError> {
        to_js(&analysis::token_map(&self.run))
    }
}

/// One sentence's attention (as `BatchRun.attention` gives it), kept where the run left it in wasm
/// memory until this object is freed: the threaded page reads it through a view instead of a copy.
#[wasm_bindgen]
pub struct HeldAttention {
    data: std::sync::Arc<Vec<f32>>,
}

#[wasm_bindgen]
impl HeldAttention {
    /// A view of the attention in wasm memory, no copy; it reads the attention until this object is
    /// freed, and nothing writes it meanwhile. Where wasm memory is shared (the threaded build) the
    /// view stays valid when memory grows and is posted to another thread without a copy; on a
    /// plain memory, growing it empties the view, so read it before the next call into wasm.
    pub fn view(&self) -> Float32Array {
        // SAFETY: the view aliases `self.data`, which is never written (attention is immutable once
        // made, see `Attention::shared`) and lives until `self` is freed; the caller stops reading
        // the view before freeing it.
        unsafe { Float32Array::view(self.data.as_slice()) }
    }

    /// Values held.
    #[wasm_bindgen(getter)]
    pub fn length(&self) -> usize {
        self.data.len()
    }
}

/// The `occurrence`-th (from 1) `word` of a sentence of a batch (an `Encoding` the engine returned),
/// or why it is not there, in words: `analysis::find_word`, the one rule for what a word is, so the
/// page's views and the widget never decide it themselves.
#[wasm_bindgen(js_name = findWord, unchecked_return_type = "WordFocus")]
pub fn find_word(
    #[wasm_bindgen(unchecked_param_type = "Encoding")] encoding: JsValue,
    word: &str,
    occurrence: usize,
) -> Result<JsValue, JsError> {
    let encoding: bertscope_core::Encoding = serde_wasm_bindgen::from_value(encoding)
        .map_err(|e| JsError::new(&format!("not a sentence of a batch: {e}")))?;
    to_js(&analysis::word_focus(&encoding, word, occurrence))
}

/// How far attention moved between two runs of the same sentences (each probability compared,
/// padding included), or `null` when the runs do not have the same shape.
#[wasm_bindgen(js_name = attentionChange, unchecked_return_type = "AttentionChange | null")]
pub fn attention_change(before: &BatchRun, after: &BatchRun) -> Result<JsValue, JsError> {
    to_js(&quantizer::attention_change(&before.run, &after.run))
}

/// A file's bytes in wasm memory. The page writes a file into it piece by piece (through
/// `view`), so no second whole copy of a big model ever exists in JavaScript; `Engine.fromFile`
/// takes it, `quantize` reads it.
#[wasm_bindgen]
pub struct FileBytes {
    bytes: Vec<u8>,
}

#[wasm_bindgen]
impl FileBytes {
    /// `length` zero bytes, to be written through `view`.
    #[wasm_bindgen(constructor)]
    pub fn new(length: usize) -> FileBytes {
        FileBytes { bytes: vec![0; length] }
    }

    /// The bytes, as a view of wasm memory: write into it or hash it at once, before any other
    /// call into the engine (a call that grows wasm memory leaves the view empty).
    pub fn view(&mut self) -> Uint8Array {
        // SAFETY: the view aliases `self.bytes`, which lives until `self` is freed or taken; JS
        // uses it before its next call into wasm (see above), and no Rust borrow of the bytes is
        // alive while JS holds it.
        unsafe { Uint8Array::view_mut_raw(self.bytes.as_mut_ptr(), self.bytes.len()) }
    }

    /// Length in bytes.
    #[wasm_bindgen(getter)]
    pub fn length(&self) -> usize {
        self.bytes.len()
    }
}

impl From<Vec<u8>> for FileBytes {
    fn from(bytes: Vec<u8>) -> Self {
        FileBytes { bytes }
    }
}

/// Quantizes a BERT-family fp32 ONNX export to weight-only int8 (the core's `quantize`);
/// `progress(done, total)` is called before the first tensor and after each one.
#[wasm_bindgen]
pub fn quantize(
    model: &FileBytes,
    #[wasm_bindgen(unchecked_param_type = "(done: number, total: number) => void")] progress: &js_sys::Function,
) -> Result<Quantized, JsError> {
    let report = |done: usize, total: usize| {
        let _ = progress.call2(&JsValue::NULL, &JsValue::from(done as u32), &JsValue::from(total as u32));
    };
    Ok(Quantized { quantized: quantizer::quantize(&model.bytes, report).map_err(js_error)? })
}

/// A quantized model (the core's `Quantized`): the new file, held in wasm memory until freed,
/// and what was done to it.
#[wasm_bindgen]
pub struct Quantized {
    quantized: quantizer::Quantized,
}

#[wasm_bindgen]
impl Quantized {
    /// A copy of the new ONNX file.
    pub fn bytes(&self) -> Uint8Array {
        Uint8Array::from(self.quantized.bytes.as_slice())
    }

    /// Sizes, the tensors stored as int8, and how they are rebuilt.
    #[wasm_bindgen(unchecked_return_type = "QuantizeReport")]
    pub fn report(&self) -> Result<JsValue, JsError> {
        to_js(&self.quantized.report)
    }
}

/// One sentence's context-mixing measures (the core's `analysis::Mixing`), over its real tokens.
#[wasm_bindgen]
pub struct Mixing {
    mixing: analysis::Mixing,
}

#[wasm_bindgen]
impl Mixing {
    /// `[layers, heads, tokens]`.
    pub fn shape(&self) -> Vec<u32> {
        self.mixing.shape().iter().map(|&d| d as u32).collect()
    }

    /// Attention × value norm per head, `[layer][head][i][j]`.
    #[wasm_bindgen(js_name = normHead)]
    pub fn norm_head(&self) -> Float32Array {
        Float32Array::from(self.mixing.norm_head())
    }

    /// Attention × value norm of the heads together, `[layer][i][j]`.
    #[wasm_bindgen(js_name = normLayer)]
    pub fn norm_layer(&self) -> Float32Array {
        Float32Array::from(self.mixing.norm_layer())
    }

    /// ALTI per layer, `[layer][i][j]`, rows summing to 1.
    pub fn alti(&self) -> Float32Array {
        Float32Array::from(self.mixing.alti())
    }

    /// ALTI through the layers, `[layer][i][j]`, rows summing to 1.
    #[wasm_bindgen(js_name = altiRollout)]
    pub fn alti_rollout(&self) -> Float32Array {
        Float32Array::from(self.mixing.alti_rollout())
    }

    /// Per layer, how far the decomposition's sum is from the model's own residual sum.
    #[wasm_bindgen(js_name = reconstructionError)]
    pub fn reconstruction_error(&self) -> Float32Array {
        Float32Array::from(self.mixing.reconstruction_error())
    }
}

impl BatchRun {
    fn sentence(&self, index: usize) -> Result<&bertscope_core::SentenceRun, JsError> {
        self.run.runs.get(index).ok_or_else(|| JsError::new(&format!("no sentence {index} in this run")))
    }
}
