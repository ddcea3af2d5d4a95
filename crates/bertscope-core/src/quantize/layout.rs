//! An ONNX file read field by field: the graph's nodes, inputs and outputs decoded, its
//! initializers known by name, shape and type with their data left in place, and every byte
//! range kept so that what is not changed can be written back exactly.

use std::borrow::Cow;

use prost::Message;
use tract_onnx::pb::{
    tensor_proto::DataLocation, GraphProto, NodeProto, OperatorSetIdProto, TensorProto, ValueInfoProto,
};

use super::wire::{self, Field, Value};
use crate::error::{Error, Result};

/// `ModelProto.graph`.
pub const MODEL_GRAPH: u64 = 7;
const MODEL_OPSET_IMPORT: u64 = 8;
/// `GraphProto.node`.
pub const GRAPH_NODE: u64 = 1;
/// `GraphProto.initializer`.
pub const GRAPH_INITIALIZER: u64 = 5;
const GRAPH_INPUT: u64 = 11;
const GRAPH_OUTPUT: u64 = 12;

/// A model file, split into fields.
pub struct OnnxFile<'a> {
    /// The top-level fields of `ModelProto`, in file order.
    pub top: Vec<Field<'a>>,
    /// The fields of its graph, in file order.
    pub graph: Vec<GraphItem<'a>>,
    /// The graph's nodes, decoded, in graph order.
    pub nodes: Vec<NodeProto>,
    /// The version of the default (`ai.onnx`) operator set, if the file imports it.
    pub opset: Option<i64>,
}

/// One field of the graph.
pub enum GraphItem<'a> {
    /// A node: its index in [`OnnxFile::nodes`].
    Node(usize, &'a [u8]),
    /// An initializer, its data left in the file.
    Initializer(Initializer<'a>, &'a [u8]),
    /// A graph input.
    Input(ValueInfoProto, &'a [u8]),
    /// A graph output.
    Output(ValueInfoProto, &'a [u8]),
    /// Anything else (name, doc string, value_info, ...): copied as it is.
    Other(&'a [u8]),
}

impl GraphItem<'_> {
    /// The bytes this item was read from, key included.
    pub fn raw(&self) -> &[u8] {
        match self {
            Self::Node(_, raw) | Self::Initializer(_, raw) | Self::Input(_, raw) | Self::Output(_, raw) => raw,
            Self::Other(raw) => raw,
        }
    }
}

/// What is known of an initializer without copying its data.
#[derive(Debug, Clone)]
pub struct Initializer<'a> {
    /// Its name.
    pub name: String,
    /// Its shape.
    pub dims: Vec<i64>,
    /// ONNX element type.
    pub data_type: i32,
    /// `raw_data`, when the values are stored there.
    pub raw_data: Option<&'a [u8]>,
    /// Whether the values live in an external file.
    pub external: bool,
    /// The encoded `TensorProto` (without the key), to decode fully when needed.
    pub message: &'a [u8],
}

impl Initializer<'_> {
    /// Number of values (0 for a negative dimension).
    pub fn len(&self) -> usize {
        self.dims.iter().map(|&d| usize::try_from(d).unwrap_or(0)).product()
    }

    /// Decodes the whole tensor, data included.
    pub fn decode(&self) -> Result<TensorProto> {
        TensorProto::decode(self.message).map_err(|e| not_onnx(&format!("initializer {}: {e}", self.name)))
    }
}

impl<'a> OnnxFile<'a> {
    /// Splits `bytes`; refuses what is not an ONNX model.
    pub fn read(bytes: &'a [u8]) -> Result<Self> {
        if bytes.is_empty() {
            return Err(Error::EmptyModel);
        }
        let top = wire::fields(bytes).map_err(|e| not_onnx(&e))?;
        let mut graphs = top.iter().filter(|f| f.number == MODEL_GRAPH);
        let graph = match (graphs.next(), graphs.next()) {
            (Some(Field { value: Value::Bytes(graph), .. }), None) => graph,
            (None, _) => return Err(Error::NotOnnx("it contains no graph".into())),
            _ => return Err(not_onnx("its graph field is malformed")),
        };
        let mut opset = None;
        for field in top.iter().filter(|f| f.number == MODEL_OPSET_IMPORT) {
            let Value::Bytes(message) = field.value else { return Err(not_onnx("its opset_import is malformed")) };
            let import = OperatorSetIdProto::decode(message).map_err(|e| not_onnx(&format!("opset_import: {e}")))?;
            if import.domain.is_empty() || import.domain == "ai.onnx" {
                opset = Some(opset.unwrap_or(0).max(import.version));
            }
        }
        let graph = wire::fields(graph).map_err(|e| not_onnx(&format!("graph: {e}")))?;
        let mut nodes = Vec::new();
        let graph = graph.into_iter().map(|field| graph_item(field, &mut nodes)).collect::<Result<Vec<_>>>()?;
        if nodes.is_empty() {
            return Err(Error::NotOnnx("its graph has no nodes".into()));
        }
        Ok(Self { top, graph, nodes, opset })
    }

