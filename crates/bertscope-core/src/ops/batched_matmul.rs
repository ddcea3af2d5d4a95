//! A tract op running [`crate::kernels::gemm`] for the products of two activations inside
//! attention (`Q·Kᵀ` per head, then the probabilities times `V`), and the graph rewrite that
//! puts it in place of tract's own `EinSum` before the plan is optimised.
//!
//! Such a product is a matrix product per batch index (batch and head): `C[.., m, n] =
//! Σ_k A[.., m, k] · B[.., k, n]`, with the axes in any order as long as `k` is `A`'s last axis
//! and `n` is `C`'s (rows of `A` and of `C` are contiguous). `B` is packed per batch index.
//! A constant scalar `Mul` and an `Add` that follow (the scores' scale and attention mask) are
//! done in the same pass, as tract's own kernels fuse them.

use tract_onnx::prelude::*;
use tract_onnx::tract_core::internal::*;
use tract_onnx::tract_core::ops::binary::TypedBinOp;
use tract_onnx::tract_core::ops::einsum::EinSum;
use tract_onnx::tract_core::ops::math::{Add, Mul};

use crate::kernels::gemm::{gemm_strided, PackedB, MR};
use crate::kernels::split::{in_parts, parts_for, threads};

/// What one axis of an operand or of the result is in the product.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
enum Role {
    /// The `i`-th axis both operands and the result share.
    Batch(usize),
    /// Rows: in `A` and the result.
    M,
    /// Columns: in `B` and the result.
    N,
    /// Contracted: in both operands only.
    K,
    /// An axis of size 1 that only one tensor has.
    Unit,
}

/// `C = (A·B) · scale + addend` per batch index; see the module documentation.
#[derive(Debug, Clone, PartialEq)]
pub struct BatchedMatMul {
    a: TVec<Role>,
    b: TVec<Role>,
    c: TVec<Role>,
    /// Multiplies every result (a constant scalar `Mul` that followed the product).
    scale: Option<f32>,
    /// A third input is added to the result, broadcast where its axes have size 1 (an `Add`
    /// that followed).
    addend: bool,
}

// tract compares ops for equality to merge duplicates; two ops with a NaN scale are simply
// never merged.
impl Eq for BatchedMatMul {}

impl Op for BatchedMatMul {
    fn name(&self) -> StaticName {
        "BertscopeBatchedMatMul".into()
    }

    fn validation(&self) -> Validation {
        Validation::Rounding
    }

    op_as_typed_op!();
}

/// Size and row-major stride of each role in one tensor.
struct Layout {
    sizes: TVec<(Role, usize)>,
    strides: TVec<usize>,
}

impl Layout {
    fn new(roles: &[Role], shape: &[usize]) -> Self {
        let mut strides: TVec<usize> = tvec![1; shape.len()];
        for axis in (0..shape.len().saturating_sub(1)).rev() {
            strides[axis] = strides[axis + 1] * shape[axis + 1];
        }
        Self { sizes: roles.iter().copied().zip(shape.iter().copied()).collect(), strides }
    }

    /// The layout of a tensor broadcast to the result: stride 0 along its axes of size 1.
    fn broadcast(roles: &[Role], shape: &[usize]) -> Self {
        let mut layout = Self::new(roles, shape);
        for (stride, &size) in layout.strides.iter_mut().zip(shape) {
            if size == 1 {
                *stride = 0;
            }
        }
        layout
    }

    fn size(&self, role: Role) -> Option<usize> {
        self.sizes.iter().find(|(r, _)| *r == role).map(|(_, size)| *size)
    }

    fn stride(&self, role: Role) -> usize {
        self.sizes.iter().position(|(r, _)| *r == role).map_or(0, |axis| self.strides[axis])
    }
}

/// The outermost axis of the result with more than one element, along which the product is
/// split over threads: rows ([`Role::M`]) or a batch axis; else the whole result as one unit.
struct Outer {
    role: Role,
    size: usize,
    stride: usize,
}

