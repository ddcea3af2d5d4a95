//! The tract op of a product rewritten by [`crate::onnx::int8_products`]: its codes, scale and
//! zero point are packed for the integer GEMM as the graph is parsed, and it becomes a
//! [`PackedMatMul`] when the graph is typed. The packed weights are shared (`Arc`) by every plan
//! made from the parsed graph, so a second batch size packs nothing again.

use std::sync::Arc;

use tract_onnx::model::{OnnxOpRegister, ParsingContext};
use tract_onnx::pb::{NodeProto, TensorProto};
use tract_onnx::tract_hir::internal::*;

use super::packed_matmul::PackedMatMul;
use crate::kernels::qgemm::QuantizedB;
use crate::kernels::Weights;
use crate::onnx::int8_products::{CODES, OP, SCALE, ZERO_POINT};

/// Adds the op to an ONNX op register.
pub fn register(ops: &mut OnnxOpRegister) {
    ops.insert(OP, int8_matmul);
}

fn int8_matmul(ctx: &ParsingContext, node: &NodeProto) -> TractResult<(Box<dyn InferenceOp>, Vec<String>)> {
    let corrupt = |why: &str| format_err!("its {OP} node \"{}\" {why}; the file is corrupt", node.name);
    let load = |name: &str| -> TractResult<Option<Tensor>> {
        node.get_attr_opt::<&TensorProto>(name)?.map(|t| ctx.load_tensor(t)).transpose()
    };
    let codes = load(CODES)?.ok_or_else(|| corrupt("has no codes"))?;
    let scale = load(SCALE)?.ok_or_else(|| corrupt("has no scale"))?;
    let &[k, n] = codes.shape() else { return Err(corrupt("has codes that are not a matrix")) };
    let scale = scale.cast_to::<f32>()?;
    let scale = scale.try_as_plain_ram()?;
    let scale = scale.as_slice::<f32>()?;
    let zero_point = load(ZERO_POINT)?;
    let zero_point = match &zero_point {
        Some(z) if z.datum_type() != codes.datum_type() => return Err(corrupt("has a zero point of another type")),
        Some(z) => z.cast_to::<i32>()?.try_as_plain_ram()?.as_slice::<i32>()?.to_vec(),
        None => vec![0; scale.len()],
    };
    if !(scale.len() == 1 || scale.len() == n) || zero_point.len() != scale.len() {
        return Err(corrupt("has a scale or zero point that is neither one value nor one per column"));
    }
    let per = |j: usize| if scale.len() == 1 { 0 } else { j };
    let plain = codes.try_as_plain_ram()?;
    // Kept as bytes: int8 codes and zero points plus 128 are uint8 ones that stand for the same
    // values.
    let shifted: Vec<u8>;
    let (codes, shift): (&[u8], i32) = match codes.datum_type() {
        DatumType::U8 => (plain.as_slice::<u8>()?, 0),
        DatumType::I8 => {
            shifted = plain.as_slice::<i8>()?.iter().map(|&q| (i16::from(q) + 128) as u8).collect();
            (&shifted, 128)
        }
        _ => return Err(corrupt("has codes that are not int8 or uint8")),
    };
    let zero_points = (0..n).map(|j| zero_point[per(j)] + shift).collect();
    let steps = (0..n).map(|j| scale[per(j)]).collect();
    let weights = crate::timing::phase("pack the weights", || QuantizedB::from_codes(codes, k, n, zero_points, steps))
        .ok_or_else(|| corrupt("has a scale that is not finite or a zero point out of range"))?;
    let op = Int8MatMul { weights: Arc::new(Weights::Quantized(weights)), node: node.name.clone() };
    Ok((expand(op), vec![]))
}

/// `x · W` for packed int8 weights `W` (`k × n`): `[..., k] -> [..., n]`.
#[derive(Debug, Clone)]
struct Int8MatMul {
    weights: Arc<Weights>,
    /// The node's name, for messages.
    node: String,
}

impl Expansion for Int8MatMul {
    fn name(&self) -> StaticName {
        OP.into()
    }

    fn rules<'r, 'p: 'r, 's: 'r>(
        &'s self,
        s: &mut Solver<'r>,
        inputs: &'p [TensorProxy],
        outputs: &'p [TensorProxy],
    ) -> InferenceResult {
        check_input_arity(inputs, 1)?;
        check_output_arity(outputs, 1)?;
        s.equals(&inputs[0].datum_type, f32::datum_type())?;
        s.equals(&outputs[0].datum_type, f32::datum_type())?;
        s.equals(&inputs[0].rank, &outputs[0].rank)?;
        s.given(&inputs[0].shape, move |s, shape| {
            let k = self.weights.k();
            let Some(last) = shape.last() else { bail!("its {OP} node \"{}\" multiplies a scalar", self.node) };
            if last.to_usize().is_ok_and(|d| d != k) {
                bail!("its {OP} node \"{}\" multiplies {last} values by {k} rows of weights", self.node);
            }
            let out: TVec<TDim> = shape[..shape.len() - 1].iter().cloned().chain([self.weights.n().to_dim()]).collect();
            s.equals(&outputs[0].shape, out)
        })
    }

    fn wire(&self, prefix: &str, target: &mut TypedModel, inputs: &[OutletId]) -> TractResult<TVec<OutletId>> {
        target.wire_node(prefix, PackedMatMul::new(self.weights.clone(), 1), inputs)
    }
}

