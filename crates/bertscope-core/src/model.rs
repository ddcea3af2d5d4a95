//! A BERT-family model prepared once for tract: the file read and rewritten by [`crate::onnx`],
//! every attention Softmax and every layer's hidden state made an output, one optimised plan per
//! batch size with the operators of [`crate::ops`] in place.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use serde::Serialize;
use tract_onnx::prelude::*;
use tract_onnx::tract_hir::internal::InferenceFact;
use tract_onnx::tract_hir::internal::{ensure, DimLike};

use crate::error::{root_cause, Error, Result};
use crate::kernels::split::with_pool_awake;
use crate::onnx::inputs::{Input, Role};
use crate::onnx::mixing::LayerMixing;
use crate::ops::{
    batched_matmul, checked_expand, checked_flatten, checked_gather, checked_matmul, checked_range, checked_reduce,
    checked_unsqueeze, int8_matmul, packed_matmul, tap,
};
use crate::output::{Attention, HiddenStates, MixingTaps, SentenceRun};
use crate::timing::phase;
use crate::tokenize::Batch;

/// What the page says about the model it shows.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[cfg_attr(feature = "tsify", derive(tsify::Tsify))]
pub struct ModelInfo {
    /// Encoder layers (one attention Softmax each).
    pub layers: usize,
    /// Attention heads per layer.
    pub heads: usize,
    /// Width of the hidden states.
    pub hidden_size: usize,
    /// Rows of the word-embedding table, when the graph shows it.
    #[cfg_attr(feature = "tsify", tsify(type = "number | null"))]
    pub vocab_size: Option<usize>,
    /// Longest input in tokens (rows of the position-embedding table, else 512).
    pub max_tokens: usize,
    /// How the weights are stored, in words ("fp32", "weight-only int8 (per-channel)", ...).
    pub quantization: String,
    /// Size of the ONNX file in bytes.
    pub file_bytes: usize,
    /// Whether the graph takes `token_type_ids` (BERT does, DistilBERT does not).
    pub token_type_ids: bool,
    /// How many segment ids (`token_type_ids` values) the model has embeddings for: the rows of
    /// its token-type table when the graph takes `token_type_ids` and the table is found.
    #[cfg_attr(feature = "tsify", tsify(type = "number | null"))]
    pub token_types: Option<usize>,
    /// Whether the graph ends in a masked-language-model head (`logits`).
    pub fill_mask: bool,
}

/// How to prepare a model.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct LoadOptions {
    /// Keep the `logits` output of masked-language-model exports (costs a vocabulary-wide product).
    pub logits: bool,
    /// Batch size to optimise for at load; 0 prepares nothing until the first run, which then
    /// optimises for its own batch size (the page's choice: one plan, built when needed).
    pub batch_size: usize,
    /// How many sentences the first run is expected to have, when `batch_size` is 0 (0 counts as
    /// 1). Loading types the graph for that batch size anyway (to check its shapes), and keeps
    /// the typing for that run's plan: the page saves typing the graph a second time.
    pub first_batch: usize,
    /// Who multiplies activations by constant weights.
    pub matmul: MatMulKernel,
}

/// The kernel for products of activations with constant weight matrices.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum MatMulKernel {
    /// bertscope's kernels in wasm with simd128 (constant-weight products, in integers where
    /// the weights are whole steps, and attention products; 1.6-3x tract's there); tract's own
    /// kernels natively, where its AVX2/FMA code is far faster than the portable loops.
    #[default]
    Auto,
    /// Always bertscope's kernels (natively their portable loops: for tests and fuzzing).
    Packed,
    /// Always tract's.
    Tract,
}

impl MatMulKernel {
    fn packed(self) -> bool {
        match self {
            Self::Auto => cfg!(all(target_arch = "wasm32", target_feature = "simd128")),
            Self::Packed => true,
            Self::Tract => false,
        }
    }
}

/// A loaded, optimised model ready to run batches of any length up to its maximum.
pub struct Model {
    /// The parsed graph with its outputs chosen, before shapes are fixed. With bertscope's
    /// kernels its weight-only int8 products hold their packed weights, shared by every plan.
    template: InferenceModel,
    /// Optimised plans by batch size and whether they read the mixing tensors: one symbolic
    /// sequence length each.
    plans: Mutex<HashMap<(usize, bool), Arc<Plan>>>,
    /// The graph last typed, for its batch size: the plans of that batch size (with the mixing
    /// tensors or without) start from it instead of typing the graph again.
    typed: Mutex<Option<Typed>>,
    inputs: Vec<Input>,
    info: ModelInfo,
    with_logits: bool,
    packed_matmul: bool,
    /// What context-mixing runs read, or why this model cannot give it.
    mixing: std::result::Result<Mixing, String>,
}

