//! A tract op running bertscope's GEMMs ([`crate::kernels::Weights`]: in integers where the
//! weights are whole steps, else in f32) for products of activations with a constant weight
//! matrix, and the graph rewrite that puts it in place of tract's own `EinSum` (plus the
//! constant bias `Add` that follows, when there is one) before the plan is optimised.

use std::sync::Arc;

use tract_onnx::prelude::*;
use tract_onnx::tract_core::internal::*;
use tract_onnx::tract_core::ops::binary::TypedBinOp;
use tract_onnx::tract_core::ops::einsum::EinSum;
use tract_onnx::tract_core::ops::math::Add;

use crate::kernels::split::gemm_in_threads;
use crate::kernels::Weights;

/// `x · W (+ bias)`: contracts the last `k_axes` axes of the activations with the leading axes
/// of a constant weight whose last axis is the output width.
#[derive(Debug, Clone)]
pub struct PackedMatMul {
    weights: Arc<Weights>,
    bias: Option<Arc<[f32]>>,
    k_axes: usize,
}

impl PackedMatMul {
    /// The product with `weights` of activations whose last `k_axes` axes are contracted.
    pub fn new(weights: Arc<Weights>, k_axes: usize) -> Self {
        Self { weights, bias: None, k_axes }
    }
}

impl PartialEq for PackedMatMul {
    fn eq(&self, other: &Self) -> bool {
        Arc::ptr_eq(&self.weights, &other.weights)
            && self.k_axes == other.k_axes
            && match (&self.bias, &other.bias) {
                (Some(a), Some(b)) => Arc::ptr_eq(a, b),
                (None, None) => true,
                _ => false,
            }
    }
}

impl Eq for PackedMatMul {}

impl Op for PackedMatMul {
    fn name(&self) -> StaticName {
        "BertscopePackedMatMul".into()
    }

    fn validation(&self) -> Validation {
        Validation::Rounding
    }

    fn info(&self) -> TractResult<Vec<String>> {
        let kind = match *self.weights {
            Weights::Quantized(_) => "int8",
            Weights::Float(_) => "f32",
        };
        Ok(vec![format!("k={} n={} bias={} {kind}", self.weights.k(), self.weights.n(), self.bias.is_some())])
    }

    op_as_typed_op!();
}

impl EvalOp for PackedMatMul {
    op_out_of_plan!();

    fn eval(&self, _ctx: &EvalContext, inputs: TVec<TValue>) -> TractResult<TVec<TValue>> {
        let input = args_1!(inputs);
        let shape = input.shape();
        ensure!(shape.len() >= self.k_axes, "input of rank {} for {} contracted axes", shape.len(), self.k_axes);
        let lead = &shape[..shape.len() - self.k_axes];
        let (k, n) = (self.weights.k(), self.weights.n());
        ensure!(shape[lead.len()..].iter().product::<usize>() == k, "input {shape:?} does not end in {k} values");
        let m = lead.iter().product::<usize>();
        let a = input.try_as_plain_ram()?;
        let out_shape: TVec<usize> = lead.iter().copied().chain([n]).collect();
        // Written in place: a Vec turned into a tensor would be copied once more.
        // SAFETY: f32 has no invalid bit patterns, and the product writes every element (the
        // kernels refuse an output of another length) before anything reads it.
        let mut out = unsafe { Tensor::uninitialized::<f32>(&out_shape)? };
        let mut c = out.try_as_plain_ram_mut()?;
        gemm_in_threads(&self.weights, a.as_slice::<f32>()?, m, self.bias.as_deref(), c.as_slice_mut::<f32>()?);
        Ok(tvec!(out.into_tvalue()))
    }
}

impl TypedOp for PackedMatMul {
    fn output_facts(&self, inputs: &[&TypedFact]) -> TractResult<TVec<TypedFact>> {
        let shape = &inputs[0].shape;
        ensure!(inputs[0].datum_type == f32::datum_type() && shape.rank() >= self.k_axes);
        let lead = shape.iter().take(shape.rank() - self.k_axes).cloned();
        Ok(tvec!(f32::fact(lead.chain([self.weights.n().to_dim()]).collect::<TVec<_>>())))
    }

