//! Inputs shared by the quantizer's tests: the fp32 MiniLM folded back from the shared int8 file,
//! a tiny DistilBERT rewritten for opset 12, and ONNX surgery for the refusal cases.
#![allow(dead_code)]

use std::path::PathBuf;
use std::sync::OnceLock;

use bertscope_core::quantize::{dequantize, quantize, Quantized};
use prost::Message;
use tract_onnx::pb::{attribute_proto::AttributeType, AttributeProto, ModelProto, NodeProto, TensorProto};

use crate::common::read;

/// The fp32 MiniLM: `minilm-l6/model_weights_int8.onnx` with its weights folded back to f32
/// (an fp32 file whose weights are exactly representable in the int8 scheme). Made once.
pub fn minilm_fp32() -> &'static [u8] {
    static FP32: OnceLock<Vec<u8>> = OnceLock::new();
    FP32.get_or_init(|| {
        let folded = dequantize(&read("minilm-l6/model_weights_int8.onnx")).expect("the shared int8 MiniLM folds");
        assert_eq!(folded.tensors, 38, "36 MatMul weights and 2 embedding tables are DequantizeLinear");
        folded.bytes
    })
}

/// [`minilm_fp32`] quantized again. Made once.
pub fn minilm_requantized() -> &'static Quantized {
    static QUANTIZED: OnceLock<Quantized> = OnceLock::new();
    QUANTIZED.get_or_init(|| quantize(minilm_fp32(), |_, _| {}).expect("the fp32 MiniLM quantizes"))
}

/// A shared fp32 file, quantized.
pub fn quantized(relative: &str) -> Quantized {
    quantize(&read(relative), |_, _| {}).unwrap_or_else(|e| panic!("{relative}: {e}"))
}

/// `bytes` quantized.
pub fn quantized_bytes(bytes: &[u8]) -> Vec<u8> {
    quantize(bytes, |_, _| {}).expect("quantizes").bytes
}

pub fn decode(bytes: &[u8]) -> ModelProto {
    ModelProto::decode(bytes).expect("an ONNX model")
}

pub fn encode(model: &ModelProto) -> Vec<u8> {
    model.encode_to_vec()
}

/// The initializers of a model by name.
pub fn initializers(model: &ModelProto) -> std::collections::HashMap<String, TensorProto> {
    model.graph.as_ref().unwrap().initializer.iter().map(|t| (t.name.clone(), t.clone())).collect()
}

/// `bytes` declared as opset 12: each `Unsqueeze`'s axes move from its second input (a
/// `Constant`) to the `axes` attribute, their form before opset 13, and Reshape loses its
/// `allowzero = 0` (opset 14). The other ops of the tiny DistilBERT export mean the same at 12
/// (its Softmax runs over the last axis); onnx.checker accepts the result (tests/onnxruntime.rs).
pub fn at_opset_12(bytes: &[u8]) -> Vec<u8> {
    let mut model = decode(bytes);
    let graph = model.graph.as_mut().unwrap();
    let constants: std::collections::HashMap<String, Vec<i64>> = graph
        .node
        .iter()
        .filter(|n| n.op_type == "Constant")
        .map(|n| (n.output[0].clone(), int64_values(n.attribute[0].t.as_ref().unwrap())))
        .collect();
    for node in graph.node.iter_mut().filter(|n| n.op_type == "Unsqueeze" && n.input.len() == 2) {
        let axes = constants[&node.input[1]].clone();
        node.input.truncate(1);
        node.attribute.push(AttributeProto {
            name: "axes".into(),
            r#type: AttributeType::Ints as i32,
            ints: axes,
            ..Default::default()
        });
    }
    // Reshape's allowzero came with opset 14; 0, its default, is what older Reshapes do.
    for node in graph.node.iter_mut().filter(|n| n.op_type == "Reshape") {
        assert!(node.attribute.iter().all(|a| a.name == "allowzero" && a.i == 0), "{node:?}");
        node.attribute.clear();
    }
    model.opset_import.iter_mut().for_each(|o| o.version = 12);
    encode(&model)
}

fn int64_values(t: &TensorProto) -> Vec<i64> {
    if t.raw_data.is_empty() {
        t.int64_data.clone()
    } else {
        t.raw_data.chunks_exact(8).map(|b| i64::from_le_bytes(b.try_into().unwrap())).collect()
    }
}

/// `bytes` with one more node of type `op` (reading the first graph input), for refusal tests.
pub fn with_extra_node(bytes: &[u8], op: &str) -> Vec<u8> {
    let mut model = decode(bytes);
    let graph = model.graph.as_mut().unwrap();
    let input = graph.input[0].name.clone();
    graph.node.push(NodeProto {
        op_type: op.into(),
        input: vec![input, "scale".into()],
        output: vec!["extra".into()],
        ..Default::default()
    });
    encode(&model)
}

/// A folder for files the tests write, removed by nothing (the OS cleans /tmp).
pub fn scratch_dir() -> PathBuf {
    let dir = std::env::temp_dir().join(format!("bertscope-quantize-tests-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    dir
}
