//! Reads the shape of a BERT-family ONNX graph from its nodes alone: where attention is
//! computed, which tensor enters each layer, how large the embedding tables are.

use std::collections::{HashMap, HashSet, VecDeque};

use tract_onnx::pb::{GraphProto, NodeProto};

/// What the engine needs to know about a graph, by tensor name.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Anatomy {
    /// The attention Softmax outputs, one per layer, in layer order.
    pub attention: Vec<String>,
    /// Hidden states: the embeddings, then each layer's output (`attention.len() + 1` names).
    pub hidden: Vec<String>,
    /// The graph's `logits` output, for masked-language-model exports.
    pub logits: Option<String>,
    /// Rows of the word-embedding table (the model's vocabulary size), when found.
    pub vocab_rows: Option<usize>,
    /// Rows of the position-embedding table (the longest input), when found.
    pub max_positions: Option<usize>,
    /// `Some("QUInt8" | "QInt8")` when weights are multiplied as integers (`MatMulInteger`), by the weight type.
    pub dynamic_int8: Option<&'static str>,
}

/// Nodes through which token ids reach the word-embedding `Gather` unchanged in value.
const ID_CARRIERS: &[&str] = &["Cast", "Identity", "Reshape", "Squeeze", "Unsqueeze", "Flatten"];

/// Nodes through which an embedding table reaches its `Gather` with its rows unchanged.
const TABLE_CARRIERS: &[&str] = &["Cast", "Identity"];

/// Index of a graph: who produces each tensor and which tensors are constant.
struct Index<'a> {
    graph: &'a GraphProto,
    producer: HashMap<&'a str, usize>,
    constant: HashSet<&'a str>,
}

impl<'a> Index<'a> {
    fn new(graph: &'a GraphProto) -> Self {
        let mut producer = HashMap::new();
        let mut constant: HashSet<&str> = graph.initializer.iter().map(|t| t.name.as_str()).collect();
        for (i, node) in graph.node.iter().enumerate() {
            for out in &node.output {
                producer.insert(out.as_str(), i);
                if node.op_type == "Constant" {
                    constant.insert(out.as_str());
                }
            }
        }
        Self { graph, producer, constant }
    }

