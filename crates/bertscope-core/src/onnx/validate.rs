//! Checks of attributes and tensors tract trusts, made before tract sees the file. tract panics on
//! some malformed values (a Transpose `perm` past the rank, a raw STRING tensor) and searches
//! without bound on others (a `perm` that repeats an axis grew to 8 GB in 20 s), and a panic in
//! wasm kills the engine. Each refusal names the node or tensor, in words.

use tract_onnx::pb::{tensor_proto::DataType, GraphProto, NodeProto, TensorProto};

/// The element types tract-onnx reads from a tensor's `raw_data` (any other panics there).
const RAW_TYPES: &[DataType] = &[
    DataType::Uint8,
    DataType::Uint16,
    DataType::Uint32,
    DataType::Uint64,
    DataType::Int8,
    DataType::Int16,
    DataType::Int32,
    DataType::Int64,
    DataType::Float16,
    DataType::Float,
    DataType::Double,
    DataType::Bool,
];

/// Ops whose input count tract does not check before reading them, with the count they take.
const FIXED_INPUTS: &[(&str, usize)] = &[("Transpose", 1), ("Flatten", 1)];

/// `Err` in words for the first node attribute or tensor tract could not be trusted with.
pub fn check_graph(graph: &GraphProto) -> Result<(), String> {
    for tensor in &graph.initializer {
        check_tensor(tensor, &format!("initializer \"{}\"", tensor.name))?;
    }
    for node in &graph.node {
        check_node(node)?;
    }
    Ok(())
}

fn check_node(node: &NodeProto) -> Result<(), String> {
    for attribute in &node.attribute {
        let tensors = attribute.t.iter().chain(&attribute.tensors);
        for tensor in tensors {
            check_tensor(tensor, &format!("tensor of its {} node \"{}\"", node.op_type, node.name))?;
        }
        for graph in attribute.g.iter().chain(&attribute.graphs) {
            check_graph(graph)?;
        }
    }
    if let Some(&(_, count)) = FIXED_INPUTS.iter().find(|(op, _)| *op == node.op_type) {
        let given = node.input.iter().filter(|i| !i.is_empty()).count();
        if node.input.len() != count || given != count {
            return Err(format!(
                "its {} node \"{}\" takes {count} input, it has {given}; the file is corrupt",
                node.op_type, node.name
            ));
        }
    }
    if node.op_type == "Transpose" {
        if let Some(perm) = node.attribute.iter().find(|a| a.name == "perm") {
            check_permutation(&perm.ints).map_err(|why| {
                format!("its Transpose node \"{}\" has perm {:?}, {why}; the file is corrupt", node.name, perm.ints)
            })?;
        }
    }
    Ok(())
}

/// `Err` unless `perm` holds each axis from 0 to its length − 1 once.
fn check_permutation(perm: &[i64]) -> Result<(), String> {
    let rank = perm.len();
    let mut seen = vec![false; rank];
    for &axis in perm {
        let Some(slot) = usize::try_from(axis).ok().and_then(|a| seen.get_mut(a)) else {
            return Err(format!("which names axis {axis} of a rank-{rank} tensor"));
        };
        if std::mem::replace(slot, true) {
            return Err(format!("which names axis {axis} twice"));
        }
    }
    Ok(())
}

/// `Err` for a tensor whose raw bytes tract cannot read as its element type.
fn check_tensor(tensor: &TensorProto, what: &str) -> Result<(), String> {
    if tensor.raw_data.is_empty() {
        return Ok(());
    }
    match DataType::try_from(tensor.data_type) {
        Ok(t) if RAW_TYPES.contains(&t) => Ok(()),
        Ok(t) => Err(format!("its {what} stores {} values as raw bytes, which cannot be read", t.as_str_name())),
        Err(_) => Err(format!("its {what} has the unknown element type {}", tensor.data_type)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn permutations_hold_each_axis_once() {
        assert_eq!(check_permutation(&[0, 2, 1, 3]), Ok(()));
        assert_eq!(check_permutation(&[]), Ok(()));
        assert_eq!(check_permutation(&[0, 2, 1, 7]).unwrap_err(), "which names axis 7 of a rank-4 tensor");
        assert_eq!(check_permutation(&[0, -1]).unwrap_err(), "which names axis -1 of a rank-2 tensor");
        assert_eq!(check_permutation(&[0, 2, 2, 3]).unwrap_err(), "which names axis 2 twice");
    }

    #[test]
    fn a_transpose_needs_its_one_input() {
        let transpose = |input: &[&str]| NodeProto {
            name: "t".into(),
            op_type: "Transpose".into(),
            input: input.iter().map(|s| s.to_string()).collect(),
            ..Default::default()
        };
        assert_eq!(check_node(&transpose(&["x"])), Ok(()));
        let e = check_node(&transpose(&[])).unwrap_err();
        assert_eq!(e, "its Transpose node \"t\" takes 1 input, it has 0; the file is corrupt");
        assert!(check_node(&transpose(&[""])).is_err());
        assert!(check_node(&transpose(&["x", "y"])).is_err());
    }

    #[test]
    fn raw_bytes_must_be_of_a_readable_type() {
        let tensor =
            |data_type: i32| TensorProto { name: "w".into(), data_type, raw_data: vec![0; 4], ..Default::default() };
        assert_eq!(check_tensor(&tensor(DataType::Float as i32), "initializer \"w\""), Ok(()));
        let e = check_tensor(&tensor(DataType::String as i32), "initializer \"w\"").unwrap_err();
        assert_eq!(e, "its initializer \"w\" stores STRING values as raw bytes, which cannot be read");
        assert!(check_tensor(&tensor(99), "x").unwrap_err().contains("unknown element type 99"));
        let strings =
            TensorProto { data_type: DataType::String as i32, string_data: vec![b"a".to_vec()], ..Default::default() };
        assert_eq!(check_tensor(&strings, "x"), Ok(()), "strings as string_data are read");
    }
}
