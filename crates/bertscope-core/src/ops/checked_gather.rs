//! ONNX `Gather` as tract reads it, but refusing constant indices past the table when the table's
//! length is known. tract evaluates a `Gather` of constants while it types the graph (a `Shape`
//! becomes a constant there) and trusts the indices; one past the table panics, and in wasm a
//! panic kills the engine. `onnx::gather_bounds` checks the tables that are constants in the file; this
//! catches the ones that only become known while typing (found by `scripts/fuzz`, target
//! `mutated_model`: a flipped byte in the index of a `Shape` → `Gather`).

use tract_onnx::model::{OnnxOpRegister, ParsingContext};
use tract_onnx::pb::NodeProto;
use tract_onnx::tract_hir::internal::*;
use tract_onnx::tract_hir::ops::array::Gather;

/// Puts the checked `Gather` in place of tract's in an ONNX op register.
pub fn register(ops: &mut OnnxOpRegister) {
    ops.insert("Gather", checked_gather);
}

fn checked_gather(_ctx: &ParsingContext, node: &NodeProto) -> TractResult<(Box<dyn InferenceOp>, Vec<String>)> {
    let axis = node.attribute.iter().find(|a| a.name == "axis").map_or(0, |a| a.i);
    Ok((expand(CheckedGather { axis, inner: Gather::new(axis) }), vec![]))
}

/// tract-hir's `Gather` with a bounds check on constant indices.
#[derive(Debug, Clone, Hash, PartialEq, Eq)]
struct CheckedGather {
    axis: i64,
    inner: Gather,
}

impl Expansion for CheckedGather {
    fn name(&self) -> StaticName {
        "Gather".into()
    }

    fn wire(&self, prefix: &str, model: &mut TypedModel, inputs: &[OutletId]) -> TractResult<TVec<OutletId>> {
        ensure!(inputs.len() == 2, "Gather with {} inputs", inputs.len());
        let (table, indices) = (model.outlet_fact(inputs[0])?, model.outlet_fact(inputs[1])?);
        let rank = table.rank() as i64;
        let axis = if self.axis < 0 { self.axis + rank } else { self.axis };
        ensure!((0..rank).contains(&axis), "its Gather node \"{prefix}\" has axis {} for rank {rank}", self.axis);
        let entries = table.shape[axis as usize].to_i64().ok();
        if let (Some(entries), Some(values)) = (entries, indices.konst.as_ref()) {
            let values = values.cast_to::<i64>()?;
            let plain = values.try_as_plain_ram()?;
            crate::onnx::gather_bounds::check_entries(prefix, plain.as_slice::<i64>()?, entries)
                .map_err(|e| format_err!("{e}"))?;
        }
        self.inner.wire(prefix, model, inputs)
    }

    fn rules<'r, 'p: 'r, 's: 'r>(
        &'s self,
        s: &mut Solver<'r>,
        inputs: &'p [TensorProxy],
        outputs: &'p [TensorProxy],
    ) -> InferenceResult {
        self.inner.rules(s, inputs, outputs)
    }
}