    fn node(&self, i: usize) -> &'a NodeProto {
        &self.graph.node[i]
    }

    /// For a product with a constant weight, the activation it multiplies (looking through
    /// the `DynamicQuantizeLinear` of quantized exports).
    fn projection_input(&self, node: &'a NodeProto) -> Option<&'a str> {
        let weighted = match node.op_type.as_str() {
            "MatMul" | "MatMulInteger" | "Gemm" => {
                node.input.len() >= 2 && self.constant.contains(node.input[1].as_str())
            }
            // Its weights are attributes.
            super::int8_products::OP => node.input.len() == 1,
            _ => false,
        } && !self.constant.contains(node.input[0].as_str());
        if !weighted {
            return None;
        }
        let activation = node.input[0].as_str();
        match self.producer.get(activation).map(|&p| self.node(p)) {
            Some(q) if q.op_type == "DynamicQuantizeLinear" => q.input.first().map(String::as_str),
            _ => Some(activation),
        }
    }

    /// The hidden state a layer starts from: what its query and key projections multiply.
    /// Walks back from the Softmax, never through `Shape` (which reads only dimensions).
    fn layer_input(&self, softmax: usize) -> Option<&'a str> {
        let mut queue = VecDeque::from([softmax]);
        let mut seen = HashSet::from([softmax]);
        while let Some(n) = queue.pop_front() {
            let node = self.node(n);
            if n != softmax {
                if let Some(x) = self.projection_input(node) {
                    return Some(x);
                }
            }
            if node.op_type == "Shape" {
                continue;
            }
            for input in &node.input {
                if let Some(&p) = self.producer.get(input.as_str()) {
                    if seen.insert(p) {
                        queue.push_back(p);
                    }
                }
            }
        }
        None
    }

    /// The last layer's output. Layers are exported node for node alike, so the output of
    /// the last layer sits as far after its Softmax as the previous layer's output does.
    fn last_layer_output(&self, softmaxes: &[usize], layer_inputs: &[&'a str]) -> Option<&'a str> {
        if let Some(out) = self.graph.output.iter().find(|o| o.name == "last_hidden_state") {
            return Some(out.name.as_str());
        }
        let l = softmaxes.len();
        if l < 2 {
            return None;
        }
        let previous_output = *self.producer.get(layer_inputs[l - 1])?;
        let offset = previous_output.checked_sub(softmaxes[l - 2])?;
        let candidate = softmaxes[l - 1] + offset;
        let node = self.graph.node.get(candidate)?;
        (node.op_type == self.node(previous_output).op_type).then(|| node.output.first().map(String::as_str))?
    }

    /// Dims of a constant tensor: an initializer or a `Constant` node's value.
    fn constant_dims(&self, name: &str) -> Option<&'a [i64]> {
        if let Some(t) = self.graph.initializer.iter().find(|t| t.name == name) {
            return Some(t.dims.as_slice());
        }
        let node = self.node(*self.producer.get(name)?);
        let value = node.attribute.iter().find(|a| a.name == "value").and_then(|a| a.t.as_ref());
        (node.op_type == "Constant").then_some(value.map(|t| t.dims.as_slice())).flatten()
    }

    /// The tensor `name` was copied from through nodes of the `carriers` kinds (their first input).
    fn source(&self, mut name: &'a str, carriers: &[&str]) -> &'a str {
        for _ in 0..self.graph.node.len() {
            match self.producer.get(name).map(|&p| self.node(p)) {
                Some(node) if carriers.contains(&node.op_type.as_str()) && !node.input.is_empty() => {
                    name = node.input[0].as_str();
                }
                _ => break,
            }
        }
        name
    }

    /// Rows of the embedding tables: (words, positions). The word table is any table a `Gather`
    /// reads with the token ids, also through casts, copies and reshapes of either; `Err` names a
    /// `Gather` of token ids whose table is not a constant of known size (the tokenizer could not
    /// be checked against it, and an id past its end would crash the run).
    fn embedding_rows(&self, input_ids: &str) -> Result<(Option<usize>, Option<usize>), String> {
        let mut tables: Vec<(bool, &[i64])> = Vec::new();
        for n in self.graph.node.iter().filter(|n| n.op_type == "Gather" && n.input.len() == 2) {
            let words = !input_ids.is_empty() && self.source(&n.input[1], ID_CARRIERS) == input_ids;
            let dims = self.constant_dims(self.source(&n.input[0], TABLE_CARRIERS));
            match dims {
                Some(dims) if dims.len() == 2 => tables.push((words, dims)),
                _ if words => {
                    return Err(format!(
                        "its Gather node \"{}\" looks token ids up in a table whose size the loader cannot see, so \
                         the tokenizer cannot be checked against it",
                        n.name
                    ))
                }
                _ => {}
            }
        }
        let words = tables.iter().filter(|(w, _)| *w).map(|(_, d)| d[0].max(0) as usize).min();
        let width = tables.iter().find(|(w, _)| *w).map(|(_, d)| d[1]);
        let positions = tables
            .iter()
            .filter(|(w, d)| !w && Some(d[1]) == width)
            .map(|(_, d)| d[0].max(0) as usize)
            .max()
            .filter(|&rows| rows > 2);
        Ok((words, positions))
    }

    fn dynamic_int8(&self) -> Option<&'static str> {
        let node = self.graph.node.iter().find(|n| n.op_type == "MatMulInteger")?;
        let weight = self.graph.initializer.iter().find(|t| Some(&t.name) == node.input.get(1))?;
        Some(if weight.data_type == tract_onnx::pb::tensor_proto::DataType::Int8 as i32 { "QInt8" } else { "QUInt8" })
    }
}

/// Rows of the constant 2-D table that a `Gather` reads with graph input `input` (through casts,
/// copies and reshapes), the smallest if several do; `None` if no such table is found. For
/// `token_type_ids` it is the number of segment ids the model has embeddings for.
pub fn rows_read_by(graph: &GraphProto, input: &str) -> Option<usize> {
    let index = Index::new(graph);
    graph
        .node
        .iter()
        .filter(|n| n.op_type == "Gather" && n.input.len() == 2 && index.source(&n.input[1], ID_CARRIERS) == input)
        .filter_map(|n| index.constant_dims(index.source(&n.input[0], TABLE_CARRIERS)))
        .filter(|dims| dims.len() == 2)
        .map(|dims| dims[0].max(0) as usize)
        .min()
}

/// Finds attention, hidden states and embedding sizes in a graph. `Err` says, in words, what is missing.
pub fn anatomy(graph: &GraphProto, input_ids: &str) -> Result<Anatomy, String> {
    let index = Index::new(graph);
    let softmaxes: Vec<usize> =
        graph.node.iter().enumerate().filter(|(_, n)| n.op_type == "Softmax").map(|(i, _)| i).collect();
    if softmaxes.is_empty() {
        return Err("it has no Softmax node, so there is no attention to show".into());
    }
    let layer_inputs = softmaxes
        .iter()
        .map(|&s| index.layer_input(s))
        .collect::<Option<Vec<_>>>()
        .ok_or("a Softmax node is not fed by query/key projections of a hidden state")?;
    let last = index
        .last_layer_output(&softmaxes, &layer_inputs)
        .ok_or("the output of the last encoder layer could not be found")?;
    let attention = softmaxes.iter().map(|&s| index.node(s).output[0].clone()).collect();
    let hidden = layer_inputs.iter().copied().chain([last]).map(str::to_string).collect();
    let logits = graph.output.iter().find(|o| o.name == "logits").map(|o| o.name.clone());
    let (vocab_rows, max_positions) = index.embedding_rows(input_ids)?;
    Ok(Anatomy { attention, hidden, logits, vocab_rows, max_positions, dynamic_int8: index.dynamic_int8() })
}