impl Outer {
    fn of(roles: &[Role], shape: &[usize], layout: &Layout) -> Self {
        let axis = shape.iter().position(|&size| size > 1);
        match axis.map(|axis| roles[axis]) {
            Some(role @ (Role::M | Role::Batch(_))) => {
                Self { role, size: layout.size(role).unwrap_or(1), stride: layout.stride(role) }
            }
            _ => Self { role: Role::Unit, size: 1, stride: shape.iter().product() },
        }
    }
}

impl BatchedMatMul {
    fn batch_count(&self) -> usize {
        self.c.iter().filter(|r| matches!(r, Role::Batch(_))).count()
    }

    /// The result's shape from the operands' (symbolic or concrete) dimensions.
    fn output_shape<D: DimLike>(&self, a: &[D], b: &[D]) -> TractResult<TVec<D>> {
        let dim = |roles: &[Role], shape: &[D], role: Role| {
            roles.iter().position(|r| *r == role).map(|axis| shape[axis].clone())
        };
        self.c
            .iter()
            .map(|&role| match role {
                Role::N => dim(&self.b, b, role),
                Role::Unit => Some(D::one()),
                _ => dim(&self.a, a, role),
            })
            .collect::<Option<TVec<D>>>()
            .context("an axis of the result is in neither operand")
    }
}

impl EvalOp for BatchedMatMul {
    op_out_of_plan!();