/// The tensors a mixing plan also outputs (each layer's values, then its residual sum) and the
/// constants the measures combine them with.
struct Mixing {
    outlets: Vec<OutletId>,
    layers: Vec<LayerMixing>,
}

/// The graph typed for `batch` rows, its outputs the template's then, if `with_mixing`, the
/// mixing tensors.
struct Typed {
    batch: usize,
    with_mixing: bool,
    model: TypedModel,
}

/// An optimised plan and the sink its attention taps write to.
struct Plan {
    runnable: Arc<TypedRunnableModel>,
    sink: tap::Sink,
    /// Held for a whole run: the sink serves one run at a time.
    running: Mutex<()>,
}

impl std::fmt::Debug for Model {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Model").field("info", &self.info).finish_non_exhaustive()
    }
}

impl Model {
    /// Parses, rewrites and optimises an ONNX export held in memory.
    pub fn from_bytes(bytes: &[u8], options: LoadOptions) -> Result<Self> {
        Self::load(bytes, options)
    }

    /// As [`Model::from_bytes`], taking the file: it is freed as soon as it is decoded.
    ///
    /// The weights exist in three forms while a model loads: the file, the decoded protobuf and
    /// tract's graph. Given the file, the loader frees it once decoded and the protobuf once
    /// parsed, so no more than two are alive at once.
    pub fn from_owned(bytes: Vec<u8>, options: LoadOptions) -> Result<Self> {
        Self::load(bytes, options)
    }

    fn load(bytes: impl AsRef<[u8]>, options: LoadOptions) -> Result<Self> {
        let file_bytes = bytes.as_ref().len();
        let mut onnx = tract_onnx::onnx().with_ignore_value_info(true);
        checked_gather::register(&mut onnx.op_register);
        checked_unsqueeze::register(&mut onnx.op_register);
        checked_flatten::register(&mut onnx.op_register);
        checked_range::register(&mut onnx.op_register);
        checked_expand::register(&mut onnx.op_register);
        checked_matmul::register(&mut onnx.op_register);
        let packed = options.matmul.packed();
        if packed {
            int8_matmul::register(&mut onnx.op_register);
        }
        let crate::onnx::OnnxFile { proto, inputs, anatomy, quantization, mixing } = crate::onnx::read(bytes, packed)?;
        // The operator set as tract reads it.
        let opset = proto.opset_import.iter().find(|i| i.domain.is_empty() || i.domain == "ai.onnx");
        checked_reduce::register(&mut onnx.op_register, opset.map_or(0, |i| i.version));
        refuse_unknown_ops(&proto, &onnx.op_register)?;
        let token_types = type_table_rows(&proto, &inputs);
        let parsed = phase("parse the graph", || onnx.parse(&proto, None)).map_err(|e| Error::NotOnnx(root_cause(&e)));
        drop(proto);
        let parsed = parsed?;
        if !parsed.unresolved_inputs.is_empty() {
            return Err(Error::NotOnnx(format!("it refers to missing tensors {:?}", parsed.unresolved_inputs)));
        }
        let mut model = parsed.model;
        let outlet = |name: &str| {
            parsed
                .outlets_by_name
                .get(name)
                .copied()
                .ok_or_else(|| Error::NotBert(format!("tensor {name} is missing from the parsed graph")))
        };
        let with_logits = options.logits && anatomy.logits.is_some();
        let mut outputs =
            anatomy.attention.iter().chain(&anatomy.hidden).map(|n| outlet(n)).collect::<Result<Vec<_>>>()?;
        if with_logits {
            outputs.push(outlet(anatomy.logits.as_deref().unwrap_or_default())?);
        }
        model.select_output_outlets(&outputs).map_err(|e| Error::Prepare(root_cause(&e)))?;
        let mixing = mixing.and_then(|found| {
            let names = found.tensors.iter().flat_map(|t| [t.values.as_str(), t.residual.as_str()]);
            let outlets = names.map(|n| outlet(n).map_err(|e| e.to_string())).collect::<std::result::Result<_, _>>()?;
            Ok(Mixing { outlets, layers: found.layers })
        });
        let batch = if options.batch_size > 0 { options.batch_size } else { options.first_batch.max(1) };
        let typed = type_with_mixing(&model, &inputs, batch, mixing.as_ref().ok())?;
        let (heads, hidden_size) = check_output_shapes(&typed.model, anatomy.attention.len(), anatomy.hidden.len())?;
        let mut plans = HashMap::new();
        if options.batch_size > 0 {
            let plain = typed.without_mixing(outputs.len());
            plans.insert((options.batch_size, false), optimise(plain, packed, anatomy.attention.len())?);
        }

        let info = ModelInfo {
            layers: anatomy.attention.len(),
            heads,
            hidden_size,
            vocab_size: anatomy.vocab_rows,
            max_tokens: anatomy.max_positions.unwrap_or(crate::tokenize::DEFAULT_MAX_TOKENS),
            quantization,
            file_bytes,
            token_type_ids: inputs.iter().any(|(r, _)| *r == Role::TokenTypeIds),
            token_types,
            fill_mask: anatomy.logits.is_some(),
        };
        Ok(Self {
            template: model,
            plans: Mutex::new(plans),
            typed: Mutex::new(Some(typed)),
            inputs,
            info,
            with_logits,
            packed_matmul: packed,
            mixing,
        })
    }

