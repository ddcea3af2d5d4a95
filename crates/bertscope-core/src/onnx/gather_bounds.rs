//! Checks that constant indices fit the constant tables they index. tract's `Gather` trusts its
//! indices (one past the table panics, and a panic in wasm kills the engine), so a corrupt file,
//! such as a flipped byte in a `position_ids` constant, must be refused before it runs.

use std::collections::{HashMap, HashSet};

use tract_onnx::pb::{tensor_proto::DataType, GraphProto, NodeProto, TensorProto};

/// Ops whose output holds only values taken unchanged from their first input.
const CARRY_FIRST_INPUT: &[&str] =
    &["Slice", "Reshape", "Unsqueeze", "Squeeze", "Expand", "Identity", "Flatten", "Transpose", "Tile", "Gather"];

/// `Err` names the first `Gather` whose constant indices reach past its constant table.
pub fn check_gather_indices(graph: &GraphProto) -> Result<(), String> {
    let constants = constants(graph);
    let producers: HashMap<&str, &NodeProto> =
        graph.node.iter().flat_map(|n| n.output.iter().map(move |o| (o.as_str(), n))).collect();
    for node in graph.node.iter().filter(|n| n.op_type == "Gather" && n.input.len() == 2) {
        let Some(table) = constants.get(node.input[0].as_str()) else { continue };
        let axis = node.attribute.iter().find(|a| a.name == "axis").map_or(0, |a| a.i);
        let rank = table.dims.len() as i64;
        let axis = if axis < 0 { axis + rank } else { axis };
        let Some(&rows) = usize::try_from(axis).ok().and_then(|a| table.dims.get(a)) else { continue };
        for source in constant_sources(&node.input[1], &constants, &producers) {
            check_entries(&node.name, &int_values(source), rows)?;
        }
    }
    Ok(())
}

/// `Err` in words unless every index fits a table of `entries` entries (negative ones count
/// from the end); `gather` names the node.
pub(crate) fn check_entries(gather: &str, indices: &[i64], entries: i64) -> Result<(), String> {
    match indices.iter().find(|&&i| i < -entries || i >= entries) {
        Some(bad) => Err(format!(
            "its Gather node \"{gather}\" reads entry {bad} of a table with {entries} entries; the file is corrupt"
        )),
        None => Ok(()),
    }
}

/// Initializers and `Constant` node values, by tensor name.
fn constants(graph: &GraphProto) -> HashMap<&str, &TensorProto> {
    let mut constants: HashMap<&str, &TensorProto> = graph.initializer.iter().map(|t| (t.name.as_str(), t)).collect();
    for node in graph.node.iter().filter(|n| n.op_type == "Constant") {
        let value = node.attribute.iter().find(|a| a.name == "value").and_then(|a| a.t.as_ref());
        if let (Some(value), Some(output)) = (value, node.output.first()) {
            constants.insert(output.as_str(), value);
        }
    }
    constants
}

/// The constant tensors whose values reach `name` unchanged (through slicing, reshaping,
/// concatenation); empty when the values are computed or come from a graph input.
fn constant_sources<'a>(
    name: &'a str,
    constants: &HashMap<&'a str, &'a TensorProto>,
    producers: &HashMap<&'a str, &'a NodeProto>,
) -> Vec<&'a TensorProto> {
    let mut sources = Vec::new();
    let mut pending = vec![name];
    let mut seen = HashSet::new();
    while let Some(name) = pending.pop() {
        if !seen.insert(name) {
            continue;
        }
        if let Some(tensor) = constants.get(name) {
            sources.push(*tensor);
            continue;
        }
        let Some(node) = producers.get(name) else { continue };
        match node.op_type.as_str() {
            "Concat" => pending.extend(node.input.iter().map(String::as_str)),
            op if CARRY_FIRST_INPUT.contains(&op) => pending.extend(node.input.first().map(String::as_str)),
            _ => {}
        }
    }
    sources
}

/// The values of an int32 or int64 tensor; empty for any other type.
fn int_values(tensor: &TensorProto) -> Vec<i64> {
    let raw = &tensor.raw_data;
    match DataType::try_from(tensor.data_type) {
        Ok(DataType::Int64) if raw.is_empty() => tensor.int64_data.clone(),
        Ok(DataType::Int64) => {
            raw.chunks_exact(8).map(|b| i64::from_le_bytes(b.try_into().unwrap_or_default())).collect()
        }
        Ok(DataType::Int32) if raw.is_empty() => tensor.int32_data.iter().map(|&v| i64::from(v)).collect(),
        Ok(DataType::Int32) => {
            raw.chunks_exact(4).map(|b| i64::from(i32::from_le_bytes(b.try_into().unwrap_or_default()))).collect()
        }
        _ => Vec::new(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use tract_onnx::pb::AttributeProto;

    fn int64(name: &str, dims: &[i64], values: &[i64]) -> TensorProto {
        TensorProto {
            name: name.into(),
            dims: dims.to_vec(),
            data_type: DataType::Int64 as i32,
            raw_data: values.iter().flat_map(|v| v.to_le_bytes()).collect(),
            ..Default::default()
        }
    }

    fn node(op: &str, inputs: &[&str], output: &str) -> NodeProto {
        NodeProto {
            name: format!("{op}_{output}"),
            op_type: op.into(),
            input: inputs.iter().map(|s| s.to_string()).collect(),
            output: vec![output.into()],
            ..Default::default()
        }
    }

    /// position_ids (a Constant) -> Slice -> Gather from a 4-row table, as DistilBERT exports do.
    fn graph(positions: &[i64]) -> GraphProto {
        let mut constant = node("Constant", &[], "position_ids");
        constant.attribute.push(AttributeProto {
            name: "value".into(),
            t: Some(int64("", &[1, positions.len() as i64], positions)),
            ..Default::default()
        });
        GraphProto {
            node: vec![
                constant,
                node("Slice", &["position_ids", "starts", "ends"], "sliced"),
                node("Gather", &["table", "sliced"], "embedded"),
                node("Gather", &["table", "input_ids"], "words"),
            ],
            initializer: vec![
                TensorProto {
                    name: "table".into(),
                    dims: vec![4, 2],
                    data_type: DataType::Float as i32,
                    ..Default::default()
                },
                int64("starts", &[1], &[0]),
                int64("ends", &[1], &[9]),
            ],
            ..Default::default()
        }
    }

    #[test]
    fn indices_inside_the_table_pass() {
        assert_eq!(check_gather_indices(&graph(&[0, 1, 2, 3])), Ok(()));
        assert_eq!(check_gather_indices(&graph(&[-4, -1])), Ok(()), "negative indices count from the end");
    }

    #[test]
    fn an_index_past_the_table_is_refused_in_words() {
        let e = check_gather_indices(&graph(&[0, 1, 0x0a00_0000_0000_0005, 3])).unwrap_err();
        assert!(e.contains("reads entry 720575940379279365 of a table with 4 entries"), "{e}");
        assert!(check_gather_indices(&graph(&[0, -5])).is_err());
    }

    #[test]
    fn int32_and_int64_storage_forms_are_read() {
        let t = TensorProto { data_type: DataType::Int32 as i32, int32_data: vec![-1, 7], ..Default::default() };
        assert_eq!(int_values(&t), [-1, 7]);
        let t = TensorProto { data_type: DataType::Int64 as i32, int64_data: vec![9], ..Default::default() };
        assert_eq!(int_values(&t), [9]);
        let t = TensorProto { data_type: DataType::Float as i32, raw_data: vec![0; 8], ..Default::default() };
        assert!(int_values(&t).is_empty());
    }
}
