//! Finds, from the graph's structure alone, what the context-mixing measures need of each
//! attention layer: the value vectors the attention averages, the output projection `W_O, b_O`,
//! the residual sum entering the first LayerNorm after attention, and that LayerNorm's `γ, β, ε`.
//!
//! The walk starts at each layer's Softmax: its consumer `MatMul(probabilities, V)` takes the
//! values (`[batch, heads, seq, head_dim]`) as second input; from that product the path goes
//! forward through `Transpose`/`Reshape` (and `DynamicQuantizeLinear`) to the product with a
//! constant weight (`W_O`, dequantized if the export multiplies in integers), its bias `Add`, the
//! residual `Add` with the layer's input, and the LayerNorm (one `LayerNormalization` node or
//! the `ReduceMean`/`Sub`/`Pow`/`Sqrt`/`Div`/`Mul`/`Add` chain exporters write).

use std::collections::HashMap;

use tract_onnx::data_resolver::MmapDataResolver;
use tract_onnx::pb::{GraphProto, NodeProto, TensorProto};

/// The last axis of a `[batch, seq, hidden]` tensor, as ONNX attributes may write it.
const LAST_AXIS: [i64; 2] = [-1, 2];

/// One attention layer's constants for the context-mixing measures.
#[derive(Debug, Clone, PartialEq)]
pub struct LayerMixing {
    /// `W_O`, `[hidden][hidden]` row-major; rows `h·d .. (h+1)·d` belong to head `h`.
    pub output_weight: Vec<f32>,
    /// `b_O`, `[hidden]`.
    pub output_bias: Vec<f32>,
    /// The LayerNorm's scale `γ`, `[hidden]`.
    pub gamma: Vec<f32>,
    /// The LayerNorm's shift `β`, `[hidden]`.
    pub beta: Vec<f32>,
    /// The LayerNorm's `ε`.
    pub epsilon: f32,
}

/// Names of the tensors the measures read while the model runs, for one layer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MixingTensors {
    /// The attention's values, `[batch, heads, seq, head_dim]`.
    pub values: String,
    /// The residual sum `attention output + b_O + layer input`, `[batch, seq, hidden]`.
    pub residual: String,
}

/// Everything the measures need, per layer.
#[derive(Debug, Clone, PartialEq)]
pub struct MixingAnatomy {
    /// Tensors to read while running.
    pub tensors: Vec<MixingTensors>,
    /// Constants of each layer.
    pub layers: Vec<LayerMixing>,
}

/// Finds the mixing anatomy of every layer. `softmaxes` and `layer_inputs` are the anatomy's
/// attention outputs and layer inputs (one per layer). `Err` says in words what is missing.
pub fn find(graph: &GraphProto, softmaxes: &[String], layer_inputs: &[String]) -> Result<MixingAnatomy, String> {
    let graph = Graph::new(graph);
    let mut tensors = Vec::new();
    let mut layers = Vec::new();
    for (layer, (softmax, input)) in softmaxes.iter().zip(layer_inputs).enumerate() {
        let (t, l) = graph.layer(softmax, input).map_err(|e| format!("layer {}: {e}", layer + 1))?;
        tensors.push(t);
        layers.push(l);
    }
    Ok(MixingAnatomy { tensors, layers })
}

/// The graph indexed for walking forward and reading constants.
struct Graph<'a> {
    producer: HashMap<&'a str, &'a NodeProto>,
    consumers: HashMap<&'a str, Vec<&'a NodeProto>>,
    initializers: HashMap<&'a str, &'a TensorProto>,
}

impl<'a> Graph<'a> {
    fn new(graph: &'a GraphProto) -> Self {
        let mut producer = HashMap::new();
        let mut consumers: HashMap<&str, Vec<&NodeProto>> = HashMap::new();
        for node in &graph.node {
            for out in &node.output {
                producer.insert(out.as_str(), node);
            }
            for input in node.input.iter().filter(|i| !i.is_empty()) {
                consumers.entry(input.as_str()).or_default().push(node);
            }
        }
        let initializers = graph.initializer.iter().map(|t| (t.name.as_str(), t)).collect();
        Self { producer, consumers, initializers }
    }

