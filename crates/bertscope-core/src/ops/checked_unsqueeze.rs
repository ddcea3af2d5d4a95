//! ONNX `Unsqueeze` as tract reads it, but refusing axes outside the output's rank (or named
//! twice). tract inserts each axis into the shape unchecked, so one changed value in the axes
//! constant (in a DistilBERT export every attention layer has six) panicked the engine; the input's
//! rank is only known while tract types the graph, so the file stage cannot check it.

use tract_onnx::model::{OnnxOpRegister, ParsingContext};
use tract_onnx::pb::NodeProto;
use tract_onnx::tract_hir::internal::*;
use tract_onnx::tract_hir::ops::array::AddDims;

/// Puts the checked `Unsqueeze` in place of tract's in an ONNX op register.
pub fn register(ops: &mut OnnxOpRegister) {
    ops.insert("Unsqueeze", checked_unsqueeze);
}

fn checked_unsqueeze(ctx: &ParsingContext, node: &NodeProto) -> TractResult<(Box<dyn InferenceOp>, Vec<String>)> {
    // Before opset 13 the axes are an attribute; from 13 on, the second input.
    let attribute = (ctx.onnx_operator_set_version < 13)
        .then(|| node.attribute.iter().find(|a| a.name == "axes").map(|a| a.ints.clone()).unwrap_or_default());
    Ok((expand(CheckedUnsqueeze { node: node.name.clone(), attribute }), vec![]))
}

#[derive(Debug, Clone, Hash, PartialEq, Eq)]
struct CheckedUnsqueeze {
    /// The node's name, for messages.
    node: String,
    /// The axes when they are an attribute (before opset 13).
    attribute: Option<Vec<i64>>,
}

impl CheckedUnsqueeze {
    /// tract's `AddDims` for `axes` on an input of rank `rank`, once every axis is known to fit.
    fn add_dims(&self, axes: &[i64], rank: usize) -> TractResult<AddDims> {
        let output_rank = (rank + axes.len()) as i64;
        let mut seen = vec![false; output_rank as usize];
        for &axis in axes {
            let resolved = if axis < 0 { axis.checked_add(output_rank) } else { Some(axis) };
            let slot = resolved.and_then(|a| usize::try_from(a).ok()).and_then(|a| seen.get_mut(a));
            match slot {
                Some(slot) if !*slot => *slot = true,
                Some(_) => bail!("its Unsqueeze node \"{}\" names axis {axis} twice; the file is corrupt", self.node),
                None => bail!(
                    "its Unsqueeze node \"{}\" adds axis {axis} to a rank-{rank} tensor (the result has rank \
                     {output_rank}); the file is corrupt",
                    self.node
                ),
            }
        }
        Ok(AddDims::new(axes.iter().map(|&a| a as isize).collect()))
    }
}

fn int_values(tensor: &Tensor) -> TractResult<Vec<i64>> {
    Ok(tensor.cast_to::<i64>()?.try_as_plain_ram()?.as_slice::<i64>()?.to_vec())
}

impl Expansion for CheckedUnsqueeze {
    fn name(&self) -> StaticName {
        "Unsqueeze".into()
    }

    fn rules<'r, 'p: 'r, 's: 'r>(
        &'s self,
        s: &mut Solver<'r>,
        inputs: &'p [TensorProxy],
        outputs: &'p [TensorProxy],
    ) -> InferenceResult {
        check_input_arity(inputs, 1 + self.attribute.is_none() as usize)?;
        check_output_arity(outputs, 1)?;
        s.equals(&outputs[0].datum_type, &inputs[0].datum_type)?;
        match &self.attribute {
            Some(axes) => {
                s.equals(&outputs[0].rank, (&inputs[0].rank).bex() + axes.len() as i64)?;
                s.given(&inputs[0].shape, move |s, shape| {
                    let shape = self.add_dims(axes, shape.len())?.output_shape(&shape);
                    s.equals(&outputs[0].shape, shape)
                })
            }
            None => s.given_2(&inputs[0].shape, &inputs[1].value, move |s, shape, axes| {
                let shape = self.add_dims(&int_values(&axes)?, shape.len())?.output_shape(&shape);
                s.equals(&outputs[0].shape, shape)
            }),
        }
    }

    fn wire(&self, prefix: &str, model: &mut TypedModel, inputs: &[OutletId]) -> TractResult<TVec<OutletId>> {
        let axes = match &self.attribute {
            Some(axes) => axes.clone(),
            None => {
                let konst = model.outlet_fact(inputs[1])?.konst.clone();
                let konst = konst.ok_or_else(|| format_err!("Unsqueeze needs constant axes"))?;
                int_values(&konst)?
            }
        };
        let rank = model.outlet_fact(inputs[0])?.rank();
        self.add_dims(&axes, rank)?.wire(prefix, model, &inputs[0..1])
    }
}