    fn cost(&self, inputs: &[&TypedFact]) -> TractResult<TVec<(Cost, TDim)>> {
        let rows: TDim = inputs[0].shape.iter().take(inputs[0].rank() - self.k_axes).product();
        Ok(tvec!((Cost::FMA(f32::datum_type()), rows * (self.weights.k() * self.weights.n()))))
    }

    as_op!();
}

/// Replaces every f32 `EinSum` of an activation with a constant weight by [`PackedMatMul`]
/// when the product has the plain shape `[..., k...] · [k..., n] -> [..., n]` (up to axes of
/// size 1 that only the activation or only the output has, as tract writes batch 1); anything
/// else stays with tract. A [`PackedMatMul`] already in the graph (from
/// [`crate::ops::int8_matmul`]) gets its bias folded the same way. Returns how many products
/// were replaced or given their bias.
pub fn replace_constant_matmuls(model: &mut TypedModel) -> TractResult<usize> {
    let mut replaced = 0;
    for id in model.eval_order()? {
        if let Some(op) = model.node(id).op_as::<PackedMatMul>().filter(|op| op.bias.is_none()).cloned() {
            let (op, last) = with_bias(model, id, op)?;
            if last != id {
                let name = model.node(last).name.clone();
                let mut patch = TypedModelPatch::default();
                let wire = patch.tap_model(model, model.node(id).inputs[0])?;
                let wire = patch.wire_node(format!("{name}.packed"), op, &[wire])?[0];
                patch.shunt_outside(model, OutletId::new(last, 0), wire)?;
                patch.apply(model)?;
                replaced += 1;
            }
            continue;
        }
        let Some(found) = packable(model, id)? else { continue };
        let (op, last) = with_bias(model, id, found.op)?;
        let name = model.node(last).name.clone();
        let mut patch = TypedModelPatch::default();
        let mut wire = patch.tap_model(model, found.input)?;
        for &axis in found.input_only.iter().rev() {
            wire = patch.wire_node(format!("{name}.packed.rm{axis}"), AxisOp::Rm(axis), &[wire])?[0];
        }
        wire = patch.wire_node(format!("{name}.packed"), op, &[wire])?[0];
        for &axis in &found.output_only {
            wire = patch.wire_node(format!("{name}.packed.add{axis}"), AxisOp::Add(axis), &[wire])?[0];
        }
        patch.shunt_outside(model, OutletId::new(last, 0), wire)?;
        patch.apply(model)?;
        replaced += 1;
    }
    Ok(replaced)
}

/// A product we take over: the op, its activation, and the size-1 axes to drop from the
/// activation and to add to the result (ascending positions).
struct Packable {
    op: PackedMatMul,
    input: OutletId,
    input_only: Vec<usize>,
    output_only: Vec<usize>,
}

/// The replacement for node `id`, if it is a product we take over.
fn packable(model: &TypedModel, id: usize) -> TractResult<Option<Packable>> {
    let node = model.node(id);
    let Some(einsum) = node.op_as::<EinSum>() else { return Ok(None) };
    if einsum.q_params.is_some() || einsum.operating_dt != f32::datum_type() || node.inputs.len() != 2 {
        return Ok(None);
    }
    let (x, w) = (model.outlet_fact(node.inputs[0])?, model.outlet_fact(node.inputs[1])?);
    let out = &node.outputs[0].fact;
    let Some(weights) = w.konst.as_ref() else { return Ok(None) };
    if x.datum_type != f32::datum_type() || weights.datum_type() != f32::datum_type() || !w.is_plain() {
        return Ok(None);
    }
    let (x_rank, w_rank, out_rank) = (x.rank(), w.rank(), out.rank());
    if w_rank < 2 || x_rank < w_rank - 1 {
        return Ok(None);
    }
    let k_axes = w_rank - 1;
    let (mut contracted, mut lead, mut n_axis) = (vec![], vec![], None);
    let (mut input_only, mut output_only) = (vec![], vec![]);
    for axis in einsum.axes.iter_all_axes() {
        let at = |positions: &TVec<usize>| positions.first().copied();
        let (xi, wi, oi) = (&axis.inputs[0], &axis.inputs[1], &axis.outputs[0]);
        match (xi.len(), wi.len(), oi.len()) {
            (1, 1, 0) => contracted.push((xi[0], wi[0])),
            (1, 0, 1) => lead.push((xi[0], oi[0])),
            (0, 1, 1) => n_axis = at(wi).zip(at(oi)),
            (1, 0, 0) if x.shape[xi[0]].is_one() => input_only.push(xi[0]),
            (0, 0, 1) if out.shape[oi[0]].is_one() => output_only.push(oi[0]),
            _ => return Ok(None),
        }
    }
    contracted.sort();
    lead.sort();
    input_only.sort();
    output_only.sort();
    // The activation ends in the weight's leading axes, in the same order...
    let tail = x_rank - k_axes;
    if contracted.len() != k_axes || contracted.iter().enumerate().any(|(j, &(xi, wi))| xi != tail + j || wi != j) {
        return Ok(None);
    }
    // ...its other axes keep their order in the output, and the weight's last axis ends it.
    if lead.windows(2).any(|pair| pair[0].1 > pair[1].1) || n_axis != Some((k_axes, out_rank - 1)) {
        return Ok(None);
    }
    let n = weights.shape()[k_axes];
    let k = weights.shape()[..k_axes].iter().product();
    let values = weights.try_as_plain_ram()?;
    let packed = Weights::prepare(values.as_slice::<f32>()?, k, n);
    let op = PackedMatMul { weights: Arc::new(packed), bias: None, k_axes };
    Ok(Some(Packable { op, input: node.inputs[0], input_only, output_only }))
}