    /// The nodes reading `tensor`, except `Shape` (which reads only dimensions).
    fn readers(&self, tensor: &str) -> Vec<&'a NodeProto> {
        self.consumers.get(tensor).map_or(Vec::new(), |c| c.iter().copied().filter(|n| n.op_type != "Shape").collect())
    }

    /// The only node reading `tensor`, if exactly one does.
    fn only_reader(&self, tensor: &str) -> Option<&'a NodeProto> {
        match self.readers(tensor).as_slice() {
            [one] => Some(one),
            _ => None,
        }
    }

    /// `name`, or what it copies when an `Identity` produces it (exporters alias shared weights so).
    fn resolve<'n>(&self, mut name: &'n str) -> &'n str
    where
        'a: 'n,
    {
        for _ in 0..8 {
            match self.producer.get(name) {
                Some(node) if node.op_type == "Identity" && !node.input.is_empty() => name = node.input[0].as_str(),
                _ => break,
            }
        }
        name
    }

    /// The value of a constant tensor (an initializer or a `Constant` node), as f32.
    fn constant(&self, name: &str) -> Option<Vec<f32>> {
        let name = self.resolve(name);
        let proto = match self.initializers.get(name) {
            Some(t) => *t,
            None => {
                let node = self.producer.get(name).filter(|n| n.op_type == "Constant")?;
                node.attribute.iter().find(|a| a.name == "value")?.t.as_ref()?
            }
        };
        let tensor = tract_onnx::tensor::load_tensor(&MmapDataResolver, proto, None).ok()?;
        let tensor = tensor.cast_to::<f32>().ok()?;
        Some(tensor.to_plain_array_view::<f32>().ok()?.iter().copied().collect())
    }

    /// The dimensions of a constant tensor.
    fn dims(&self, name: &str) -> Option<Vec<usize>> {
        let name = self.resolve(name);
        let proto = match self.initializers.get(name) {
            Some(t) => *t,
            None => {
                let node = self.producer.get(name).filter(|n| n.op_type == "Constant")?;
                node.attribute.iter().find(|a| a.name == "value")?.t.as_ref()?
            }
        };
        Some(proto.dims.iter().map(|&d| d.max(0) as usize).collect())
    }

    fn is_constant(&self, name: &str) -> bool {
        let name = self.resolve(name);
        self.initializers.contains_key(name) || self.producer.get(name).is_some_and(|n| n.op_type == "Constant")
    }

    /// For an elementwise node with one constant input, that constant and the other input.
    fn split_constant<'n>(&self, node: &'n NodeProto) -> Option<(&'n str, &'n str)> {
        match node.input.as_slice() {
            [a, b] if self.is_constant(b) && !self.is_constant(a) => Some((b, a)),
            [a, b] if self.is_constant(a) && !self.is_constant(b) => Some((a, b)),
            _ => None,
        }
    }

    fn layer(&self, softmax: &str, layer_input: &str) -> Result<(MixingTensors, LayerMixing), String> {
        let context = self
            .readers(softmax)
            .into_iter()
            .find(|n| n.op_type == "MatMul" && n.input.first().map(String::as_str) == Some(softmax))
            .ok_or("no product of the attention with the values follows its Softmax")?;
        let values = context.input.get(1).ok_or("the attention product has no values")?.clone();
        let (output_weight, width, mut sum) = self.output_projection(&context.output[0])?;
        let mut output_bias = vec![0.0; width];
        let mut next = self.only_reader(&sum).filter(|n| n.op_type == "Add");
        if let Some((bias, rest)) = next.and_then(|n| self.split_constant(n)) {
            if rest == sum {
                output_bias =
                    self.constant(bias).filter(|b| b.len() == width).ok_or("the output bias is not a vector")?;
                sum = next.map(|n| n.output[0].clone()).unwrap_or_default();
                next = self.only_reader(&sum).filter(|n| n.op_type == "Add");
            }
        }
        let residual = next.ok_or("no residual sum follows the attention's output projection")?;
        if !residual.input.iter().any(|i| i == layer_input) {
            return Err("the residual sum does not add the layer's input".into());
        }
        let residual = residual.output[0].clone();
        let (gamma, beta, epsilon) = self.layer_norm(&residual, width)?;
        Ok((MixingTensors { values, residual }, LayerMixing { output_weight, output_bias, gamma, beta, epsilon }))
    }

    /// From the attention product forward to the product with `W_O`: the weights as f32
    /// (`[width][width]`), the width, and the tensor holding the projection's result.
    fn output_projection(&self, context: &str) -> Result<(Vec<f32>, usize, String), String> {
        let mut tensor = context.to_string();
        for _ in 0..8 {
            let node = match self.readers(&tensor).as_slice() {
                [one] => *one,
                [] => return Err("the attention's output is not used".into()),
                _ => return Err("the attention's output is read by more than one node".into()),
            };
            match node.op_type.as_str() {
                "Transpose" | "Reshape" | "Flatten" | "DynamicQuantizeLinear" => tensor = node.output[0].clone(),
                "MatMul" | "MatMulInteger" if node.input.get(1).is_some_and(|w| self.is_constant(w)) => {
                    return self.projection_weights(node);
                }
                super::int8_products::OP => {
                    let (weights, [rows, width]) = super::int8_products::dequantized(node)
                        .ok_or("the output projection's weights cannot be read")?;
                    if rows != width {
                        return Err(format!("the output projection is {rows} × {width}, not square"));
                    }
                    return Ok((weights, width, node.output[0].clone()));
                }
                other => {
                    return Err(format!("the attention's output passes through {other} before its output projection"))
                }
            }
        }
        Err("the attention's output projection could not be found".into())
    }

    /// `W_O` of a `MatMul` (f32 weights) or `MatMulInteger` (codes, zero point, and the weight
    /// scale of the `Mul` that follows its `Cast`).
    fn projection_weights(&self, product: &NodeProto) -> Result<(Vec<f32>, usize, String), String> {
        let weight = &product.input[1];
        let dims = self.dims(weight).unwrap_or_default();
        let [rows, width] = dims[..] else {
            return Err(format!("the output projection's weights have shape {dims:?}"));
        };
        if rows != width {
            return Err(format!("the output projection is {rows} × {width}, not square"));
        }
        let codes = self.constant(weight).ok_or("the output projection's weights cannot be read")?;
        if product.op_type == "MatMul" {
            return Ok((codes, width, product.output[0].clone()));
        }
        let zero = product.input.get(3).filter(|z| !z.is_empty()).map(|z| self.constant(z));
        let zero = zero.map(|z| z.ok_or("the weights' zero point cannot be read")).transpose()?;
        let cast = self.only_reader(&product.output[0]).filter(|n| n.op_type == "Cast");
        let rescale = cast.and_then(|c| self.only_reader(&c.output[0])).filter(|n| n.op_type == "Mul");
        let rescale = rescale.ok_or("the integer output projection is not rescaled by a Mul")?;
        let scale = rescale
            .input
            .iter()
            .filter_map(|i| self.producer.get(i.as_str()))
            .filter(|n| n.op_type == "Mul")
            .flat_map(|n| n.input.iter())
            .find_map(|i| self.constant(i))
            .ok_or("the weight scale of the integer output projection cannot be found")?;
        let per = |values: &[f32], column: usize| if values.len() == width { values[column] } else { values[0] };
        let weights = codes
            .iter()
            .enumerate()
            .map(|(i, &q)| {
                let column = i % width;
                (q - zero.as_deref().map_or(0.0, |z| per(z, column))) * per(&scale, column)
            })
            .collect();
        Ok((weights, width, rescale.output[0].clone()))
    }

    /// `γ`, `β` and `ε` of the LayerNorm reading `sum`: a `LayerNormalization` node over the last
    /// axis, or the whole chain exporters write for it (see [`Graph::decomposed_layer_norm`]).
    fn layer_norm(&self, sum: &str, width: usize) -> Result<(Vec<f32>, Vec<f32>, f32), String> {
        let readers = self.readers(sum);
        if let Some(ln) = readers.iter().find(|n| n.op_type == "LayerNormalization") {
            let axis = ln.attribute.iter().find(|a| a.name == "axis").map_or(-1, |a| a.i);
            if ln.input.first().map(String::as_str) != Some(sum) || !LAST_AXIS.contains(&axis) {
                return Err("the LayerNorm after the attention does not normalise each token's vector".into());
            }
            let vector = |i: usize| ln.input.get(i).and_then(|n| self.constant(n)).filter(|v| v.len() == width);
            let gamma = vector(1).ok_or("the LayerNorm's scale cannot be read")?;
            let beta = vector(2).unwrap_or_else(|| vec![0.0; width]);
            let epsilon = ln.attribute.iter().find(|a| a.name == "epsilon").map_or(1e-5, |a| a.f);
            return Ok((gamma, beta, epsilon));
        }
        self.decomposed_layer_norm(sum, width)
            .ok_or_else(|| "the LayerNorm after the attention could not be read".into())
    }

    /// The LayerNorm as exporters decompose it, checked node by node (ALTI's formula holds for
    /// exactly this computation, so nothing else may pass for it): `mean = ReduceMean(sum)`,
    /// `d = sum − mean`, `var = ReduceMean(d²)` (a `Pow` by 2 or `d · d`), then
    /// `d / Sqrt(var + ε) · γ`, and `+ β` when a constant is added next (one per element; else
    /// `β = 0`); both
    /// means over the last axis.
    fn decomposed_layer_norm(&self, sum: &str, width: usize) -> Option<(Vec<f32>, Vec<f32>, f32)> {
        let readers = self.readers(sum);
        let mean = readers.iter().find(|n| n.op_type == "ReduceMean" && self.reduces_last_axis(n))?;
        let centred = readers.iter().find(|n| n.op_type == "Sub" && n.input == [sum, mean.output[0].as_str()])?;
        let d = centred.output[0].as_str();
        let d_readers = self.readers(d);
        let square = d_readers.iter().find(|n| match n.op_type.as_str() {
            "Pow" => n.input.len() == 2 && n.input[0] == d && self.constant(&n.input[1]) == Some(vec![2.0]),
            "Mul" => n.input == [d, d],
            _ => false,
        })?;
        let variance =
            self.only_reader(&square.output[0]).filter(|n| n.op_type == "ReduceMean" && self.reduces_last_axis(n))?;
        let shifted = self.only_reader(&variance.output[0]).filter(|n| n.op_type == "Add")?;
        let (epsilon, _) = self.split_constant(shifted)?;
        let epsilon = self.constant(epsilon).filter(|v| v.len() == 1)?[0];
        let root = self.only_reader(&shifted.output[0]).filter(|n| n.op_type == "Sqrt")?;
        let divided = d_readers.iter().find(|n| n.op_type == "Div" && n.input == [d, root.output[0].as_str()])?;
        let scaled = self.only_reader(&divided.output[0]).filter(|n| n.op_type == "Mul")?;
        let (gamma, _) = self.split_constant(scaled)?;
        let gamma = self.constant(gamma).filter(|v| v.len() == width)?;
        let shift = self.only_reader(&scaled.output[0]).filter(|n| n.op_type == "Add");
        let beta = match shift.and_then(|n| self.split_constant(n)) {
            Some((shift, _)) => self.constant(shift).filter(|v| v.len() == width)?,
            None => vec![0.0; width],
        };
        Some((gamma, beta, epsilon))
    }

    /// Whether a `ReduceMean` averages over the last axis only (of `[batch, seq, hidden]`), its
    /// axes given as an attribute (up to opset 17) or as a constant input (opset 18).
    fn reduces_last_axis(&self, node: &NodeProto) -> bool {
        let axes = match node.attribute.iter().find(|a| a.name == "axes") {
            Some(attribute) => Some(attribute.ints.clone()),
            None => node
                .input
                .get(1)
                .filter(|i| !i.is_empty())
                .and_then(|i| self.constant(i))
                .map(|v| v.iter().map(|&a| a as i64).collect()),
        };
        matches!(axes.as_deref(), Some([axis]) if LAST_AXIS.contains(axis))
    }
}
