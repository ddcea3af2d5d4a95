//! Weight-only int8 exports keep each weight as `DequantizeLinear(int8, scale, zero_point)`.
//! Left to tract, those stay packed and slow; here they become plain f32 initializers before
//! tract ever sees the graph, so it optimises ordinary f32 matrix products.

use std::collections::{HashMap, HashSet};

use tract_onnx::data_resolver::MmapDataResolver;
use tract_onnx::pb::{tensor_proto::DataType, GraphProto, NodeProto, TensorProto};
use tract_onnx::prelude::*;
use tract_onnx::tract_hir::internal::{ensure, TractErrorContext};

/// How a folded weight was quantized (ordered from coarse to fine).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Granularity {
    /// One scale for the whole tensor.
    PerTensor,
    /// One scale per row or column.
    PerChannel,
}

/// Replaces every `DequantizeLinear` whose inputs are all initializers by an f32 initializer.
/// Returns how many were folded and the finest granularity seen.
pub fn fold_constant_dequantize(graph: &mut GraphProto) -> TractResult<(usize, Option<Granularity>)> {
    let mut initializers: HashMap<String, TensorProto> =
        graph.initializer.drain(..).map(|t| (t.name.clone(), t)).collect();
    let mut folded = 0;
    let mut granularity = None;
    let mut kept_nodes = Vec::with_capacity(graph.node.len());
    for node in graph.node.drain(..) {
        let foldable = node.op_type == "DequantizeLinear"
            && node.output.len() == 1
            && node.input.iter().all(|i| i.is_empty() || initializers.contains_key(i));
        if !foldable {
            kept_nodes.push(node);
            continue;
        }
        let (weights, per_channel) = dequantize(&node, &initializers)?;
        granularity = Some(match (granularity, per_channel) {
            (_, true) | (Some(Granularity::PerChannel), _) => Granularity::PerChannel,
            _ => Granularity::PerTensor,
        });
        initializers.insert(node.output[0].clone(), f32_initializer(&node.output[0], &weights)?);
        folded += 1;
    }
    graph.node = kept_nodes;
    let used: HashSet<&str> = graph
        .node
        .iter()
        .flat_map(|n| n.input.iter().map(String::as_str))
        .chain(graph.output.iter().map(|o| o.name.as_str()))
        .collect();
    let mut kept: Vec<TensorProto> = initializers.into_values().filter(|t| used.contains(t.name.as_str())).collect();
    kept.sort_by(|a, b| a.name.cmp(&b.name));
    graph.initializer = kept;
    Ok((folded, granularity))
}

/// Turns the weight-only int8 form `bertscope quantize` writes below opset 13,
/// `Mul(Sub(Cast(q), zero_point), scale)` on constants, into the one `DequantizeLinear` node it
/// stands for (f32 zero point, scale and zero point shaped `[1, N]` or `[K, 1]`: read as flat
/// lists by [`fold_constant_dequantize`], which then folds it). Returns how many.
pub fn arithmetic_as_dequantize_linear(graph: &mut GraphProto) -> usize {
    use super::dequantize_pattern::{constant_dequantizers, Constant, Form};
    let constants: HashMap<&str, Constant> = graph
        .initializer
        .iter()
        .map(|t| (t.name.as_str(), Constant { dims: &t.dims, data_type: t.data_type }))
        .collect();
    let outputs: Vec<&str> = graph.output.iter().map(|o| o.name.as_str()).collect();
    let found: Vec<_> = constant_dequantizers(&graph.node, &outputs, |name| constants.get(name).copied())
        .into_iter()
        .filter(|d| d.form == Form::Arithmetic)
        .collect();
    let mut replaced: HashMap<usize, NodeProto> = HashMap::new();
    let mut removed = HashSet::new();
    for d in &found {
        let (last, earlier) = d.nodes.split_last().expect("a match has nodes");
        replaced.insert(*last, d.as_dequantize_linear());
        removed.extend(earlier.iter().copied());
    }
    let nodes = std::mem::take(&mut graph.node).into_iter().enumerate();
    graph.node = nodes.filter(|(i, _)| !removed.contains(i)).map(|(i, n)| replaced.remove(&i).unwrap_or(n)).collect();
    found.len()
}

/// Computes `(x - zero_point) * scale` with the ONNX broadcasting rule of `DequantizeLinear`.
fn dequantize(node: &NodeProto, initializers: &HashMap<String, TensorProto>) -> TractResult<(Tensor, bool)> {
    let load = |name: &str| -> TractResult<Tensor> {
        let proto = initializers.get(name).with_context(|| format!("missing initializer {name}"))?;
        tract_onnx::tensor::load_tensor(&MmapDataResolver, proto, None)
    };
    let x = load(node.input.first().context("DequantizeLinear without input")?)?;
    let scale = load(node.input.get(1).context("DequantizeLinear without scale")?)?.cast_to::<f32>()?.into_owned();
    let zero_point = match node.input.get(2).filter(|n| !n.is_empty()) {
        Some(name) => Some(load(name)?.cast_to::<f32>()?.into_owned()),
        None => None,
    };
    let x = x.cast_to::<f32>()?.into_owned();
    let rank = x.rank() as i64;
    let axis = node.attribute.iter().find(|a| a.name == "axis").map(|a| a.i).unwrap_or(1);
    let per_channel = scale.len() > 1;
    let mut out = x.into_plain_array::<f32>()?;
    let scales = values(&scale)?;
    let zeros = zero_point.as_ref().map(values).transpose()?;
    let zeros = zeros.as_deref();
    if per_channel {
        let axis = if axis < 0 { axis + rank } else { axis };
        ensure!((0..rank).contains(&axis), "DequantizeLinear axis {axis} out of range");
        let axis = tract_ndarray::Axis(axis as usize);
        ensure!(out.len_of(axis) == scales.len(), "DequantizeLinear scale length does not match its axis");
        for (i, mut lane) in out.axis_iter_mut(axis).enumerate() {
            let zp = zeros.map_or(0.0, |z| z[i]);
            lane.mapv_inplace(|v| (v - zp) * scales[i]);
        }
    } else {
        let s = *scales.first().context("DequantizeLinear with empty scale")?;
        let zp = zeros.and_then(|z| z.first().copied()).unwrap_or(0.0);
        out.mapv_inplace(|v| (v - zp) * s);
    }
    Ok((out.into_tensor(), per_channel))
}

fn f32_initializer(name: &str, weights: &Tensor) -> TractResult<TensorProto> {
    let raw = values(weights)?.iter().flat_map(|v| v.to_le_bytes()).collect();
    Ok(TensorProto {
        name: name.to_string(),
        dims: weights.shape().iter().map(|&d| d as i64).collect(),
        data_type: DataType::Float as i32,
        raw_data: raw,
        ..Default::default()
    })
}

fn values(t: &Tensor) -> TractResult<Vec<f32>> {
    Ok(t.to_plain_array_view::<f32>()?.iter().copied().collect())
}