/// Folds a constant bias `Add` that is the product's only reader into the op. Returns the op
/// and the node whose output it replaces.
fn with_bias(model: &TypedModel, id: usize, mut op: PackedMatMul) -> TractResult<(PackedMatMul, usize)> {
    let out = OutletId::new(id, 0);
    let successors = model.outlet_successors(out);
    if successors.len() != 1 || model.output_outlets()?.contains(&out) {
        return Ok((op, id));
    }
    let add = model.node(successors[0].node);
    let is_add = add.op_as::<TypedBinOp>().is_some_and(|b| b.0.is::<Add>());
    if !is_add || add.inputs.len() != 2 {
        return Ok((op, id));
    }
    let other = add.inputs[1 - successors[0].slot];
    let fact = model.outlet_fact(other)?;
    let n = op.weights.n();
    let product_rank = model.outlet_fact(out)?.rank();
    let bias_shaped = fact.rank() <= product_rank
        && fact.shape.iter().rev().skip(1).all(|d| d.is_one())
        && fact.shape.last().is_some_and(|d| *d == n.to_dim());
    let bias = fact.konst.as_ref().filter(|t| bias_shaped && t.datum_type() == f32::datum_type() && fact.is_plain());
    let Some(bias) = bias else { return Ok((op, id)) };
    let values = bias.try_as_plain_ram()?;
    op.bias = Some(values.as_slice::<f32>()?.into());
    Ok((op, add.id))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Weights for the f32 kernel: quarters, except that the first is off by 1/1024, so its
    /// column has no common step. Products with small whole activations are exact.
    fn float_weights(len: usize) -> Vec<f32> {
        (0..len).map(|i| i as f32 * 0.25 - 1.0 + if i == 0 { 1.0 / 1024.0 } else { 0.0 }).collect()
    }

    /// `x [2, s, 3] · w` (+ bias) as tract builds it, with `s` symbolic.
    fn product(expr: &str, w_shape: &[usize], bias: bool) -> TractResult<TypedModel> {
        product_of(expr, w_shape, &float_weights(w_shape.iter().product()), bias)
    }

    fn product_of(expr: &str, w_shape: &[usize], w: &[f32], bias: bool) -> TractResult<TypedModel> {
        let mut model = TypedModel::default();
        let s = model.symbols.sym("S").to_dim();
        let x = model.add_source("x", f32::fact(tvec![2.to_dim(), s, 3.to_dim()]))?;
        let w = model.add_const("w", Tensor::from_shape(w_shape, w)?)?;
        let mut y = model.wire_node("mm", EinSum::new(expr.parse()?, f32::datum_type()), &[x, w])?;
        if bias {
            let n = *w_shape.last().unwrap();
            let b: Vec<f32> = (0..n).map(|i| i as f32).collect();
            let b = model.add_const("b", Tensor::from_shape(&[1, 1, n], &b)?)?;
            y = model.wire_node("add", TypedBinOp(Box::new(Add), None), &[b, y[0]])?;
        }
        model.select_output_outlets(&y)?;
        Ok(model)
    }

    fn run(model: TypedModel) -> TractResult<Tensor> {
        let x: Vec<f32> = (0..2 * 5 * 3).map(|i| (i % 7) as f32 - 3.0).collect();
        let out = model.into_optimized()?.into_runnable()?.run(tvec![Tensor::from_shape(&[2, 5, 3], &x)?.into()])?;
        Ok(out[0].clone().into_tensor())
    }

    fn rewritten(mut model: TypedModel) -> TractResult<(usize, TypedModel)> {
        model.declutter()?;
        let replaced = replace_constant_matmuls(&mut model)?;
        Ok((replaced, model))
    }

    #[test]
    fn replaces_a_product_and_its_bias_and_agrees_with_tract() -> TractResult<()> {
        for bias in [false, true] {
            let model = product("amk,kn->amn", &[3, 4], bias)?;
            let (replaced, ours) = rewritten(model.clone())?;
            assert_eq!(replaced, 1);
            let add_left = ours.nodes.iter().any(|n| n.op_as::<TypedBinOp>().is_some() && !n.outputs.is_empty());
            assert!(!add_left, "the bias Add is folded");
            assert_eq!(run(ours)?, run(model)?);
        }
        Ok(())
    }

    #[test]
    fn multiplies_integer_step_weights_in_integers() -> TractResult<()> {
        // Steps of 0.25 (whole multiples within ±255): the integer kernel, which rounds the
        // activations to 1/65534 of each row's largest value.
        let w: Vec<f32> = (0..12).map(|i| i as f32 * 0.25 - 1.0).collect();
        let model = product_of("amk,kn->amn", &[3, 4], &w, true)?;
        let (replaced, ours) = rewritten(model.clone())?;
        assert_eq!(replaced, 1);
        let kinds: Vec<String> =
            ours.nodes.iter().filter_map(|n| n.op_as::<PackedMatMul>()).flat_map(|op| op.info().unwrap()).collect();
        assert!(kinds.iter().all(|k| k.ends_with("int8")), "{kinds:?}");
        let (got, want) = (run(ours)?, run(model)?);
        let (got, want) = (got.to_plain_array_view::<f32>()?, want.to_plain_array_view::<f32>()?);
        let diff = got.iter().zip(want.iter()).map(|(g, w)| (g - w).abs()).fold(0.0, f32::max);
        assert!(diff < 1e-3, "integer result differs by {diff}");
        Ok(())
    }

    #[test]
    fn handles_batch_axes_of_size_one() -> TractResult<()> {
        // tract declutters batch 1 into products that drop or add the batch axis.
        let cases: [(&str, &[usize], &[usize]); 2] =
            [("amk,kn->mn", &[1, 5, 3], &[5, 4]), ("mk,kn->amn", &[5, 3], &[1, 5, 4])];
        for (expr, x_shape, out) in cases {
            let mut model = TypedModel::default();
            let source = model.add_source("x", f32::fact(x_shape))?;
            let w = model.add_const("w", Tensor::from_shape(&[3, 4], &float_weights(12))?)?;
            let y = model.wire_node("mm", EinSum::new(expr.parse()?, f32::datum_type()), &[source, w])?;
            model.select_output_outlets(&y)?;
            let (replaced, ours) = rewritten(model.clone())?;
            assert_eq!(replaced, 1, "{expr}");
            let input: Vec<f32> = (0..15).map(|i| i as f32).collect();
            let input = Tensor::from_shape(x_shape, &input)?;
            let got = ours.into_optimized()?.into_runnable()?.run(tvec![input.clone().into()])?;
            let want = model.into_optimized()?.into_runnable()?.run(tvec![input.into()])?;
            assert_eq!(got[0].shape(), out);
            assert_eq!(got[0].clone().into_tensor(), want[0].clone().into_tensor());
        }
        Ok(())
    }

    #[test]
    fn leaves_other_products_to_tract() -> TractResult<()> {
        for (expr, shape) in [("amk,nk->amn", [4, 3]), ("amk,kn->anm", [3, 4]), ("amk,kn->mn", [3, 4])] {
            let (replaced, _) = rewritten(product(expr, &shape, false)?)?;
            assert_eq!(replaced, 0, "{expr}");
        }
        Ok(())
    }
}
