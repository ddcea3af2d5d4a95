//! A tract op that copies each layer's attention straight into the result's buffers as the plan
//! runs, and passes it on unchanged. Without it the attentions are plan outputs, all alive until
//! the run ends and then copied once more into the result: twice the memory at the peak.

use std::sync::{Arc, Mutex, MutexGuard};

use tract_onnx::prelude::*;
use tract_onnx::tract_core::internal::*;

use crate::kernels::split::{in_parts, parts_for, threads};

/// Where the taps of one plan write: one buffer per sentence, every layer's `[heads, seq, seq]`
/// one after the other. [`crate::model::Model::run`] fills it with zeros before a run and takes
/// it after.
pub type Sink = Arc<Mutex<Vec<Vec<f32>>>>;

/// Locks a sink, whether or not a panic poisoned it (the buffers stay valid either way).
pub fn lock(sink: &Sink) -> MutexGuard<'_, Vec<Vec<f32>>> {
    sink.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
}

/// Copies its `[batch, heads, seq, seq]` input into layer `layer` of every sentence's buffer.
#[derive(Debug, Clone)]
pub struct AttentionTap {
    layer: usize,
    sink: Sink,
}

impl PartialEq for AttentionTap {
    fn eq(&self, other: &Self) -> bool {
        self.layer == other.layer && Arc::ptr_eq(&self.sink, &other.sink)
    }
}

impl Eq for AttentionTap {}

impl Op for AttentionTap {
    fn name(&self) -> StaticName {
        "BertscopeAttentionTap".into()
    }

    fn info(&self) -> TractResult<Vec<String>> {
        Ok(vec![format!("layer {}", self.layer)])
    }

    op_as_typed_op!();
}

impl EvalOp for AttentionTap {
    not_out_of_plan!();

    fn forwards_input(&self) -> Option<usize> {
        Some(0)
    }

    fn eval(&self, _ctx: &EvalContext, inputs: TVec<TValue>) -> TractResult<TVec<TValue>> {
        let input = args_1!(inputs);
        {
            let values = input.try_as_plain_ram()?;
            let values = values.as_slice::<f32>()?;
            let mut buffers = lock(&self.sink);
            let batch = input.shape().first().copied().unwrap_or(0);
            ensure!(batch == buffers.len(), "attention of {batch} sentences for {} buffers", buffers.len());
            let per_layer = values.len() / batch.max(1);
            for (buffer, sentence) in buffers.iter_mut().zip(values.chunks_exact(per_layer.max(1))) {
                let at = self.layer * per_layer;
                ensure!(buffer.len() >= at + per_layer, "layer {} does not fit its buffer", self.layer);
                // Split over the threads when the layer is large (many tokens).
                let parts = parts_for(per_layer, per_layer, threads());
                in_parts(&mut buffer[at..at + per_layer], 1, per_layer.div_ceil(parts), |first, part| {
                    part.copy_from_slice(&sentence[first..first + part.len()]);
                });
            }
        }
        Ok(tvec!(input))
    }
}

impl TypedOp for AttentionTap {
    fn output_facts(&self, inputs: &[&TypedFact]) -> TractResult<TVec<TypedFact>> {
        ensure!(inputs[0].datum_type == f32::datum_type(), "attention is not f32");
        Ok(tvec!(inputs[0].without_value()))
    }

    as_op!();
}

/// Puts a tap after each of the first `layers` outputs (the attention Softmaxes) and keeps
/// only the other outputs as the plan's. Returns the sink the taps write to.
pub fn tap_attention(model: &mut TypedModel, layers: usize) -> TractResult<Sink> {
    let sink = Sink::default();
    let attention: Vec<OutletId> = model.outputs[..layers].to_vec();
    for (layer, outlet) in attention.into_iter().enumerate() {
        let mut patch = TypedModelPatch::default();
        let wire = patch.tap_model(model, outlet)?;
        let name = format!("{}.bertscope_tap", model.node(outlet.node).name);
        let tapped = patch.wire_node(name, AttentionTap { layer, sink: sink.clone() }, &[wire])?[0];
        patch.shunt_outside(model, outlet, tapped)?;
        patch.apply(model)?;
    }
    let rest = model.outputs[layers..].to_vec();
    model.select_output_outlets(&rest)?;
    Ok(sink)
}
