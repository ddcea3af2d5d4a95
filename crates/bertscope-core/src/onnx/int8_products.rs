//! For bertscope's own kernels (the wasm engine): a weight-only int8 product
//! `MatMul(x, DequantizeLinear(codes, scale, zero_point))` never needs its weights in f32, since
//! the integer GEMM multiplies the codes and scales each column by its step. Folded to f32 first
//! (as tract's own kernels need), DistilBERT-base's product weights take 170 MB while the model
//! loads, and tract's graph keeps them for the next plan. Here each such product becomes one
//! [`OP`] node carrying its codes, scale and zero point as tensor attributes, moved out of the
//! initializers rather than copied; [`crate::ops::int8_matmul`] packs them for the kernel.

use std::collections::HashMap;

use tract_onnx::pb::attribute_proto::AttributeType;
use tract_onnx::pb::tensor_proto::DataType;
use tract_onnx::pb::{AttributeProto, GraphProto, NodeProto, TensorProto};

use super::fold_dequantize::Granularity;

/// The op type of a rewritten product (its only input is the activation).
pub(crate) const OP: &str = "BertscopeInt8MatMul";
/// Attribute names of the rewritten product: the `k × n` int8 or uint8 codes, the f32 scale
/// (one, or one per column) and the zero point (as many, the codes' type; absent means 0).
pub(crate) const CODES: &str = "codes";
pub(crate) const SCALE: &str = "scale";
pub(crate) const ZERO_POINT: &str = "zero_point";

/// Rewrites every product whose weight is a per-column or per-tensor `DequantizeLinear` of 2-D
/// int8/uint8 initializers read by that product alone. Returns how many, and the finest
/// granularity seen.
pub(crate) fn rewrite(graph: &mut GraphProto) -> (usize, Option<Granularity>) {
    let mut readers: HashMap<&str, usize> = HashMap::new();
    for name in graph.node.iter().flat_map(|n| &n.input).chain(graph.output.iter().map(|o| &o.name)) {
        *readers.entry(name.as_str()).or_default() += 1;
    }
    let producer: HashMap<&str, usize> =
        graph.node.iter().enumerate().flat_map(|(i, n)| n.output.iter().map(move |o| (o.as_str(), i))).collect();
    let initializer: HashMap<&str, usize> =
        graph.initializer.iter().enumerate().map(|(i, t)| (t.name.as_str(), i)).collect();
    let mut found: Vec<Found> = Vec::new();
    for (i, node) in graph.node.iter().enumerate() {
        let [_, weight] = node.input.as_slice() else { continue };
        if node.op_type != "MatMul" || readers.get(weight.as_str()) != Some(&1) {
            continue;
        }
        let Some(&d) = producer.get(weight.as_str()) else { continue };
        let tensor = |slot: usize| {
            let name = graph.node[d].input.get(slot).filter(|n| !n.is_empty())?;
            initializer.get(name.as_str()).map(|&t| &graph.initializer[t])
        };
        if let Some(per_channel) = packable_dequantize(&graph.node[d], tensor(0), tensor(1), tensor(2)) {
            let slots = [CODES, SCALE, ZERO_POINT].into_iter().zip(&graph.node[d].input).filter(|(_, n)| !n.is_empty());
            let tensors = slots.map(|(attribute, n)| (attribute, initializer[n.as_str()], readers[n.as_str()] == 1));
            found.push(Found { product: i, dequantize: d, per_channel, tensors: tensors.collect() });
        }
    }
    if found.is_empty() {
        return (0, None);
    }
    let granularity =
        if found.iter().any(|f| f.per_channel) { Some(Granularity::PerChannel) } else { Some(Granularity::PerTensor) };
    let mut initializers: Vec<Option<TensorProto>> = graph.initializer.drain(..).map(Some).collect();
    let mut removed = vec![false; graph.node.len()];
    for Found { product: i, dequantize: d, tensors, .. } in &found {
        let mut attributes = Vec::new();
        for &(name, at, alone) in tensors {
            // Moved when this dequantize is its only reader, else copied.
            let tensor = if alone { initializers[at].take() } else { initializers[at].clone() };
            let tensor = tensor.expect("an initializer is moved once: its dequantize had one reader");
            attributes.push(AttributeProto {
                name: name.to_string(),
                r#type: AttributeType::Tensor as i32,
                t: Some(tensor),
                ..Default::default()
            });
        }
        let (i, d) = (*i, *d);
        let product = &mut graph.node[i];
        *product = NodeProto {
            name: std::mem::take(&mut product.name),
            op_type: OP.to_string(),
            input: vec![std::mem::take(&mut product.input[0])],
            output: std::mem::take(&mut product.output),
            attribute: attributes,
            ..Default::default()
        };
        removed[d] = true;
    }
    graph.initializer = initializers.into_iter().flatten().collect();
    let nodes = std::mem::take(&mut graph.node).into_iter().zip(removed);
    graph.node = nodes.filter(|(_, gone)| !gone).map(|(n, _)| n).collect();
    (found.len(), granularity)
}

