//! ONNX `ReduceMean` and the other reductions with an `axes` attribute (before opset 18), as
//! tract reads them but refusing an axis past the input's rank. tract unwraps the axis while it
//! types the graph, so one flipped byte in `axes` panicked the engine; the rank is only known
//! there, so the file stage cannot check it.

use tract_onnx::model::{OnnxOpRegister, ParsingContext};
use tract_onnx::pb::NodeProto;
use tract_onnx::tract_hir::internal::*;
use tract_onnx::tract_hir::ops::nn::{Reduce, Reducer};

/// The reductions that take `axes` as an attribute before opset 18 (`ReduceSum` before 13).
const REDUCTIONS: &[(&str, Reducer)] = &[
    ("ReduceL1", Reducer::L1),
    ("ReduceL2", Reducer::L2),
    ("ReduceLogSum", Reducer::LogSum),
    ("ReduceLogSumExp", Reducer::LogSumExp),
    ("ReduceMax", Reducer::Max),
    ("ReduceMean", Reducer::Mean),
    ("ReduceMin", Reducer::Min),
    ("ReduceProd", Reducer::Prod),
    ("ReduceSum", Reducer::Sum),
    ("ReduceSumSquare", Reducer::SumSquare),
];

/// Puts the checked reductions in place of tract's in an ONNX op register, for a file of ONNX
/// operator set `opset` (from 18 on, `axes` is an input that tract checks itself).
pub fn register(ops: &mut OnnxOpRegister, opset: i64) {
    for (name, _) in REDUCTIONS {
        if opset < 18 && !(*name == "ReduceSum" && opset >= 13) {
            ops.insert(name, checked_reduce);
        }
    }
}

fn checked_reduce(_ctx: &ParsingContext, node: &NodeProto) -> TractResult<(Box<dyn InferenceOp>, Vec<String>)> {
    let reducer = REDUCTIONS.iter().find(|(name, _)| *name == node.op_type).map(|(_, r)| *r);
    let reducer = reducer.ok_or_else(|| format_err!("{} is not a reduction", node.op_type))?;
    let axes = node.attribute.iter().find(|a| a.name == "axes").map(|a| a.ints.clone());
    let keep_dims = node.attribute.iter().find(|a| a.name == "keepdims").map_or(1, |a| a.i) == 1;
    let inner = Reduce::new(axes, keep_dims, reducer);
    Ok((expand(CheckedReduce { op: node.op_type.clone(), node: node.name.clone(), inner }), vec![]))
}

/// tract-hir's `Reduce` with its axes checked against the input's rank first.
#[derive(Debug, Clone, Hash, PartialEq, Eq)]
struct CheckedReduce {
    /// The ONNX op and node name, for messages.
    op: String,
    node: String,
    inner: Reduce,
}

impl Expansion for CheckedReduce {
    fn name(&self) -> StaticName {
        self.inner.name()
    }

    fn wire(&self, prefix: &str, model: &mut TypedModel, inputs: &[OutletId]) -> TractResult<TVec<OutletId>> {
        self.inner.wire(prefix, model, inputs)
    }

    fn rules<'r, 'p: 'r, 's: 'r>(
        &'s self,
        s: &mut Solver<'r>,
        inputs: &'p [TensorProxy],
        outputs: &'p [TensorProxy],
    ) -> InferenceResult {
        check_input_arity(inputs, 1)?;
        // Registered before tract's own rules, so it runs before they unwrap the axes.
        if let Some(axes) = &self.inner.axes {
            s.given(&inputs[0].rank, move |_, rank| match axes.iter().find(|&&axis| axis < -rank || axis >= rank) {
                Some(axis) => bail!(
                    "its {} node \"{}\" reduces axis {axis} of a rank-{rank} tensor; the file is corrupt",
                    self.op,
                    self.node
                ),
                None => Ok(()),
            })?;
        }
        self.inner.rules(s, inputs, outputs)
    }
}
