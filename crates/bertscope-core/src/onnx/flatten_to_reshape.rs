//! Rewrites of graph patterns tract cannot type with a symbolic batch *and* sequence length.

use std::collections::HashMap;

use tract_onnx::pb::{tensor_proto::DataType, type_proto::Value, GraphProto, TensorProto};

/// `Flatten` becomes a `Reshape` to the same shape: tract's Flatten refuses inputs with more
/// than one symbolic dimension, and exports made with transformers 5.x flatten the
/// `[batch, seq]` attention mask. Only rewrites where the input's rank is known.
pub fn flatten_to_reshape(graph: &mut GraphProto) -> usize {
    let ranks = known_ranks(graph);
    let mut shapes = Vec::new();
    for node in graph.node.iter_mut().filter(|n| n.op_type == "Flatten" && n.input.len() == 1) {
        let Some(&rank) = ranks.get(&node.input[0]) else { continue };
        let axis = node.attribute.iter().find(|a| a.name == "axis").map_or(1, |a| a.i);
        let axis = if axis < 0 { axis + rank } else { axis };
        // Reshape's 0 copies the input's dimension at the same index, -1 takes the rest.
        let target: [i64; 2] = match axis {
            0 => [1, -1],
            1 => [0, -1],
            a if a == rank => [-1, 1],
            _ => continue,
        };
        let Some(output) = node.output.first() else { continue };
        let shape_name = format!("{output}__bertscope_shape");
        shapes.push(TensorProto {
            name: shape_name.clone(),
            dims: vec![2],
            data_type: DataType::Int64 as i32,
            int64_data: target.to_vec(),
            ..Default::default()
        });
        node.op_type = "Reshape".into();
        node.attribute.clear();
        node.input.push(shape_name);
    }
    let rewritten = shapes.len();
    graph.initializer.extend(shapes);
    rewritten
}

/// Ranks of graph inputs, carried through rank-preserving unary nodes.
fn known_ranks(graph: &GraphProto) -> HashMap<String, i64> {
    let mut ranks: HashMap<String, i64> = graph
        .input
        .iter()
        .filter_map(|i| {
            let Value::TensorType(t) = i.r#type.as_ref()?.value.as_ref()?;
            Some((i.name.clone(), t.shape.as_ref()?.dim.len() as i64))
        })
        .collect();
    for node in &graph.node {
        if matches!(node.op_type.as_str(), "Cast" | "Identity" | "Not" | "Neg") {
            if let (Some(input), Some(output)) = (node.input.first(), node.output.first()) {
                if let Some(&r) = ranks.get(input) {
                    ranks.insert(output.clone(), r);
                }
            }
        }
    }
    ranks
}