    fn eval(&self, _ctx: &EvalContext, inputs: TVec<TValue>) -> TractResult<TVec<TValue>> {
        ensure!(inputs.len() == 2 + usize::from(self.addend), "{} inputs", inputs.len());
        let (a, b) = (&inputs[0], &inputs[1]);
        let (a_layout, b_layout) = (Layout::new(&self.a, a.shape()), Layout::new(&self.b, b.shape()));
        let c_shape = self.output_shape(a.shape(), b.shape())?;
        let c_layout = Layout::new(&self.c, &c_shape);
        let addend = inputs.get(2).map(|t| t.try_as_plain_ram()).transpose()?;
        let addend = addend.as_ref().map(|t| t.as_slice::<f32>()).transpose()?;
        let addend_layout = match inputs.get(2) {
            Some(t) => {
                let fits = t.rank() == c_shape.len() && t.shape().iter().zip(&c_shape).all(|(&d, &c)| d == c || d == 1);
                ensure!(fits, "addend {:?} does not broadcast to {c_shape:?}", t.shape());
                Some(Layout::broadcast(&self.c, t.shape()))
            }
            None => None,
        };
        let (m, k, n) = (a_layout.size(Role::M), a_layout.size(Role::K), b_layout.size(Role::N));
        let (Some(m), Some(k), Some(n)) = (m, k, n) else { bail!("a product without rows, columns or k") };
        ensure!(b_layout.size(Role::K) == Some(k), "operands of {:?} and {:?} disagree on k", a.shape(), b.shape());
        let batches: TVec<usize> =
            (0..self.batch_count()).map(|i| a_layout.size(Role::Batch(i)).unwrap_or(1)).collect();
        for (i, &size) in batches.iter().enumerate() {
            ensure!(b_layout.size(Role::Batch(i)) == Some(size), "operands disagree on batch axis {i}");
        }
        let (a_values, b_values) = (a.try_as_plain_ram()?, b.try_as_plain_ram()?);
        let (a_values, b_values) = (a_values.as_slice::<f32>()?, b_values.as_slice::<f32>()?);
        // Where each batch index starts in A, B, C and the addend (the last batch axis varies
        // fastest), and its coordinate along C's outermost axis.
        let outer = Outer::of(&self.c, &c_shape, &c_layout);
        let layouts = [Some(&a_layout), Some(&b_layout), Some(&c_layout), addend_layout.as_ref()];
        let starts: Vec<([usize; 4], usize)> = (0..batches.iter().product())
            .map(|index| {
                let (mut rest, mut at, mut coordinate) = (index, [0usize; 4], 0);
                for (i, &size) in batches.iter().enumerate().rev() {
                    let x = rest % size;
                    rest /= size;
                    for (offset, layout) in at.iter_mut().zip(layouts) {
                        *offset += x * layout.map_or(0, |l| l.stride(Role::Batch(i)));
                    }
                    if outer.role == Role::Batch(i) {
                        coordinate = x;
                    }
                }
                (at, coordinate)
            })
            .collect();
        // Written in place: a Vec turned into a tensor would be copied once more.
        // SAFETY: f32 has no invalid bit patterns, and every element is written below before
        // anything reads it (each batch index's `m × n` products; the unit axes have size 1).
        let mut out = unsafe { Tensor::uninitialized::<f32>(&c_shape)? };
        let mut c_view = out.try_as_plain_ram_mut()?;
        let c_values = c_view.as_slice_mut::<f32>()?;
        let (lda, ldc) = (a_layout.stride(Role::M), c_layout.stride(Role::M));
        let (b_k, b_n) = (b_layout.stride(Role::K), b_layout.stride(Role::N));
        let scale = self.scale.unwrap_or(1.0);
        let addend = addend.zip(addend_layout.as_ref());
        // The rows `rows` of batch index `at` into `c`, which starts at element `base` of C.
        let product = |at: &[usize; 4], rows: std::ops::Range<usize>, c: &mut [f32], base: usize| {
            let packed = PackedB::pack_strided(&b_values[at[1]..], k, n, b_k, b_n);
            let c = &mut c[at[2] + rows.start * ldc - base..];
            gemm_strided(&a_values[at[0] + rows.start * lda..], lda, rows.len(), &packed, None, c, ldc);
            for (r, i) in rows.enumerate() {
                let row = &mut c[r * ldc..][..n];
                if let Some((addend, layout)) = addend {
                    let from = &addend[at[3] + i * layout.stride(Role::M)..];
                    match layout.stride(Role::N) {
                        1 => row.iter_mut().zip(&from[..n]).for_each(|(v, a)| *v = *v * scale + a),
                        step => row.iter_mut().enumerate().for_each(|(j, v)| *v = *v * scale + from[j * step]),
                    }
                } else if scale != 1.0 {
                    row.iter_mut().for_each(|v| *v *= scale);
                }
            }
        };
        // C is cut along its outermost axis (of size > 1), into parts each written by the
        // products of its own rows or batch indices alone: the same arithmetic per element
        // however many parts there are.
        let work = starts.len() * m * k * n;
        let parts = parts_for(outer.size, work, threads());
        let per_part =
            if outer.role == Role::M { m.div_ceil(parts).next_multiple_of(MR) } else { outer.size.div_ceil(parts) };
        in_parts(c_values, outer.stride, per_part, |first, c| {
            let (base, count) = (first * outer.stride, c.len().div_ceil(outer.stride.max(1)));
            for (at, coordinate) in &starts {
                if outer.role == Role::M {
                    product(at, first..first + count, c, base);
                } else if (first..first + count).contains(coordinate) {
                    product(at, 0..m, c, base);
                }
            }
        });
        Ok(tvec!(out.into_tvalue()))
    }
}

impl TypedOp for BatchedMatMul {
    fn output_facts(&self, inputs: &[&TypedFact]) -> TractResult<TVec<TypedFact>> {
        ensure!(inputs.len() == 2 + usize::from(self.addend));
        ensure!(inputs.iter().all(|f| f.datum_type == f32::datum_type()));
        Ok(tvec!(f32::fact(self.output_shape(&inputs[0].shape, &inputs[1].shape)?)))
    }