    /// Optimises the plan for batches of `batch` sentences now rather than on their first run.
    pub fn prepare(&self, batch: usize) -> Result<()> {
        self.plan(batch.max(1), false).map(|_| ())
    }

    /// The plan for `batch` rows (also outputting the mixing tensors if `mixing`), optimised on
    /// first use and kept.
    fn plan(&self, batch: usize, mixing: bool) -> Result<Arc<Plan>> {
        let mut plans = self.plans.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
        if let Some(plan) = plans.get(&(batch, mixing)) {
            return Ok(plan.clone());
        }
        let typed = self.typed(batch, mixing)?;
        let plan = optimise(typed, self.packed_matmul, self.info.layers)?;
        plans.insert((batch, mixing), plan.clone());
        Ok(plan)
    }

    /// The graph typed for `batch` rows, with the mixing tensors as outputs if `mixing`: from
    /// the last typing when it was for `batch` (and has them, if asked), else typed now (with
    /// them, when the model has them) and kept.
    fn typed(&self, batch: usize, mixing: bool) -> Result<TypedModel> {
        let mut kept = self.typed.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
        let reusable = kept.as_ref().is_some_and(|t| t.batch == batch && (t.with_mixing || !mixing));
        if !reusable {
            *kept = Some(match self.mixing() {
                Ok(found) if mixing => Typed {
                    batch,
                    with_mixing: true,
                    model: typed_for_batch(&self.template, &self.inputs, batch, &found.outlets)?,
                },
                Err(why) if mixing => return Err(Error::Mixing(why.to_string())),
                found => type_with_mixing(&self.template, &self.inputs, batch, found.ok())?,
            });
        }
        let typed = kept.as_ref().expect("typed above");
        let own_outputs = self.template.outputs.len();
        Ok(if mixing { typed.model.clone() } else { typed.without_mixing(own_outputs) })
    }

    fn mixing(&self) -> std::result::Result<&Mixing, &str> {
        self.mixing.as_ref().map_err(String::as_str)
    }

    /// Each layer's constants for the context-mixing measures, or why this model has none.
    pub fn mixing_layers(&self) -> std::result::Result<&[LayerMixing], &str> {
        self.mixing().map(|m| m.layers.as_slice())
    }

    /// Layers, heads, sizes and quantization of the loaded model.
    pub fn info(&self) -> &ModelInfo {
        &self.info
    }

