//! Looks embeddings up in their int8 form. A weight-only int8 export stores the word-embedding
//! table as `DequantizeLinear(int8 table, per-row scale, per-row zero point)` feeding a `Gather`;
//! folded to f32 it is the largest tensor of the model (47 MB for a 30522 × 384 vocabulary).
//! Gathering the int8 rows first and dequantizing only those computes the same numbers
//! (`(q - zero_point) * scale`, exact integers times the same scale) from a table a quarter the size.
//! The scales and zero points are looked up in `[rows, 1]` copies, so each gathered row comes with
//! its own as a column that broadcasts along the row: plain `Gather`, `Cast`, `Sub` and `Mul`,
//! the same at every opset (an `Unsqueeze` would change form at opset 13).

use std::collections::HashMap;

use tract_onnx::pb::TensorProto;
use tract_onnx::pb::{attribute_proto::AttributeType, tensor_proto::DataType, AttributeProto, GraphProto, NodeProto};

/// Rewrites `Gather(DequantizeLinear(table, scale, zero_point), ids)` into a gather of the int8
/// table followed by the dequantization of the gathered rows, where the table is constant, the
/// scale is per row (axis 0) and the dequantized table feeds nothing else. Returns how many.
pub fn gather_before_dequantize(graph: &mut GraphProto) -> usize {
    let constants: HashMap<&str, &TensorProto> = graph.initializer.iter().map(|t| (t.name.as_str(), t)).collect();
    let constant_dims: HashMap<String, Vec<i64>> =
        constants.iter().map(|(n, t)| (n.to_string(), t.dims.clone())).collect();
    let mut uses: HashMap<String, usize> = HashMap::new();
    for input in graph.node.iter().flat_map(|n| &n.input) {
        *uses.entry(input.clone()).or_default() += 1;
    }
    for output in &graph.output {
        *uses.entry(output.name.clone()).or_default() += 1;
    }
    let dequantizers: HashMap<String, NodeProto> = graph
        .node
        .iter()
        .filter(|n| n.op_type == "DequantizeLinear" && n.output.len() == 1)
        .map(|n| (n.output[0].clone(), n.clone()))
        .collect();

    let mut rewritten = Vec::new();
    let mut extra_initializers = Vec::new();
    let mut nodes = Vec::with_capacity(graph.node.len());
    for node in std::mem::take(&mut graph.node) {
        let Some(dequantize) = lookup_of_rows(&node, &dequantizers, &constant_dims, &uses) else {
            nodes.push(node);
            continue;
        };
        let out = &node.output[0];
        let name = |suffix: &str| format!("{out}__bertscope_{suffix}");
        let ids = node.input[1].clone();
        // `[rows]` → `[rows, 1]`: the same values as a column.
        let mut column = |source: &str, to: String| {
            let mut copy = (*constants[source]).clone();
            copy.name = to.clone();
            copy.dims.truncate(1);
            copy.dims.push(1);
            extra_initializers.push(copy);
            to
        };
        let scale = column(&dequantize.input[1], name("scale_table"));
        let zero_point = dequantize.input.get(2).filter(|z| !z.is_empty()).map(|z| column(z, name("zero_table")));
        let gather = |table: &str, to: String| simple("Gather", &[table, &ids], to);
        let mut steps = vec![
            gather(&dequantize.input[0], name("rows_q")),
            cast_to_f32(name("rows_q"), name("rows")),
            gather(&scale, name("scale_col")),
        ];
        if let Some(zero_point) = zero_point {
            steps.extend([
                gather(&zero_point, name("zero_q")),
                cast_to_f32(name("zero_q"), name("zero_col")),
                simple("Sub", &[&name("rows"), &name("zero_col")], name("centred")),
                simple("Mul", &[&name("centred"), &name("scale_col")], out.clone()),
            ]);
        } else {
            steps.push(simple("Mul", &[&name("rows"), &name("scale_col")], out.clone()));
        }
        rewritten.push(dequantize.output[0].clone());
        nodes.extend(steps);
    }
    // The rewritten tables' dequantizers now feed nothing.
    nodes.retain(|n| !(n.op_type == "DequantizeLinear" && n.output.first().is_some_and(|o| rewritten.contains(o))));
    graph.node = nodes;
    graph.initializer.extend(extra_initializers);
    rewritten.len()
}