    fn cost(&self, inputs: &[&TypedFact]) -> TractResult<TVec<(Cost, TDim)>> {
        let c = self.output_shape(&inputs[0].shape, &inputs[1].shape)?;
        let k = self.a.iter().position(|r| *r == Role::K).map(|axis| inputs[0].shape[axis].clone());
        Ok(tvec!((Cost::FMA(f32::datum_type()), c.iter().product::<TDim>() * k.unwrap_or_else(|| 1.to_dim()))))
    }

    as_op!();
}

/// Replaces every f32 `EinSum` of two activations that is a batched matrix product with
/// contiguous rows by [`BatchedMatMul`]; anything else stays with tract. Returns how many
/// products were replaced.
pub fn replace_batched_matmuls(model: &mut TypedModel) -> TractResult<usize> {
    let mut replaced = 0;
    for id in model.eval_order()? {
        let Some(op) = batched(model, id)? else { continue };
        let (op, last, addend) = with_epilogue(model, id, op)?;
        let node = model.node(id);
        let (name, inputs) = (node.name.clone(), node.inputs.iter().copied().chain(addend));
        let mut patch = TypedModelPatch::default();
        let wires = inputs.map(|input| patch.tap_model(model, input)).collect::<TractResult<TVec<_>>>()?;
        let out = patch.wire_node(format!("{name}.batched"), op, &wires)?[0];
        patch.shunt_outside(model, OutletId::new(last, 0), out)?;
        patch.apply(model)?;
        replaced += 1;
    }
    Ok(replaced)
}

/// The replacement for node `id`, if it is a product we take over.
fn batched(model: &TypedModel, id: usize) -> TractResult<Option<BatchedMatMul>> {
    let node = model.node(id);
    let Some(einsum) = node.op_as::<EinSum>() else { return Ok(None) };
    if einsum.q_params.is_some() || einsum.operating_dt != f32::datum_type() || node.inputs.len() != 2 {
        return Ok(None);
    }
    let (a, b) = (model.outlet_fact(node.inputs[0])?, model.outlet_fact(node.inputs[1])?);
    let c = &node.outputs[0].fact;
    if a.konst.is_some()
        || b.konst.is_some()
        || [a, b].iter().any(|f| f.datum_type != f32::datum_type() || !f.is_plain())
    {
        return Ok(None);
    }
    let mut roles = [tvec![Role::Unit; a.rank()], tvec![Role::Unit; b.rank()], tvec![Role::Unit; c.rank()]];
    let (mut batch, mut counts) = (0, [0; 3]);
    for axis in einsum.axes.iter_all_axes() {
        let positions = [&axis.inputs[0], &axis.inputs[1], &axis.outputs[0]];
        if positions.iter().any(|p| p.len() > 1) {
            return Ok(None);
        }
        let present = positions.map(|p| p.first().copied());
        // Batch and contracted axes must have one size in both operands (no broadcasting).
        let same_size = |x: usize, y: usize| a.shape[x] == b.shape[y];
        let role = match present {
            [Some(x), Some(y), Some(_)] if same_size(x, y) => {
                batch += 1;
                Role::Batch(batch - 1)
            }
            [Some(_), None, Some(_)] => Role::M,
            [None, Some(_), Some(_)] => Role::N,
            [Some(x), Some(y), None] if same_size(x, y) => Role::K,
            [Some(_), Some(_), _] => return Ok(None),
            _ => Role::Unit,
        };
        for (slot, (position, fact)) in present.iter().zip([&a.shape, &b.shape, &c.shape]).enumerate() {
            let Some(&position) = position.as_ref() else { continue };
            if role == Role::Unit && !fact[position].is_one() {
                return Ok(None);
            }
            roles[slot][position] = role;
            counts[0] += usize::from(role == Role::M && slot == 0);
            counts[1] += usize::from(role == Role::N && slot == 1);
            counts[2] += usize::from(role == Role::K && slot == 0);
        }
    }
    // Exactly one row, column and contracted axis; rows of A and C contiguous.
    let last_real = |roles: &[Role]| roles.iter().rev().find(|r| **r != Role::Unit).copied();
    if counts != [1, 1, 1] || last_real(&roles[0]) != Some(Role::K) || last_real(&roles[2]) != Some(Role::N) {
        return Ok(None);
    }
    let [a_roles, b_roles, c_roles] = roles;
    Ok(Some(BatchedMatMul { a: a_roles, b: b_roles, c: c_roles, scale: None, addend: false }))
}

