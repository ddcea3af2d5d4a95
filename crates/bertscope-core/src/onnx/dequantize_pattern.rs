//! Finds the weights of a graph that are stored quantized and rebuilt from constants, in the two
//! forms weight-only int8 files use:
//!
//! * `DequantizeLinear(q, scale, zero_point)` with every input a constant (opset 13 and later,
//!   where it takes an `axis`);
//! * `Mul(Sub(Cast(q, to=FLOAT), zero_point), scale)`, what `bertscope quantize` writes below
//!   opset 13: the same values from ops every opset has, `scale` and the f32 `zero_point` shaped
//!   `[1, N]` (one per column) or `[K, 1]` (one per row) to broadcast over `q [K, N]`.

use std::collections::HashMap;

use serde::Serialize;
use tract_onnx::pb::{attribute_proto::AttributeType, tensor_proto::DataType, AttributeProto, NodeProto};

/// What the search needs to know of a constant tensor.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Constant<'a> {
    /// Its shape.
    pub dims: &'a [i64],
    /// Its ONNX element type.
    pub data_type: i32,
}

/// How a constant dequantization is written.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "tsify", derive(tsify::Tsify))]
pub enum Form {
    /// One `DequantizeLinear` node.
    DequantizeLinear,
    /// `Cast`, `Sub`, `Mul` (below opset 13).
    Arithmetic,
}

/// A weight computed from constants as `(q - zero_point) · scale`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConstantDequantize {
    /// The nodes that compute it, in graph order (the last one writes `output`).
    pub nodes: Vec<usize>,
    /// The integer codes.
    pub quantized: String,
    /// The scales.
    pub scale: String,
    /// The zero points, if any.
    pub zero_point: Option<String>,
    /// The axis along which scales vary (`DequantizeLinear`'s attribute).
    pub axis: i64,
    /// The f32 weight it produces.
    pub output: String,
    /// How it is written.
    pub form: Form,
}

impl ConstantDequantize {
    /// The single `DequantizeLinear` node computing the same values. For the arithmetic form its
    /// zero point is the f32 one and scale and zero point keep their broadcast shape: fit for
    /// bertscope's own folding, which reads them as flat lists, not for writing to a file.
    pub fn as_dequantize_linear(&self) -> NodeProto {
        let mut input = vec![self.quantized.clone(), self.scale.clone()];
        input.extend(self.zero_point.clone());
        NodeProto {
            name: format!("{}_DequantizeLinear", self.output),
            op_type: "DequantizeLinear".into(),
            input,
            output: vec![self.output.clone()],
            attribute: vec![AttributeProto {
                name: "axis".into(),
                r#type: AttributeType::Int as i32,
                i: self.axis,
                ..Default::default()
            }],
            ..Default::default()
        }
    }
}

/// Every constant dequantization in `nodes`, in graph order of its last node. `constant` says
/// which tensor names are constants; `graph_outputs` are read by no node but still used.
pub fn constant_dequantizers<'a>(
    nodes: &[NodeProto],
    graph_outputs: &[&str],
    constant: impl Fn(&str) -> Option<Constant<'a>>,
) -> Vec<ConstantDequantize> {
    let mut producer: HashMap<&str, usize> = HashMap::new();
    let mut uses: HashMap<&str, usize> = HashMap::new();
    for (i, node) in nodes.iter().enumerate() {
        producer.extend(node.output.iter().map(|o| (o.as_str(), i)));
        node.input.iter().for_each(|x| *uses.entry(x).or_default() += 1);
    }
    graph_outputs.iter().for_each(|o| *uses.entry(o).or_default() += 1);
    let search = Search { nodes, producer, uses, constant };
    nodes
        .iter()
        .enumerate()
        .filter_map(|(i, node)| match node.op_type.as_str() {
            "DequantizeLinear" => search.dequantize_linear(i),
            "Mul" => search.arithmetic(i),
            _ => None,
        })
        .collect()
}

struct Search<'n, F> {
    nodes: &'n [NodeProto],
    producer: HashMap<&'n str, usize>,
    uses: HashMap<&'n str, usize>,
    constant: F,
}

impl<'a, 'n, F: Fn(&str) -> Option<Constant<'a>>> Search<'n, F> {
    fn dequantize_linear(&self, i: usize) -> Option<ConstantDequantize> {
        let node = &self.nodes[i];
        let all_constant = node.input.iter().all(|x| x.is_empty() || (self.constant)(x).is_some());
        if !(2..=3).contains(&node.input.len()) || node.output.len() != 1 || !all_constant {
            return None;
        }
        Some(ConstantDequantize {
            nodes: vec![i],
            quantized: node.input[0].clone(),
            scale: node.input[1].clone(),
            zero_point: node.input.get(2).filter(|z| !z.is_empty()).cloned(),
            axis: int_attribute(node, "axis").unwrap_or(1),
            output: node.output[0].clone(),
            form: Form::DequantizeLinear,
        })
    }

    /// `Mul(Sub(Cast(q), zero_point), scale)`, either order of `Mul`'s inputs.
    fn arithmetic(&self, mul: usize) -> Option<ConstantDequantize> {
        let node = &self.nodes[mul];
        if node.input.len() != 2 || node.output.len() != 1 {
            return None;
        }
        [(0, 1), (1, 0)].into_iter().find_map(|(a, b)| self.arithmetic_with(mul, &node.input[a], &node.input[b]))
    }