#[cfg(test)]
mod tests {
    use tract_onnx::pb::attribute_proto::AttributeType;
    use tract_onnx::pb::tensor_proto::DataType;
    use tract_onnx::pb::{
        type_proto, AttributeProto, GraphProto, ModelProto, OperatorSetIdProto, TypeProto, ValueInfoProto,
    };
    use tract_onnx::prelude::*;

    use super::*;

    fn attribute(name: &str, data_type: DataType, dims: &[i64], raw: Vec<u8>) -> AttributeProto {
        let t = TensorProto { data_type: data_type as i32, dims: dims.to_vec(), raw_data: raw, ..Default::default() };
        AttributeProto { name: name.into(), r#type: AttributeType::Tensor as i32, t: Some(t), ..Default::default() }
    }

    /// `y = x · W` with `W` given as int8 codes `[3 × 2]`, a scale per column and zero points.
    fn model(attributes: Vec<AttributeProto>) -> ModelProto {
        let node = NodeProto {
            name: "product".into(),
            op_type: OP.into(),
            input: vec!["x".into()],
            output: vec!["y".into()],
            attribute: attributes,
            ..Default::default()
        };
        let tensor = type_proto::Tensor { elem_type: DataType::Float as i32, shape: None };
        let r#type = TypeProto { value: Some(type_proto::Value::TensorType(tensor)), ..Default::default() };
        let value =
            |name: &str| ValueInfoProto { name: name.into(), r#type: Some(r#type.clone()), ..Default::default() };
        let graph =
            GraphProto { node: vec![node], input: vec![value("x")], output: vec![value("y")], ..Default::default() };
        let opset = OperatorSetIdProto { domain: String::new(), version: 13 };
        ModelProto { graph: Some(graph), opset_import: vec![opset], ir_version: 8, ..Default::default() }
    }

    fn run(proto: &ModelProto, x: &[f32]) -> TractResult<Vec<f32>> {
        let mut onnx = tract_onnx::onnx();
        register(&mut onnx.op_register);
        let mut model = onnx.model_for_proto_model(proto)?;
        model.set_input_fact(0, f32::fact([x.len() / 3, 3]).into())?;
        let plan = model.into_optimized()?.into_runnable()?;
        let out = plan.run(tvec![Tensor::from_shape(&[x.len() / 3, 3], x)?.into()])?;
        Ok(out[0].to_plain_array_view::<f32>()?.iter().copied().collect())
    }

    #[test]
    fn multiplies_by_the_dequantized_codes() -> TractResult<()> {
        let scale: Vec<u8> = [0.5f32, 0.25].iter().flat_map(|v| v.to_le_bytes()).collect();
        let codes: Vec<i8> = vec![1, -2, 3, 4, -5, 127];
        let zero: Vec<i8> = vec![1, -1];
        let proto = model(vec![
            attribute(CODES, DataType::Int8, &[3, 2], codes.iter().map(|&q| q as u8).collect()),
            attribute(SCALE, DataType::Float, &[2], scale),
            attribute(ZERO_POINT, DataType::Int8, &[2], zero.iter().map(|&q| q as u8).collect()),
        ]);
        let x = [1.0, 2.0, -1.0, 0.5, 0.0, 4.0];
        // The plain reference: W[i][j] = (codes - zero[j]) · scale[j], then x · W.
        let w: Vec<f32> =
            (0..6).map(|i| f32::from(i16::from(codes[i]) - i16::from(zero[i % 2])) * [0.5, 0.25][i % 2]).collect();
        let want: Vec<f32> = (0..4).map(|o| (0..3).map(|kk| x[(o / 2) * 3 + kk] * w[kk * 2 + o % 2]).sum()).collect();
        let got = run(&proto, &x)?;
        let diff = got.iter().zip(&want).map(|(g, w)| (g - w).abs()).fold(0.0, f32::max);
        assert!(diff < 1e-3, "got {got:?}, want {want:?}");
        Ok(())
    }

    #[test]
    fn refuses_a_malformed_node_in_words() {
        let scale: Vec<u8> = 0.5f32.to_le_bytes().to_vec();
        for attributes in [
            vec![attribute(SCALE, DataType::Float, &[1], scale.clone())],
            vec![
                attribute(CODES, DataType::Int8, &[6], vec![0; 6]),
                attribute(SCALE, DataType::Float, &[1], scale.clone()),
            ],
            vec![
                attribute(CODES, DataType::Float, &[1, 1], scale.clone()),
                attribute(SCALE, DataType::Float, &[1], scale.clone()),
            ],
            vec![
                attribute(CODES, DataType::Int8, &[3, 2], vec![0; 6]),
                attribute(SCALE, DataType::Float, &[3], vec![0; 12]),
            ],
        ] {
            let error = run(&model(attributes), &[0.0; 3]).expect_err("refused");
            assert!(format!("{error:?}").contains("the file is corrupt"), "{error:?}");
        }
    }
}
