//! ONNX `MatMul` as tract reads it, but refusing a scalar (rank-0) operand. ONNX requires both
//! operands to have at least one axis; tract's shape inference inserts an axis into a scalar's
//! empty shape at position 1 and panics. Ranks are only known while tract types the graph, so the
//! file stage cannot check them. Found by `scripts/fuzz` (target `onnx_attributes`).

use tract_onnx::model::{OnnxOpRegister, ParsingContext};
use tract_onnx::pb::NodeProto;
use tract_onnx::tract_hir::internal::*;
use tract_onnx::tract_hir::ops::matmul::{compute_shapes, MatMulInference};

/// Puts the checked `MatMul` in place of tract's in an ONNX op register.
pub fn register(ops: &mut OnnxOpRegister) {
    ops.insert("MatMul", checked_matmul);
}

fn checked_matmul(_: &ParsingContext, node: &NodeProto) -> TractResult<(Box<dyn InferenceOp>, Vec<String>)> {
    Ok((expand(CheckedMatMul { node: node.name.clone() }), vec![]))
}

#[derive(Debug, Clone, Hash, PartialEq, Eq)]
struct CheckedMatMul {
    /// The node's name, for messages.
    node: String,
}

impl CheckedMatMul {
    fn refuse_scalars(&self, ranks: [usize; 2]) -> TractResult<()> {
        if let Some(slot) = ranks.iter().position(|&rank| rank == 0) {
            bail!(
                "its MatMul node \"{}\" multiplies a scalar (input {slot} has no axis), which MatMul does not \
                 take; the file is corrupt",
                self.node
            );
        }
        Ok(())
    }
}

impl Expansion for CheckedMatMul {
    fn name(&self) -> StaticName {
        "MatMul".into()
    }

    fn rules<'r, 'p: 'r, 's: 'r>(
        &'s self,
        s: &mut Solver<'r>,
        inputs: &'p [TensorProxy],
        outputs: &'p [TensorProxy],
    ) -> InferenceResult {
        check_input_arity(inputs, 2)?;
        check_output_arity(outputs, 1)?;
        s.equals(&inputs[0].datum_type, &inputs[1].datum_type)?;
        s.equals(&inputs[0].datum_type, &outputs[0].datum_type)?;
        s.given_2(&inputs[0].shape, &inputs[1].shape, move |s, a, b| {
            self.refuse_scalars([a.len(), b.len()])?;
            let (_, _, _, c) = compute_shapes(a, b, false, false, false)?;
            s.equals(&outputs[0].shape, c)
        })
    }

    fn wire(&self, prefix: &str, target: &mut TypedModel, inputs: &[OutletId]) -> TractResult<TVec<OutletId>> {
        self.refuse_scalars([target.outlet_fact(inputs[0])?.rank(), target.outlet_fact(inputs[1])?.rank()])?;
        MatMulInference::default().wire(prefix, target, inputs)
    }
}
