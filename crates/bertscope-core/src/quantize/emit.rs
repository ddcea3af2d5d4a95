//! Encodes the graph fields the quantizer adds, in the form ONNX's own (proto2) serializer writes
//! them: shapes as one varint field per dimension, attributes with their value and type even when
//! the value is 0. For the same input, the tensors and nodes come out byte for byte as
//! `onnx.numpy_helper.from_array` and `onnx.helper.make_node` write them.

use tract_onnx::pb::{attribute_proto::AttributeType, tensor_proto::DataType};

use super::layout::{GRAPH_INITIALIZER, GRAPH_NODE};
use super::wire::{put_bytes_field, put_varint_field};

/// An initializer field of a graph: `TensorProto { dims, data_type, name, raw_data }`.
pub fn initializer(name: &str, dims: &[i64], data_type: DataType, raw_data: &[u8]) -> Vec<u8> {
    let mut tensor = Vec::with_capacity(raw_data.len() + name.len() + 8 * dims.len() + 16);
    for &d in dims {
        put_varint_field(&mut tensor, 1, d);
    }
    put_varint_field(&mut tensor, 2, data_type as i64);
    put_bytes_field(&mut tensor, 8, name.as_bytes());
    put_bytes_field(&mut tensor, 9, raw_data);
    let mut field = Vec::with_capacity(tensor.len() + 8);
    put_bytes_field(&mut field, GRAPH_INITIALIZER, &tensor);
    field
}

/// A node field of a graph with one output and at most one integer attribute.
pub fn node(op_type: &str, name: &str, inputs: &[&str], output: &str, attribute: Option<(&str, i64)>) -> Vec<u8> {
    let mut node = Vec::new();
    for input in inputs {
        put_bytes_field(&mut node, 1, input.as_bytes());
    }
    put_bytes_field(&mut node, 2, output.as_bytes());
    put_bytes_field(&mut node, 3, name.as_bytes());
    put_bytes_field(&mut node, 4, op_type.as_bytes());
    if let Some((attribute, value)) = attribute {
        let mut encoded = Vec::new();
        put_bytes_field(&mut encoded, 1, attribute.as_bytes());
        put_varint_field(&mut encoded, 3, value);
        put_varint_field(&mut encoded, 20, AttributeType::Int as i64);
        put_bytes_field(&mut node, 5, &encoded);
    }
    let mut field = Vec::new();
    put_bytes_field(&mut field, GRAPH_NODE, &node);
    field
}

/// Little-endian bytes of f32 values (ONNX `raw_data`).
pub fn f32_bytes(values: &[f32]) -> Vec<u8> {
    values.iter().flat_map(|v| v.to_le_bytes()).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn matches_what_onnx_writes() {
        // The `DequantizeLinear` of MiniLM's word embeddings in `model_weights_int8.onnx` (made
        // with onnx.helper.make_node), with shorter names.
        let got =
            node("DequantizeLinear", "w_DequantizeLinear", &["w_quantized", "w_scale", "w_zp"], "w", Some(("axis", 0)));
        let mut want = vec![0x0a, 82];
        want.extend(b"\x0a\x0bw_quantized\x0a\x07w_scale\x0a\x04w_zp\x12\x01w\x1a\x12w_DequantizeLinear");
        want.extend(b"\x22\x10DequantizeLinear\x2a\x0b\x0a\x04axis\x18\x00\xa0\x01\x02");
        assert_eq!(got, want);
        // A [30522, 384] uint8 tensor's header, as in the same file: one varint per dimension.
        let got = initializer("t", &[30522, 384], DataType::Uint8, &[7]);
        assert_eq!(got, b"\x2a\x0f\x08\xba\xee\x01\x08\x80\x03\x10\x02\x42\x01t\x4a\x01\x07");
    }
}