    /// Runs a padded batch, as one batch, and returns each sentence's attentions, hidden states
    /// and (if kept) logits; with `mixing`, also what the context-mixing measures read
    /// ([`SentenceRun::mixing`]).
    pub fn run(&self, batch: &Batch, mixing: bool) -> Result<Vec<SentenceRun>> {
        let s = batch.seq_len;
        if batch.sentences.is_empty() {
            return Err(Error::NoSentences);
        }
        if s > self.info.max_tokens {
            return Err(Error::Run(format!(
                "{s} tokens is more than this model's maximum of {}",
                self.info.max_tokens
            )));
        }
        self.check_token_types(batch)?;
        if let Some(vocab) = self.info.vocab_size {
            let max_id = batch.sentences.iter().flat_map(|e| e.input_ids.iter()).copied().max().unwrap_or(0) as usize;
            if max_id >= vocab {
                return Err(Error::VocabMismatch { tokenizer: max_id + 1, model: vocab });
            }
        }
        crate::budget::check(&self.info, batch.sentences.len(), s, mixing)?;
        let plan = self.plan(batch.sentences.len(), mixing)?;
        let inputs = self
            .inputs
            .iter()
            .map(|(role, dt)| {
                let values: Vec<i64> = batch
                    .sentences
                    .iter()
                    .flat_map(|e| match role {
                        Role::InputIds => e.input_ids.iter().map(|&v| v as i64).collect::<Vec<_>>(),
                        Role::AttentionMask => e.attention_mask.iter().map(|&v| v as i64).collect(),
                        Role::TokenTypeIds => e.token_type_ids.iter().map(|&v| v as i64).collect(),
                    })
                    .collect();
                Ok(Tensor::from_shape(&[batch.sentences.len(), s], &values)?
                    .cast_to_dt(*dt)?
                    .into_owned()
                    .into_tvalue())
            })
            .collect::<TractResult<TVec<TValue>>>()
            .map_err(|e| Error::Run(root_cause(&e)))?;
        let (l, h) = (self.info.layers, self.info.heads);
        let _running = plan.running.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
        *tap::lock(&plan.sink) = (0..batch.sentences.len()).map(|_| vec![0.0; l * h * s * s]).collect();
        // The graph alone: a plan made above for a new batch size would keep the pool busy for nothing.
        let outputs = with_pool_awake(|| plan.runnable.run(inputs));
        let attention = std::mem::take(&mut *tap::lock(&plan.sink));
        let outputs = outputs.map_err(|e| Error::Run(root_cause(&e)))?;
        let mut runs = split_outputs(&outputs, attention, &self.info, s, self.with_logits)
            .map_err(|e| Error::Run(root_cause(&e)))?;
        if mixing {
            let first = self.info.layers + 1 + usize::from(self.with_logits);
            split_mixing(&outputs[first..], &mut runs, &self.info, s).map_err(|e| Error::Run(root_cause(&e)))?;
        }
        Ok(runs)
    }
}

impl Model {
    /// Refuses segment ids past the token-type table before tract looks them up (its `Gather`
    /// trusts its indices, and a panic in wasm kills the engine). Without a table found, the
    /// BERT convention of two segments (0 and 1) is assumed.
    fn check_token_types(&self, batch: &Batch) -> Result<()> {
        if !self.info.token_type_ids {
            return Ok(());
        }
        let types = self.info.token_types.unwrap_or(2);
        let past = batch.sentences.iter().enumerate().find_map(|(i, e)| {
            e.token_type_ids.iter().copied().max().filter(|&t| t as usize >= types).map(|t| (i + 1, t))
        });
        match past {
            Some((sentence, t)) => Err(Error::BadInput(format!(
                "sentence {sentence} has token_type_ids up to {t}, and this model has {types} token types: the \
                 tokenizer's pair template does not fit this model"
            ))),
            None => Ok(()),
        }
    }
}

/// Rows of the token-type table of a graph that takes `token_type_ids`.
fn type_table_rows(proto: &tract_onnx::pb::ModelProto, inputs: &[Input]) -> Option<usize> {
    let graph = proto.graph.as_ref()?;
    let initializers: std::collections::HashSet<&str> = graph.initializer.iter().map(|t| t.name.as_str()).collect();
    let names = graph.input.iter().filter(|i| !initializers.contains(i.name.as_str()));
    let name = names.zip(inputs).find(|(_, (role, _))| *role == Role::TokenTypeIds).map(|(i, _)| i.name.as_str())?;
    crate::onnx::anatomy::rows_read_by(graph, name)
}

impl Typed {
    /// A copy whose outputs are only the template's first `own_outputs`; the nodes only the
    /// mixing outputs needed go when the plan is decluttered.
    fn without_mixing(&self, own_outputs: usize) -> TypedModel {
        let mut model = self.model.clone();
        model.outputs.truncate(own_outputs);
        model
    }
}