/// Folds into `op` a constant scalar `Mul`, then an `Add` of a tensor that broadcasts to the
/// result, where they follow the product `id` as its only readers. Returns the op, the node
/// whose output it replaces and the addend.
fn with_epilogue(
    model: &TypedModel,
    id: usize,
    mut op: BatchedMatMul,
) -> TractResult<(BatchedMatMul, usize, Option<OutletId>)> {
    let mut last = id;
    let mut addend = None;
    while let Some((node, other)) = sole_binary_reader(model, last)? {
        let bin = node.op_as::<TypedBinOp>().map(|b| &b.0);
        let fact = model.outlet_fact(other)?;
        let result = model.outlet_fact(OutletId::new(last, 0))?;
        if op.scale.is_none() && addend.is_none() && bin.is_some_and(|b| b.is::<Mul>()) {
            let scalar = fact.konst.as_ref().filter(|t| t.len() == 1 && t.datum_type() == f32::datum_type());
            let Some(scalar) = scalar else { break };
            op.scale = Some(scalar.cast_to_scalar::<f32>()?);
        } else if addend.is_none() && bin.is_some_and(|b| b.is::<Add>()) {
            let broadcasts = fact.datum_type == f32::datum_type()
                && fact.is_plain()
                && fact.rank() == result.rank()
                && fact.shape.iter().zip(result.shape.iter()).all(|(d, r)| d == r || d.is_one());
            if !broadcasts {
                break;
            }
            addend = Some(other);
            op.addend = true;
        } else {
            break;
        }
        last = node.id;
    }
    Ok((op, last, addend))
}

