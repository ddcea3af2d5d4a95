//! ONNX `Range` as tract reads it, but refusing constant bounds tract cannot build: a step of 0
//! (or the most negative integer, which has no positive counterpart) and a start past the limit.
//! tract evaluates a `Range` of constants while it types the graph and asserts its length is not
//! negative (a panic), and the limit is often only a constant there (read from a shape), so the
//! file stage cannot check it.

use tract_onnx::model::{OnnxOpRegister, ParsingContext};
use tract_onnx::pb::NodeProto;
use tract_onnx::tract_hir::internal::*;
use tract_onnx::tract_hir::ops::array::Range;

/// Puts the checked `Range` in place of tract's in an ONNX op register.
pub fn register(ops: &mut OnnxOpRegister) {
    ops.insert("Range", checked_range);
}

fn checked_range(_ctx: &ParsingContext, node: &NodeProto) -> TractResult<(Box<dyn InferenceOp>, Vec<String>)> {
    Ok((expand(CheckedRange { node: node.name.clone() }), vec![]))
}

#[derive(Debug, Clone, Hash, PartialEq, Eq)]
struct CheckedRange {
    /// The node's name, for messages.
    node: String,
}

impl CheckedRange {
    /// `Err` in words for constant bounds tract cannot build a range of; symbolic ones pass.
    fn check(&self, start: &Tensor, limit: &Tensor, step: &Tensor) -> TractResult<()> {
        let scalar = |t: &Tensor| -> Option<(f64, String)> {
            if t.datum_type().is_integer() {
                let v = t.cast_to_scalar::<i64>().ok()?;
                Some((v as f64, v.to_string()))
            } else {
                let v = t.cast_to_scalar::<f64>().ok()?;
                Some((v, v.to_string()))
            }
        };
        let (Some((from, a)), Some((to, b)), Some((by, c))) = (scalar(start), scalar(limit), scalar(step)) else {
            return Ok(());
        };
        let length = (to - from) / by;
        // tract negates a negative step: the most negative integer has no positive counterpart.
        let negatable = step.cast_to_scalar::<i64>().map_or(true, |s| s != i64::MIN);
        ensure!(
            by != 0.0 && negatable && length.is_finite() && length > -1.0,
            "its Range node \"{}\" counts from {a} to {b} in steps of {c}, which tract cannot build; the file is \
             corrupt",
            self.node
        );
        Ok(())
    }
}

impl Expansion for CheckedRange {
    fn name(&self) -> StaticName {
        "Range".into()
    }

    fn rules<'r, 'p: 'r, 's: 'r>(
        &'s self,
        s: &mut Solver<'r>,
        inputs: &'p [TensorProxy],
        outputs: &'p [TensorProxy],
    ) -> InferenceResult {
        check_input_arity(inputs, 3)?;
        s.given_3(&inputs[0].value, &inputs[1].value, &inputs[2].value, move |_, start, limit, step| {
            self.check(&start, &limit, &step)
        })?;
        Range.rules(s, inputs, outputs)
    }

    fn wire(&self, prefix: &str, model: &mut TypedModel, inputs: &[OutletId]) -> TractResult<TVec<OutletId>> {
        ensure!(inputs.len() == 3, "Range with {} inputs", inputs.len());
        let konst = |i: usize| model.outlet_fact(inputs[i]).map(|f| f.konst.clone());
        if let (Some(start), Some(limit), Some(step)) = (konst(0)?, konst(1)?, konst(2)?) {
            self.check(&start, &limit, &step)?;
        }
        Range.wire(prefix, model, inputs)
    }
}