    /// The initializers, in file order.
    pub fn initializers(&self) -> impl Iterator<Item = &Initializer<'a>> {
        self.graph.iter().filter_map(|item| match item {
            GraphItem::Initializer(init, _) => Some(init),
            _ => None,
        })
    }

    /// Names of the graph outputs.
    pub fn output_names(&self) -> Vec<&str> {
        self.graph
            .iter()
            .filter_map(|item| match item {
                GraphItem::Output(output, _) => Some(output.name.as_str()),
                _ => None,
            })
            .collect()
    }

    /// The graph without initializer data: nodes, inputs, outputs, and initializers with their
    /// names, shapes and types (what the loader's structural checks read).
    pub fn skeleton(&self) -> GraphProto {
        let mut graph = GraphProto { node: self.nodes.clone(), ..Default::default() };
        for item in &self.graph {
            match item {
                GraphItem::Node(..) => {}
                GraphItem::Input(input, _) => graph.input.push(input.clone()),
                GraphItem::Output(output, _) => graph.output.push(output.clone()),
                GraphItem::Initializer(init, _) => graph.initializer.push(TensorProto {
                    name: init.name.clone(),
                    dims: init.dims.clone(),
                    data_type: init.data_type,
                    ..Default::default()
                }),
                GraphItem::Other(_) => {}
            }
        }
        graph
    }

    /// The whole file again, with the graph's fields replaced by `graph` (encoded fields, keys
    /// included, in order); every other top-level field exactly as read. Writes into one buffer
    /// of the final size.
    pub fn write_with_graph(&self, graph: &[Cow<[u8]>]) -> Vec<u8> {
        let graph_len: usize = graph.iter().map(|piece| piece.len()).sum();
        let rest: usize = self.top.iter().filter(|f| f.number != MODEL_GRAPH).map(|f| f.raw.len()).sum();
        let mut out = Vec::with_capacity(rest + graph_len + 16);
        for field in &self.top {
            if field.number == MODEL_GRAPH {
                wire::put_varint(&mut out, MODEL_GRAPH << 3 | u64::from(wire::LEN));
                wire::put_varint(&mut out, graph_len as u64);
                graph.iter().for_each(|piece| out.extend_from_slice(piece));
            } else {
                out.extend_from_slice(field.raw);
            }
        }
        out
    }
}

fn graph_item<'a>(field: Field<'a>, nodes: &mut Vec<NodeProto>) -> Result<GraphItem<'a>> {
    let message = match field.value {
        Value::Bytes(message) => message,
        _ if [GRAPH_NODE, GRAPH_INITIALIZER, GRAPH_INPUT, GRAPH_OUTPUT].contains(&field.number) => {
            return Err(not_onnx(&format!("graph field {} is malformed", field.number)))
        }
        _ => return Ok(GraphItem::Other(field.raw)),
    };
    let decode_error = |what: &str, e: prost::DecodeError| not_onnx(&format!("a graph {what}: {e}"));
    Ok(match field.number {
        GRAPH_NODE => {
            nodes.push(NodeProto::decode(message).map_err(|e| decode_error("node", e))?);
            GraphItem::Node(nodes.len() - 1, field.raw)
        }
        GRAPH_INPUT => {
            GraphItem::Input(ValueInfoProto::decode(message).map_err(|e| decode_error("input", e))?, field.raw)
        }
        GRAPH_OUTPUT => {
            GraphItem::Output(ValueInfoProto::decode(message).map_err(|e| decode_error("output", e))?, field.raw)
        }
        GRAPH_INITIALIZER => GraphItem::Initializer(initializer(message)?, field.raw),
        _ => GraphItem::Other(field.raw),
    })
}

/// Reads an initializer's name, shape, type and where its data is, without copying the data.
fn initializer(message: &[u8]) -> Result<Initializer<'_>> {
    let mut init =
        Initializer { name: String::new(), dims: vec![], data_type: 0, raw_data: None, external: false, message };
    let broken = |e: String| not_onnx(&format!("an initializer: {e}"));
    for field in wire::fields(message).map_err(broken)? {
        match (field.number, field.value) {
            (1, Value::Varint(d)) => init.dims.push(d as i64),
            (1, Value::Bytes(packed)) => {
                let mut at = 0;
                while at < packed.len() {
                    init.dims.push(wire::varint(packed, &mut at).map_err(broken)? as i64);
                }
            }
            (2, Value::Varint(t)) => init.data_type = t as i32,
            (8, Value::Bytes(name)) => {
                init.name = String::from_utf8(name.to_vec()).map_err(|_| broken("a name that is not UTF-8".into()))?
            }
            (9, Value::Bytes(raw)) => init.raw_data = Some(raw),
            (14, Value::Varint(location)) => init.external = location == DataLocation::External as u64,
            _ => {}
        }
    }
    Ok(init)
}

fn not_onnx(what: &str) -> Error {
    Error::NotOnnx(format!("its protobuf encoding is broken: {what}"))
}