/// Types the graph for `batch` rows with the mixing tensors as extra outputs when the model has
/// them. Should that fail, the graph is typed without them, so a model that cannot give the
/// mixing tensors still loads (and its mixing runs fail, saying why).
fn type_with_mixing(
    template: &InferenceModel,
    inputs: &[Input],
    batch: usize,
    mixing: Option<&Mixing>,
) -> Result<Typed> {
    if let Some(mixing) = mixing {
        if let Ok(model) = typed_for_batch(template, inputs, batch, &mixing.outlets) {
            return Ok(Typed { batch, with_mixing: true, model });
        }
    }
    Ok(Typed { batch, with_mixing: false, model: typed_for_batch(template, inputs, batch, &[])? })
}

/// Fixes the batch size (the sequence length stays symbolic) and types the graph.
///
/// The batch is concrete because the attention-mask subgraph of some exporters
/// (transformers 5.x: Range, Flatten, Gather over `batch × seq`) cannot be optimised with
/// both dimensions symbolic. It cannot be run row by row instead: dynamic int8 exports
/// quantize activations with one scale per tensor, so rows of a batch do interact.
/// `extra` outlets become outputs too, after the template's own.
fn typed_for_batch(
    template: &InferenceModel,
    inputs: &[Input],
    batch: usize,
    extra: &[OutletId],
) -> Result<TypedModel> {
    let mut model = template.clone();
    if !extra.is_empty() {
        let outputs: Vec<OutletId> = model.output_outlets().map_err(|e| Error::Prepare(root_cause(&e)))?.to_vec();
        let outputs: Vec<OutletId> = outputs.into_iter().chain(extra.iter().copied()).collect();
        model.select_output_outlets(&outputs).map_err(|e| Error::Prepare(root_cause(&e)))?;
    }
    let seq = model.symbols.sym("S").to_dim();
    for (i, (_, dt)) in inputs.iter().enumerate() {
        model
            .set_input_fact(i, InferenceFact::dt_shape(*dt, tvec![batch.to_dim(), seq.clone()]))
            .map_err(|e| Error::Prepare(root_cause(&e)))?;
    }
    phase("type the graph", || model.into_typed()).map_err(|e| Error::Prepare(root_cause(&e)))
}

/// Declutters, taps the first `layers` outputs (the attentions) so they are written into the
/// result as the plan runs, hands the constant-weight products to our GEMM if `packed`, then
/// lets tract optimise the rest.
fn optimise(mut typed: TypedModel, packed: bool, layers: usize) -> Result<Arc<Plan>> {
    let prepare = |e: TractError| Error::Prepare(root_cause(&e));
    phase("declutter", || typed.declutter()).map_err(prepare)?;
    let sink = tap::tap_attention(&mut typed, layers).map_err(prepare)?;
    if packed {
        phase("our products", || {
            packed_matmul::replace_constant_matmuls(&mut typed)?;
            batched_matmul::replace_batched_matmuls(&mut typed)
        })
        .map_err(prepare)?;
    }
    phase("optimise", || typed.optimize()).map_err(prepare)?;
    let runnable = phase("make runnable", || typed.into_runnable()).map_err(prepare)?;
    Ok(Arc::new(Plan { runnable, sink, running: Mutex::new(()) }))
}

/// Checks attention is `[batch, heads, seq, seq]` and hidden states `[batch, seq, width]`.
fn check_output_shapes(model: &TypedModel, layers: usize, hidden: usize) -> Result<(usize, usize)> {
    let shape = |i: usize| -> Result<Vec<TDim>> {
        let fact = model.output_fact(i).map_err(|e| Error::Prepare(root_cause(&e)))?;
        Ok(fact.shape.iter().cloned().collect())
    };
    let first = shape(0)?;
    let heads = match first.as_slice() {
        [_, h, q, k] if q == k => h.to_usize().ok(),
        _ => None,
    }
    .ok_or_else(|| Error::NotBert(format!("its Softmax output has shape {first:?}, not [batch, heads, seq, seq]")))?;
    for l in 1..layers {
        if shape(l)?.get(1).and_then(|h| h.to_usize().ok()) != Some(heads) {
            return Err(Error::NotBert("its attention layers have different numbers of heads".into()));
        }
    }
    let width = shape(layers)?.last().and_then(|d| d.to_usize().ok());
    for i in layers..layers + hidden {
        let s = shape(i)?;
        if s.len() != 3 || s.last().and_then(|d| d.to_usize().ok()) != width {
            return Err(Error::NotBert(format!("a layer output has shape {s:?}, not [batch, seq, hidden]")));
        }
    }
    Ok((heads, width.unwrap_or(0)))
}