/// The binary op that is the only reader of node `id`'s output (which is no model output),
/// with its other input.
fn sole_binary_reader(model: &TypedModel, id: usize) -> TractResult<Option<(&TypedNode, OutletId)>> {
    let out = OutletId::new(id, 0);
    let readers = model.outlet_successors(out);
    if readers.len() != 1 || model.output_outlets()?.contains(&out) {
        return Ok(None);
    }
    let node = model.node(readers[0].node);
    if node.op_as::<TypedBinOp>().is_none() || node.inputs.len() != 2 {
        return Ok(None);
    }
    Ok(Some((node, node.inputs[1 - readers[0].slot])))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Runs `expr` on two sources of the given shapes with tract's EinSum and with the rewrite;
    /// returns how many products were replaced and the largest difference.
    fn compare(expr: &str, a_shape: &[usize], b_shape: &[usize]) -> TractResult<(usize, f32)> {
        let mut model = TypedModel::default();
        let a = model.add_source("a", f32::fact(a_shape))?;
        let b = model.add_source("b", f32::fact(b_shape))?;
        let c = model.wire_node("mm", EinSum::new(expr.parse()?, f32::datum_type()), &[a, b])?;
        model.select_output_outlets(&c)?;
        let values = |shape: &[usize], seed: usize| -> TractResult<Tensor> {
            let len = shape.iter().product::<usize>();
            let v: Vec<f32> = (0..len).map(|i| ((i * 7 + seed) % 13) as f32 / 6.0 - 1.0).collect();
            Tensor::from_shape(shape, &v)
        };
        let inputs = tvec![values(a_shape, 1)?.into(), values(b_shape, 5)?.into()];
        let want = model.clone().into_optimized()?.into_runnable()?.run(inputs.clone())?;
        let mut ours = model;
        let replaced = replace_batched_matmuls(&mut ours)?;
        let got = ours.into_optimized()?.into_runnable()?.run(inputs)?;
        ensure!(got[0].shape() == want[0].shape(), "shape {:?} vs {:?}", got[0].shape(), want[0].shape());
        let (got, want) = (got[0].to_plain_array_view::<f32>()?, want[0].to_plain_array_view::<f32>()?);
        let diff = got.iter().zip(want.iter()).map(|(g, w)| (g - w).abs()).fold(0.0, f32::max);
        Ok((replaced, diff))
    }

    #[test]
    fn attention_products_as_tract_writes_them() -> TractResult<()> {
        // Batch 1 (scores with an output-only unit axis, then probabilities times V) and batch 2,
        // with 3 heads of 5 dimensions and 7 or 9 tokens.
        let cases: [(&str, &[usize], &[usize]); 4] = [
            ("mbk,nbk->abmn", &[7, 3, 5], &[9, 3, 5]),
            ("abmk,kbn->mbn", &[1, 3, 7, 9], &[9, 3, 5]),
            ("ambk,anbk->abmn", &[2, 7, 3, 5], &[2, 9, 3, 5]),
            ("abmk,akbn->ambn", &[2, 3, 7, 9], &[2, 9, 3, 5]),
        ];
        for (expr, a, b) in cases {
            let (replaced, diff) = compare(expr, a, b)?;
            assert_eq!(replaced, 1, "{expr}");
            assert!(diff < 1e-5, "{expr}: differs by {diff}");
        }
        Ok(())
    }

    #[test]
    fn folds_the_scale_and_the_mask_that_follow() -> TractResult<()> {
        // scores = Q·Kᵀ [1, 3, 7, 9] · 0.25 + mask [1, 1, 7, 9], as the exports write it.
        let mut model = TypedModel::default();
        let q = model.add_source("q", f32::fact([7, 3, 5]))?;
        let k = model.add_source("k", f32::fact([9, 3, 5]))?;
        let mask = model.add_source("mask", f32::fact([1, 1, 7, 9]))?;
        let scores = model.wire_node("qk", EinSum::new("mbk,nbk->abmn".parse()?, f32::datum_type()), &[q, k])?[0];
        let quarter = model.add_const("quarter", tensor4(&[[[[0.25f32]]]]))?;
        let scaled = model.wire_node("scale", TypedBinOp(Box::new(Mul), None), &[scores, quarter])?[0];
        let masked = model.wire_node("add", TypedBinOp(Box::new(Add), None), &[mask, scaled])?;
        model.select_output_outlets(&masked)?;
        let values = |shape: &[usize], seed: usize| -> TractResult<TValue> {
            let v: Vec<f32> = (0..shape.iter().product()).map(|i: usize| ((i * 7 + seed) % 13) as f32 - 6.0).collect();
            Ok(Tensor::from_shape(shape, &v)?.into())
        };
        let inputs = tvec![values(&[7, 3, 5], 1)?, values(&[9, 3, 5], 2)?, values(&[1, 1, 7, 9], 3)?];
        let want = model.clone().into_optimized()?.into_runnable()?.run(inputs.clone())?;
        let mut ours = model;
        assert_eq!(replace_batched_matmuls(&mut ours)?, 1);
        let binary_ops = ours.eval_order()?.iter().filter(|&&id| ours.node(id).op_as::<TypedBinOp>().is_some()).count();
        assert_eq!(binary_ops, 0, "the Mul and the Add are folded");
        let got = ours.into_optimized()?.into_runnable()?.run(inputs)?;
        assert_eq!(got[0].clone().into_tensor(), want[0].clone().into_tensor());
        Ok(())
    }

    /// The scores with their scale and mask (as the exports write them, `heads` heads of
    /// `tokens` tokens), then the probabilities times V, with the rewrite; their two outputs.
    fn attention(tokens: usize, heads: usize, inputs: &TVec<TValue>) -> TractResult<TVec<TValue>> {
        let mut model = TypedModel::default();
        let q = model.add_source("q", f32::fact([tokens, heads, 32]))?;
        let k = model.add_source("k", f32::fact([tokens, heads, 32]))?;
        let v = model.add_source("v", f32::fact([tokens, heads, 32]))?;
        let mask = model.add_source("mask", f32::fact([1, 1, 1, tokens]))?;
        let scores = model.wire_node("qk", EinSum::new("mbk,nbk->abmn".parse()?, f32::datum_type()), &[q, k])?[0];
        let eighth = model.add_const("eighth", tensor4(&[[[[0.125f32]]]]))?;
        let scaled = model.wire_node("scale", TypedBinOp(Box::new(Mul), None), &[scores, eighth])?[0];
        let masked = model.wire_node("add", TypedBinOp(Box::new(Add), None), &[scaled, mask])?[0];
        let copy = model.wire_node("copy", TypedBinOp(Box::new(Add), None), &[masked, eighth])?[0];
        let context = model.wire_node("pv", EinSum::new("abmk,kbn->mbn".parse()?, f32::datum_type()), &[copy, v])?[0];
        model.select_output_outlets(&[masked, context])?;
        assert_eq!(replace_batched_matmuls(&mut model)?, 2);
        model.into_optimized()?.into_runnable()?.run(inputs.clone())
    }

    #[test]
    fn split_over_threads_gives_the_bits_of_one_thread() -> TractResult<()> {
        // Rows that are and are not a multiple of the kernel's tile, enough work to split.
        for (tokens, heads) in [(64, 12), (61, 12), (128, 4)] {
            let values = |shape: &[usize], seed: usize| -> TractResult<TValue> {
                let v: Vec<f32> =
                    (0..shape.iter().product()).map(|i: usize| ((i * 7 + seed) % 13) as f32 / 6.0 - 1.0).collect();
                Ok(Tensor::from_shape(shape, &v)?.into())
            };
            let mut mask = vec![0.0f32; tokens];
            mask[tokens - 3..].fill(-10000.0);
            let inputs = tvec![
                values(&[tokens, heads, 32], 1)?,
                values(&[tokens, heads, 32], 2)?,
                values(&[tokens, heads, 32], 3)?,
                Tensor::from_shape(&[1, 1, 1, tokens], &mask)?.into(),
            ];
            let one = attention(tokens, heads, &inputs)?;
            for threads in [2, 3] {
                let pool = rayon::ThreadPoolBuilder::new().num_threads(threads).build()?;
                let (split, used) =
                    pool.install(|| (attention(tokens, heads, &inputs), crate::kernels::split::threads()));
                assert_eq!(used, if cfg!(feature = "threads") { threads } else { 1 });
                for (got, want) in split?.iter().zip(&one) {
                    assert_eq!(got.shape(), want.shape());
                    let (got, want) = (got.to_plain_array_view::<f32>()?, want.to_plain_array_view::<f32>()?);
                    let differ = got.iter().zip(want.iter()).position(|(g, w)| g.to_bits() != w.to_bits());
                    assert_eq!(differ, None, "{tokens} tokens, {heads} heads, {threads} threads");
                }
            }
        }
        Ok(())
    }

    #[test]
    fn leaves_other_products_to_tract() -> TractResult<()> {
        // k not last in A; n not last in the result; two contracted axes; a broadcast batch axis.
        for (expr, a, b) in [
            ("bkm,bkn->bmn", &[2, 5, 7][..], &[2, 5, 3][..]),
            ("bmk,bkn->bnm", &[2, 7, 5], &[2, 5, 3]),
            ("mjk,jkn->mn", &[7, 2, 5], &[2, 5, 3]),
            ("bmk,bkn->bmn", &[1, 7, 5], &[2, 5, 3]),
        ] {
            let (replaced, diff) = compare(expr, a, b)?;
            assert_eq!(replaced, 0, "{expr}");
            assert_eq!(diff, 0.0);
        }
        Ok(())
    }
}