/// The `DequantizeLinear` a `Gather` looks rows up in, when the rewrite applies to it.
fn lookup_of_rows<'a>(
    gather: &NodeProto,
    dequantizers: &'a HashMap<String, NodeProto>,
    constant_dims: &HashMap<String, Vec<i64>>,
    uses: &HashMap<String, usize>,
) -> Option<&'a NodeProto> {
    if gather.op_type != "Gather" || gather.input.len() != 2 || gather.output.len() != 1 || attr(gather, "axis", 0) != 0
    {
        return None;
    }
    let dequantize = dequantizers.get(&gather.input[0])?;
    let table = constant_dims.get(dequantize.input.first()?)?;
    let scale = constant_dims.get(dequantize.input.get(1)?)?;
    let zero_point_ok = match dequantize.input.get(2).filter(|z| !z.is_empty()) {
        Some(z) => constant_dims.get(z) == Some(scale),
        None => true,
    };
    let per_row = table.len() == 2
        && attr(dequantize, "axis", 1) == 0
        && (scale.as_slice() == [table[0]] || scale.as_slice() == [table[0], 1]);
    (per_row && zero_point_ok && uses.get(&gather.input[0]) == Some(&1)).then_some(dequantize)
}

fn attr(node: &NodeProto, name: &str, default: i64) -> i64 {
    node.attribute.iter().find(|a| a.name == name).map_or(default, |a| a.i)
}

fn simple(op: &str, inputs: &[&str], output: String) -> NodeProto {
    NodeProto {
        name: output.clone(),
        op_type: op.into(),
        input: inputs.iter().map(|s| s.to_string()).collect(),
        output: vec![output],
        ..Default::default()
    }
}

fn cast_to_f32(input: String, output: String) -> NodeProto {
    let mut node = simple("Cast", &[&input], output);
    node.attribute.push(AttributeProto {
        name: "to".into(),
        r#type: AttributeType::Int as i32,
        i: DataType::Float as i64,
        ..Default::default()
    });
    node
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tensor(name: &str, dims: &[i64], data_type: DataType) -> TensorProto {
        TensorProto { name: name.into(), dims: dims.to_vec(), data_type: data_type as i32, ..Default::default() }
    }

    /// `table` (3 × 2, uint8) dequantized with a scale and zero point of `scale_dims` along `axis`,
    /// then gathered by `ids`; `also_used` makes the dequantized table feed a second node.
    fn graph(scale_dims: &[i64], axis: i64, also_used: bool) -> GraphProto {
        let mut dequantize = simple("DequantizeLinear", &["table", "scale", "zero"], "table_f32".into());
        dequantize.attribute.push(AttributeProto { name: "axis".into(), i: axis, ..Default::default() });
        let mut node = vec![dequantize, simple("Gather", &["table_f32", "ids"], "embedded".into())];
        if also_used {
            node.push(simple("Identity", &["table_f32"], "copy".into()));
        }
        GraphProto {
            node,
            initializer: vec![
                tensor("table", &[3, 2], DataType::Uint8),
                tensor("scale", scale_dims, DataType::Float),
                tensor("zero", scale_dims, DataType::Uint8),
            ],
            ..Default::default()
        }
    }

    fn ops(graph: &GraphProto) -> Vec<&str> {
        graph.node.iter().map(|n| n.op_type.as_str()).collect()
    }

    #[test]
    fn per_row_tables_are_gathered_before_dequantizing() {
        let mut g = graph(&[3], 0, false);
        assert_eq!(gather_before_dequantize(&mut g), 1);
        assert_eq!(ops(&g), ["Gather", "Cast", "Gather", "Gather", "Cast", "Sub", "Mul"]);
        let gathered: Vec<&str> =
            g.node.iter().filter(|n| n.op_type == "Gather").map(|n| n.input[0].as_str()).collect();
        assert_eq!(
            gathered,
            ["table", "embedded__bertscope_scale_table", "embedded__bertscope_zero_table"],
            "rows, scales and zero points are looked up by the same ids"
        );
        let columns: Vec<(&str, &[i64])> =
            g.initializer[3..].iter().map(|t| (t.name.as_str(), t.dims.as_slice())).collect();
        assert_eq!(
            columns,
            [("embedded__bertscope_scale_table", &[3, 1][..]), ("embedded__bertscope_zero_table", &[3, 1][..])],
            "scales and zero points as [rows, 1] columns"
        );
        assert_eq!(g.node.last().unwrap().output, ["embedded"], "the graph's tensor names stay");
    }

    #[test]
    fn column_shaped_scales_of_the_pre_opset_13_form_are_gathered_too() {
        // `bertscope quantize` below opset 13 writes scales and zero points as `[rows, 1]`.
        let mut g = graph(&[3, 1], 0, false);
        assert_eq!(gather_before_dequantize(&mut g), 1);
        let dims: Vec<&[i64]> = g.initializer[3..].iter().map(|t| t.dims.as_slice()).collect();
        assert_eq!(dims, [&[3, 1][..], &[3, 1][..]], "already columns: kept as they are");
    }

    #[test]
    fn other_shapes_are_left_alone() {
        for (scale_dims, axis, also_used) in [(&[2][..], 1, false), (&[][..], 1, false), (&[3][..], 0, true)] {
            let mut g = graph(scale_dims, axis, also_used);
            let before = g.node.clone();
            assert_eq!(gather_before_dequantize(&mut g), 0, "{scale_dims:?} axis {axis} also used {also_used}");
            assert_eq!(g.node, before);
        }
    }
}