/// Gives each sentence its attention buffer (filled by the taps) and cuts the batch-shaped
/// hidden states (and logits) into per-sentence buffers.
fn split_outputs(
    outputs: &[TValue],
    attention: Vec<Vec<f32>>,
    info: &ModelInfo,
    s: usize,
    logits: bool,
) -> TractResult<Vec<SentenceRun>> {
    let (l, h, d) = (info.layers, info.heads, info.hidden_size);
    let b = attention.len();
    let mut runs = attention
        .into_iter()
        .map(|buffer| {
            let attention = Attention::from_vec(buffer, l, h, s);
            let attention = attention.ok_or_else(|| TractError::msg("attention buffer of the wrong size"))?;
            Ok(SentenceRun { attention, hidden: HiddenStates::zeros(l + 1, s, d), logits: None, mixing: None })
        })
        .collect::<TractResult<Vec<_>>>()?;
    for (layer, output) in outputs[..=l].iter().enumerate() {
        let view = output.to_plain_array_view::<f32>()?;
        ensure!(view.shape() == [b, s, d], "hidden output has shape {:?}", view.shape());
        for (run, sentence) in runs.iter_mut().zip(view.outer_iter()) {
            run.hidden.layer_mut(layer).iter_mut().zip(sentence.iter()).for_each(|(o, v)| *o = *v);
        }
    }
    if logits {
        let view = outputs[l + 1].to_plain_array_view::<f32>()?;
        ensure!(view.ndim() == 3 && view.shape()[..2] == [b, s], "logits output has shape {:?}", view.shape());
        let vocab = view.shape()[2];
        for (run, sentence) in runs.iter_mut().zip(view.outer_iter()) {
            run.logits = Some((sentence.iter().copied().collect(), vocab));
        }
    }
    Ok(runs)
}

/// Cuts each layer's values (`[batch, heads, seq, head_dim]`) and residual sum (`[batch, seq,
/// hidden]`), in that order per layer, into each sentence's [`MixingTaps`].
fn split_mixing(outputs: &[TValue], runs: &mut [SentenceRun], info: &ModelInfo, s: usize) -> TractResult<()> {
    let (l, h, d) = (info.layers, info.heads, info.hidden_size);
    let b = runs.len();
    ensure!(outputs.len() == 2 * l, "{} mixing outputs for {l} layers", outputs.len());
    for run in runs.iter_mut() {
        run.mixing =
            Some(MixingTaps { values: Vec::with_capacity(l * s * d), residual: Vec::with_capacity(l * s * d) });
    }
    for pair in outputs.chunks_exact(2) {
        let values = pair[0].to_plain_array_view::<f32>()?;
        ensure!(
            values.ndim() == 4 && values.shape()[..3] == [b, h, s] && values.shape()[3] * h == d,
            "attention values have shape {:?}, not [batch, heads, seq, head_dim]",
            values.shape()
        );
        let residual = pair[1].to_plain_array_view::<f32>()?;
        ensure!(residual.shape() == [b, s, d], "the residual sum has shape {:?}", residual.shape());
        for ((run, v), r) in runs.iter_mut().zip(values.outer_iter()).zip(residual.outer_iter()) {
            let taps = run.mixing.as_mut().expect("set above");
            taps.values.extend(v.iter());
            taps.residual.extend(r.iter());
        }
    }
    Ok(())
}

/// Refuses, naming it, the first op of the graph that tract has no builder for (a newer ONNX op, or
/// a runtime's own, like onnxruntime's fused `com.microsoft` ops). tract would otherwise put a
/// placeholder in its place and fail later with a message about type analysis.
fn refuse_unknown_ops(proto: &tract_onnx::pb::ModelProto, register: &tract_onnx::model::OnnxOpRegister) -> Result<()> {
    let nodes = proto.graph.iter().flat_map(|g| &g.node);
    match nodes.map(|n| &n.op_type).find(|op| !register.0.contains_key(op.as_str())) {
        Some(op) => Err(Error::UnsupportedOp(op.clone())),
        None => Ok(()),
    }
}