    fn arithmetic_with(&self, mul: usize, centred: &str, scale: &str) -> Option<ConstantDequantize> {
        let scale_fact = (self.constant)(scale).filter(|c| c.data_type == DataType::Float as i32)?;
        let sub = self.only_reader_of(centred, "Sub")?;
        let (cast_out, zero_point) = (&self.nodes[sub].input[0], &self.nodes[sub].input[1]);
        let zero_fact = (self.constant)(zero_point)?;
        let cast = self.only_reader_of(cast_out, "Cast")?;
        let cast_node = &self.nodes[cast];
        let quantized = cast_node.input.first()?;
        let q = (self.constant)(quantized)?;
        let integer = [DataType::Uint8 as i32, DataType::Int8 as i32].contains(&q.data_type);
        let to_float = int_attribute(cast_node, "to") == Some(DataType::Float as i64);
        if !integer || !to_float || zero_fact != scale_fact || q.dims.len() != 2 || cast_node.input.len() != 1 {
            return None;
        }
        let axis = match scale_fact.dims {
            [1, n] if *n == q.dims[1] => 1,
            [k, 1] if *k == q.dims[0] => 0,
            _ => return None,
        };
        Some(ConstantDequantize {
            nodes: vec![cast, sub, mul],
            quantized: quantized.clone(),
            scale: scale.to_string(),
            zero_point: Some(zero_point.clone()),
            axis,
            output: self.nodes[mul].output[0].clone(),
            form: Form::Arithmetic,
        })
    }

    /// The node of type `op` that writes `tensor`, when that tensor is read exactly once and
    /// the node has two inputs (`Sub`) or one (`Cast`) and one output.
    fn only_reader_of(&self, tensor: &str, op: &str) -> Option<usize> {
        let at = *self.producer.get(tensor)?;
        let node = &self.nodes[at];
        let inputs = if op == "Sub" { 2 } else { 1 };
        let fits = node.op_type == op && node.input.len() == inputs && node.output.len() == 1;
        (fits && self.uses.get(tensor) == Some(&1)).then_some(at)
    }
}

fn int_attribute(node: &NodeProto, name: &str) -> Option<i64> {
    node.attribute.iter().find(|a| a.name == name).map(|a| a.i)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn node(op: &str, inputs: &[&str], output: &str, attribute: Option<(&str, i64)>) -> NodeProto {
        NodeProto {
            op_type: op.into(),
            input: inputs.iter().map(|s| s.to_string()).collect(),
            output: vec![output.into()],
            attribute: attribute
                .map(|(name, i)| AttributeProto { name: name.into(), i, ..Default::default() })
                .into_iter()
                .collect(),
            ..Default::default()
        }
    }

    const Q: [i64; 2] = [3, 4];

    fn constants(name: &str) -> Option<Constant<'static>> {
        let (dims, data_type): (&'static [i64], DataType) = match name {
            "q" => (&Q, DataType::Uint8),
            "col_scale" | "col_zero" => (&[1, 4], DataType::Float),
            "row_scale" | "row_zero" => (&[3, 1], DataType::Float),
            "s" | "z" => (&[4], DataType::Float),
            _ => return None,
        };
        Some(Constant { dims, data_type: data_type as i32 })
    }

    fn arithmetic(scale: &str, zero: &str) -> Vec<NodeProto> {
        vec![
            node("Cast", &["q"], "qf", Some(("to", 1))),
            node("Sub", &["qf", zero], "centred", None),
            node("Mul", &["centred", scale], "w", None),
            node("MatMul", &["x", "w"], "y", None),
        ]
    }

    #[test]
    fn finds_both_forms() {
        let found = constant_dequantizers(&arithmetic("col_scale", "col_zero"), &[], constants);
        assert_eq!(found.len(), 1);
        assert_eq!((found[0].nodes.as_slice(), found[0].axis, found[0].form), (&[0, 1, 2][..], 1, Form::Arithmetic));
        assert_eq!((found[0].quantized.as_str(), found[0].output.as_str()), ("q", "w"));
        let found = constant_dequantizers(&arithmetic("row_scale", "row_zero"), &[], constants);
        assert_eq!(found[0].axis, 0);
        let dq = [node("DequantizeLinear", &["q", "s", "z"], "w", Some(("axis", 1)))];
        let found = constant_dequantizers(&dq, &[], constants);
        assert_eq!((found[0].form, found[0].zero_point.as_deref()), (Form::DequantizeLinear, Some("z")));
        assert_eq!(found[0].as_dequantize_linear().input, ["q", "s", "z"]);
    }

    #[test]
    fn leaves_lookalikes_alone() {
        let mut shared = arithmetic("col_scale", "col_zero");
        shared.push(node("Relu", &["centred"], "other", None));
        let mut wrong_type = arithmetic("col_scale", "col_zero");
        wrong_type[0].attribute[0].i = DataType::Double as i64;
        let cases = [
            arithmetic("row_scale", "col_zero"), // scale and zero point of different shapes
            arithmetic("col_scale", "x"),        // zero point not constant
            shared,                              // the centred codes are read twice
            wrong_type,                          // a cast to double
            vec![node("DequantizeLinear", &["q", "s", "x"], "w", None)],
        ];
        for (i, nodes) in cases.iter().enumerate() {
            assert!(constant_dequantizers(nodes, &[], constants).is_empty(), "case {i}");
        }
        assert!(constant_dequantizers(&arithmetic("col_scale", "col_zero"), &["qf"], constants).is_empty());
    }
}
