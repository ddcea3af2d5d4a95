//! ONNX `Expand` as tract reads it, but refusing a target shape with a negative dimension. tract
//! asserts shapes are not negative (a panic); the target shape is often computed from other
//! constants (a `ConstantOfShape` times a constant), known only while tract types the graph.

use tract_onnx::model::{OnnxOpRegister, ParsingContext};
use tract_onnx::pb::NodeProto;
use tract_onnx::tract_hir::internal::*;
use tract_onnx::tract_hir::ops::array::MultiBroadcastTo;

/// Puts the checked `Expand` in place of tract's in an ONNX op register.
pub fn register(ops: &mut OnnxOpRegister) {
    ops.insert("Expand", checked_expand);
}

fn checked_expand(_ctx: &ParsingContext, node: &NodeProto) -> TractResult<(Box<dyn InferenceOp>, Vec<String>)> {
    Ok((expand(CheckedExpand { node: node.name.clone() }), vec![]))
}

#[derive(Debug, Clone, Hash, PartialEq, Eq)]
struct CheckedExpand {
    /// The node's name, for messages.
    node: String,
}

impl CheckedExpand {
    /// `Err` in words when a dimension of `shape` is a negative number.
    fn check(&self, shape: &[TDim]) -> TractResult<()> {
        let negative = shape.iter().filter_map(TDim::as_i64).find(|&d| d < 0);
        ensure!(
            negative.is_none(),
            "its Expand node \"{}\" expands to a shape with dimension {}; the file is corrupt",
            self.node,
            negative.unwrap_or_default()
        );
        Ok(())
    }

    /// Checks the target shape when it is a constant of the typed graph.
    fn check_constant(&self, model: &TypedModel, shape: OutletId) -> TractResult<()> {
        if let Some(shape) = model.outlet_fact(shape)?.konst.clone() {
            self.check(shape.cast_to::<TDim>()?.try_as_plain_ram()?.as_slice::<TDim>()?)?;
        }
        Ok(())
    }
}

impl Expansion for CheckedExpand {
    fn name(&self) -> StaticName {
        "Expand".into()
    }

    fn rules<'r, 'p: 'r, 's: 'r>(
        &'s self,
        s: &mut Solver<'r>,
        inputs: &'p [TensorProxy],
        outputs: &'p [TensorProxy],
    ) -> InferenceResult {
        check_input_arity(inputs, 2)?;
        s.given(&inputs[1].value, move |_, shape| {
            self.check(shape.cast_to::<TDim>()?.try_as_plain_ram()?.as_slice::<TDim>()?)
        })?;
        MultiBroadcastTo.rules(s, inputs, outputs)
    }

    fn wire(&self, prefix: &str, model: &mut TypedModel, inputs: &[OutletId]) -> TractResult<TVec<OutletId>> {
        ensure!(inputs.len() == 2, "Expand with {} inputs", inputs.len());
        self.check_constant(model, inputs[1])?;
        MultiBroadcastTo.wire(prefix, model, inputs)
    }

    fn wire_with_inference_model_and_node(
        &self,
        prefix: &str,
        source: &InferenceModel,
        node: &InferenceNode,
        model: &mut TypedModel,
        inputs: &[OutletId],
    ) -> TractResult<TVec<OutletId>> {
        ensure!(inputs.len() == 2, "Expand with {} inputs", inputs.len());
        self.check_constant(model, inputs[1])?;
        if let Some(shape) = source.outlet_fact(node.id.into())?.shape.concretize() {
            self.check(&shape)?;
        }
        MultiBroadcastTo.wire_with_inference_model_and_node(prefix, source, node, model, inputs)
    }
}