/// A product to rewrite.
struct Found {
    product: usize,
    dequantize: usize,
    per_channel: bool,
    /// For each of codes, scale and zero point given: its attribute name, its initializer, and
    /// whether that dequantize alone reads it (then it is moved, else copied).
    tensors: Vec<(&'static str, usize, bool)>,
}

/// Whether `node` is a `DequantizeLinear` of constant 2-D int8/uint8 codes by a scale (and zero
/// point) that is one value or one per column; `Some(per channel)` if so.
fn packable_dequantize(
    node: &NodeProto,
    codes: Option<&TensorProto>,
    scale: Option<&TensorProto>,
    zero_point: Option<&TensorProto>,
) -> Option<bool> {
    if node.op_type != "DequantizeLinear" || node.output.len() != 1 || node.input.len() > 3 {
        return None;
    }
    let (codes, scale) = (codes?, scale?);
    let has_zero_point = node.input.get(2).is_some_and(|n| !n.is_empty());
    if has_zero_point != zero_point.is_some() {
        return None;
    }
    let int8 = [DataType::Int8 as i32, DataType::Uint8 as i32];
    let [_, n] = codes.dims[..] else { return None };
    if !int8.contains(&codes.data_type) || scale.data_type != DataType::Float as i32 || !codes.external_data.is_empty()
    {
        return None;
    }
    let count = |t: &TensorProto| t.dims.iter().product::<i64>();
    let per_channel = match count(scale) {
        1 => false,
        c if c == n && scale.dims.len() == 1 => true,
        _ => return None,
    };
    if per_channel {
        let axis = node.attribute.iter().find(|a| a.name == "axis").map_or(1, |a| a.i);
        if axis != 1 && axis != -1 {
            return None;
        }
    }
    if let Some(z) = zero_point {
        if z.data_type != codes.data_type || count(z) != count(scale) || z.dims.len() != scale.dims.len() {
            return None;
        }
    }
    Some(per_channel)
}

/// The weights of a rewritten product as f32 `k × n` (row-major), as `DequantizeLinear` computes
/// them: `(code - zero_point) · scale`. For the few readers that need values (the context-mixing
/// constants); `None` if the node is not a well-formed [`OP`].
pub(crate) fn dequantized(node: &NodeProto) -> Option<(Vec<f32>, [usize; 2])> {
    use tract_onnx::data_resolver::MmapDataResolver;
    let tensor = |name: &str| {
        let proto = node.attribute.iter().find(|a| a.name == name)?.t.as_ref()?;
        let tensor = tract_onnx::tensor::load_tensor(&MmapDataResolver, proto, None).ok()?;
        let values = tensor.cast_to::<f32>().ok()?.to_plain_array_view::<f32>().ok()?.iter().copied().collect();
        Some((values, tensor.shape().to_vec()))
    };
    let (codes, shape): (Vec<f32>, _) = tensor(CODES)?;
    let [k, n] = shape[..] else { return None };
    let (scale, _) = tensor(SCALE)?;
    let zero_point = match node.attribute.iter().any(|a| a.name == ZERO_POINT) {
        true => tensor(ZERO_POINT)?.0,
        false => vec![0.0; scale.len()],
    };
    if node.op_type != OP || !(scale.len() == 1 || scale.len() == n) || zero_point.len() != scale.len() {
        return None;
    }
    let per = |values: &[f32], j: usize| if values.len() == 1 { values[0] } else { values[j] };
    let weights = codes.iter().enumerate().map(|(i, &q)| (q - per(&zero_point, i % n)) * per(&scale, i % n)).collect();
    Some((weights, [k, n]))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tensor(name: &str, data_type: DataType, dims: &[i64], raw: Vec<u8>) -> TensorProto {
        TensorProto {
            name: name.into(),
            data_type: data_type as i32,
            dims: dims.to_vec(),
            raw_data: raw,
            ..Default::default()
        }
    }

    fn node(op: &str, inputs: &[&str], output: &str) -> NodeProto {
        NodeProto {
            name: output.into(),
            op_type: op.into(),
            input: inputs.iter().map(|s| s.to_string()).collect(),
            output: vec![output.into()],
            ..Default::default()
        }
    }

    /// `y = x · DequantizeLinear(codes [2 × 3] uint8, per-column scale and zero point)`.
    fn graph(extra_reader: bool) -> GraphProto {
        let f32s = |v: &[f32]| v.iter().flat_map(|x| x.to_le_bytes()).collect();
        let mut nodes = vec![node("DequantizeLinear", &["q", "s", "z"], "w"), node("MatMul", &["x", "w"], "y")];
        if extra_reader {
            nodes.push(node("Identity", &["w"], "w2"));
        }
        GraphProto {
            node: nodes,
            initializer: vec![
                tensor("q", DataType::Uint8, &[2, 3], vec![0, 128, 255, 10, 20, 130]),
                tensor("s", DataType::Float, &[3], f32s(&[0.5, 0.25, 2.0])),
                tensor("z", DataType::Uint8, &[3], vec![128, 128, 128]),
            ],
            ..Default::default()
        }
    }

    #[test]
    fn rewrites_an_int8_product_and_moves_its_tensors() {
        let mut g = graph(false);
        assert_eq!(rewrite(&mut g), (1, Some(Granularity::PerChannel)));
        assert_eq!(g.node.len(), 1);
        assert!(g.initializer.is_empty(), "codes, scale and zero point moved into the node");
        let product = &g.node[0];
        assert_eq!(
            (product.op_type.as_str(), product.input.as_slice(), product.output[0].as_str()),
            (OP, &["x".to_string()][..], "y")
        );
        let (weights, shape) = dequantized(product).expect("well formed");
        assert_eq!(shape, [2, 3]);
        // (q - 128) · scale per column.
        assert_eq!(weights, vec![-64.0, 0.0, 254.0, -59.0, -27.0, 4.0]);
    }

    #[test]
    fn leaves_weights_read_elsewhere_and_other_axes_alone() {
        let mut shared = graph(true);
        assert_eq!(rewrite(&mut shared), (0, None));
        let mut per_row = graph(false);
        per_row.node[0].attribute.push(AttributeProto { name: "axis".into(), i: 0, ..Default::default() });
        assert_eq!(rewrite(&mut per_row), (0, None), "a scale per row of k is no column step");
        assert_eq!(per_row.node.len(), 2);
        assert_eq!(per_row.initializer.len(), 3);
    }
}
