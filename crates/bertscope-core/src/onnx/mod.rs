//! The ONNX-file stage: the protobuf as read from the file, rewritten into a form tract types,
//! runs fast and cannot be crashed by, and the model's anatomy read from its nodes. Nothing here
//! builds a tract graph: [`crate::model`] hands the result to tract, whose operators live in
//! [`crate::ops`].

pub(crate) mod anatomy;
pub(crate) mod dequantize_pattern;
mod flatten_to_reshape;
pub(crate) mod fold_dequantize;
pub(crate) mod gather_bounds;
pub(crate) mod inputs;
mod int8_embedding;
pub(crate) mod int8_products;
pub(crate) mod mixing;
mod validate;

use prost::Message;
use tract_onnx::pb::ModelProto;

use crate::error::{root_cause, Error, Result};
use anatomy::Anatomy;
use fold_dequantize::Granularity;
use inputs::{Input, Role};

/// An ONNX model read and rewritten, with what the engine needs to know about it.
pub(crate) struct OnnxFile {
    /// The rewritten protobuf, ready for tract to parse.
    pub proto: ModelProto,
    /// The graph inputs, in order.
    pub inputs: Vec<Input>,
    /// Where attention, hidden states and logits are.
    pub anatomy: Anatomy,
    /// How the weights are stored, in words.
    pub quantization: String,
    /// What the context-mixing measures need, or why it could not be found.
    pub mixing: std::result::Result<mixing::MixingAnatomy, String>,
}

/// Reads `bytes` as ONNX, checks it is a BERT-family encoder and applies every rewrite. Owned
/// bytes (a `Vec<u8>`) are freed as soon as they are decoded, before any rewrite. With
/// `int8_products` (bertscope's own kernels run the products), weight-only int8 products keep
/// their codes ([`int8_products`]) instead of being folded to f32.
pub(crate) fn read(bytes: impl AsRef<[u8]>, int8_products: bool) -> Result<OnnxFile> {
    if bytes.as_ref().is_empty() {
        return Err(Error::EmptyModel);
    }
    // Decoded in place: tract's `proto_model_for_read` would first copy the whole file.
    let decoded = crate::timing::phase("decode the file", || ModelProto::decode(bytes.as_ref()));
    drop(bytes);
    let proto = decoded.map_err(|e| Error::NotOnnx(e.to_string()))?;
    crate::timing::phase("rewrite the file", || rewrite(proto, int8_products))
}

/// Checks and rewrites a decoded file (see [`read`]).
fn rewrite(mut proto: ModelProto, int8_products: bool) -> Result<OnnxFile> {
    let graph = proto.graph.as_mut().ok_or_else(|| Error::NotOnnx("it contains no graph".into()))?;
    if graph.node.is_empty() {
        return Err(Error::NotOnnx("its graph has no nodes".into()));
    }
    validate::check_graph(graph).map_err(Error::Prepare)?;
    let inputs = inputs::input_roles(graph)?;
    flatten_to_reshape::flatten_to_reshape(graph);
    fold_dequantize::arithmetic_as_dequantize_linear(graph);
    int8_embedding::gather_before_dequantize(graph);
    let (kept, kept_granularity) = if int8_products { int8_products::rewrite(graph) } else { (0, None) };
    let (folded, granularity) =
        fold_dequantize::fold_constant_dequantize(graph).map_err(|e| Error::Prepare(root_cause(&e)))?;
    let (folded, granularity) = (folded + kept, granularity.max(kept_granularity));
    gather_bounds::check_gather_indices(graph).map_err(Error::Prepare)?;
    let ids_name = graph.input.iter().map(|i| i.name.clone()).zip(&inputs).find(|(_, r)| r.0 == Role::InputIds);
    let ids_name = ids_name.map(|(n, _)| n).unwrap_or_default();
    let anatomy = anatomy::anatomy(graph, &ids_name).map_err(Error::NotBert)?;
    let quantization = match (anatomy.dynamic_int8, folded, granularity) {
        (Some(kind), _, _) => format!("dynamic int8 ({kind})"),
        (None, n, Some(Granularity::PerChannel)) if n > 0 => "weight-only int8 (per-channel)".to_string(),
        (None, n, Some(Granularity::PerTensor)) if n > 0 => "weight-only int8 (per-tensor)".to_string(),
        _ => "fp32".to_string(),
    };
    let layers = anatomy.attention.len();
    let mixing = mixing::find(graph, &anatomy.attention, &anatomy.hidden[..layers]);
    Ok(OnnxFile { proto, inputs, anatomy, quantization, mixing })
}

/// Refuses a graph that is not a BERT-family encoder, with the loader's own checks: its inputs,
/// and attention Softmax nodes fed by projections of hidden states.
pub(crate) fn check_bert_graph(graph: &tract_onnx::pb::GraphProto) -> Result<()> {
    let roles = inputs::input_roles(graph)?;
    let initializers: std::collections::HashSet<&str> = graph.initializer.iter().map(|t| t.name.as_str()).collect();
    let inputs = graph.input.iter().filter(|i| !initializers.contains(i.name.as_str()));
    let ids = inputs.zip(&roles).find(|(_, (role, _))| *role == Role::InputIds).map(|(i, _)| i.name.as_str());
    anatomy::anatomy(graph, ids.unwrap_or_default()).map(drop).map_err(Error::NotBert)
}
