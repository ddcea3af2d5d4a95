//! ONNX `Flatten` as tract reads it, but refusing an axis outside the input's rank. tract slices
//! the shape at the axis unchecked (one changed attribute panicked the engine); the rank is only
//! known while tract types the graph. Most `Flatten` nodes never get here:
//! `onnx::flatten_to_reshape` rewrites those of known rank first.

use tract_onnx::model::{OnnxOpRegister, ParsingContext};
use tract_onnx::pb::NodeProto;
use tract_onnx::tract_hir::internal::*;
use tract_onnx::tract_hir::ops::array::Flatten;

/// Puts the checked `Flatten` in place of tract's in an ONNX op register.
pub fn register(ops: &mut OnnxOpRegister) {
    ops.insert("Flatten", checked_flatten);
}

fn checked_flatten(_ctx: &ParsingContext, node: &NodeProto) -> TractResult<(Box<dyn InferenceOp>, Vec<String>)> {
    let axis = node.attribute.iter().find(|a| a.name == "axis").map_or(1, |a| a.i);
    Ok((expand(CheckedFlatten { node: node.name.clone(), inner: Flatten::new(axis) }), vec![]))
}

#[derive(Debug, Clone, Hash, PartialEq, Eq)]
struct CheckedFlatten {
    /// The node's name, for messages.
    node: String,
    inner: Flatten,
}

impl CheckedFlatten {
    /// `Err` in words unless the axis fits an input of rank `rank` (from −rank to rank).
    fn check(&self, rank: usize) -> TractResult<()> {
        let (axis, rank) = (self.inner.axis, rank as i64);
        ensure!(
            (-rank..=rank).contains(&axis),
            "its Flatten node \"{}\" flattens at axis {axis} of a rank-{rank} tensor; the file is corrupt",
            self.node
        );
        Ok(())
    }
}

impl Expansion for CheckedFlatten {
    fn name(&self) -> StaticName {
        "Flatten".into()
    }

    fn rules<'r, 'p: 'r, 's: 'r>(
        &'s self,
        s: &mut Solver<'r>,
        inputs: &'p [TensorProxy],
        outputs: &'p [TensorProxy],
    ) -> InferenceResult {
        check_input_arity(inputs, 1)?;
        check_output_arity(outputs, 1)?;
        s.equals(&outputs[0].datum_type, &inputs[0].datum_type)?;
        s.given(&inputs[0].shape, move |s, shape| {
            self.check(shape.len())?;
            let [rows, columns] = self.inner.compute_shape(&shape)?;
            s.equals(&outputs[0].shape, ShapeFactoid::from(vec![rows, columns]))
        })
    }

    fn wire(&self, prefix: &str, model: &mut TypedModel, inputs: &[OutletId]) -> TractResult<TVec<OutletId>> {
        self.check(model.outlet_fact(inputs[0])?.rank())?;
        self.inner.wire(prefix, model, inputs)
    }
}
