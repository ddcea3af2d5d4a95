//! Structure-aware mutants of the tiny float DistilBERT: the fuzzer's bytes pick nodes,
//! attributes, inputs and small tensors and change them (extreme integers, other data types,
//! dropped or doubled inputs, other values and dims); the re-encoded model loads and runs, or
//! fails with a typed error. Any panic is a finding.
use std::sync::OnceLock;

use super::fixtures::{options, read, unless_internal};
use bertscope_core::Engine;
use prost::Message;
use tract_onnx::pb::{GraphProto, ModelProto, TensorProto};

struct Fixture {
    model: ModelProto,
    tokenizer: Vec<u8>,
}

fn fixture() -> &'static Fixture {
    static FIXTURE: OnceLock<Fixture> = OnceLock::new();
    FIXTURE.get_or_init(|| Fixture {
        model: ModelProto::decode(&read("distilbert-tiny-random/model.onnx")[..])
            .expect("the shared tiny model decodes"),
        tokenizer: read("distilbert-tiny-random/tokenizer.json"),
    })
}

/// Integers that break careless index and shape arithmetic.
const EXTREMES: [i64; 16] =
    [i64::MIN, i64::MIN + 1, -(1 << 31), -65_537, -7, -2, -1, 0, 1, 2, 3, 7, 65_536, 1 << 31, i64::MAX - 1, i64::MAX];

/// ONNX data types 0 (undefined) to 23 and one past them.
const DATA_TYPES: i32 = 24;

/// Tensors of at most this many bytes count as small: shapes, axes, scalars, constants.
const SMALL: usize = 64;

/// One mutation: an operation and its operands, read from 8 bytes.
struct Step<'a>(&'a [u8]);

impl Step<'_> {
    fn kind(&self) -> u8 {
        self.0[0]
    }
    /// An index below `len` (`len` > 0), from two bytes.
    fn pick(&self, at: usize, len: usize) -> usize {
        usize::from(u16::from_le_bytes([self.0[at], self.0[at + 1]])) % len
    }
    /// An extreme integer, or (with the top bit set) a small one read as is.
    fn integer(&self) -> i64 {
        let b = self.0[7];
        if b & 0x80 == 0 {
            EXTREMES[usize::from(b) % EXTREMES.len()]
        } else {
            i64::from(b & 0x3f) - 16
        }
    }
}

/// One input of the fuzz target: returns, or panics on a finding.
pub fn check(data: &[u8]) {
    let fixture = fixture();
    let mut model = fixture.model.clone();
    let graph = model.graph.as_mut().expect("the shared model has a graph");
    for step in data.chunks_exact(8).take(8).map(Step) {
        mutate(graph, &step);
    }
    let bytes = model.encode_to_vec();
    if let Some(engine) = unless_internal(Engine::new(&bytes, &fixture.tokenizer, options())) {
        unless_internal(engine.run(&["Apple is huge enterprise", "I am eating an apple"]));
    }
}

fn mutate(graph: &mut GraphProto, step: &Step) {
    let node_count = graph.node.len();
    let names: Vec<String> = graph.node.iter().flat_map(|n| n.output.clone()).collect();
    match step.kind() % 10 {
        // An integer attribute, or one element of an integer list, set to an extreme value.
        0 | 1 => {
            let node = &mut graph.node[step.pick(1, node_count)];
            if node.attribute.is_empty() {
                return;
            }
            let at = usize::from(step.0[3]) % node.attribute.len();
            let attribute = &mut node.attribute[at];
            if attribute.ints.is_empty() || step.kind().is_multiple_of(10) {
                attribute.i = step.integer();
            } else {
                let at = usize::from(step.0[4]) % attribute.ints.len();
                attribute.ints[at] = step.integer();
            }
        }
        // An integer list made longer (a repeated element), shorter or emptied.
        2 => {
            let node = &mut graph.node[step.pick(1, node_count)];
            let Some(attribute) = node.attribute.iter_mut().find(|a| !a.ints.is_empty()) else { return };
            match step.0[3] % 3 {
                0 => attribute.ints.push(step.integer()),
                1 => drop(attribute.ints.pop()),
                _ => attribute.ints.clear(),
            }
        }
        // An attribute's declared type, or a float attribute's value, changed.
        3 => {
            let node = &mut graph.node[step.pick(1, node_count)];
            if node.attribute.is_empty() {
                return;
            }
            let at = usize::from(step.0[3]) % node.attribute.len();
            let attribute = &mut node.attribute[at];
            if step.0[4] & 1 == 0 {
                attribute.r#type = i32::from(step.0[5] % 15);
            } else {
                attribute.f = [f32::NAN, f32::INFINITY, f32::NEG_INFINITY, 0.0, -1.0, 1e30][usize::from(step.0[5]) % 6];
            }
        }
        // An input dropped, blanked, doubled or wired to another node's output.
        4 => {
            let node = &mut graph.node[step.pick(1, node_count)];
            if node.input.is_empty() {
                return;
            }
            let at = usize::from(step.0[3]) % node.input.len();
            match step.0[4] % 4 {
                0 => drop(node.input.remove(at)),
                1 => node.input[at].clear(),
                2 => node.input.push(node.input[at].clone()),
                _ => node.input[at] = names[step.pick(5, names.len())].clone(),
            }
        }
        // A node's operator swapped for another's from the same graph.
        5 => {
            let op_type = graph.node[step.pick(3, node_count)].op_type.clone();
            graph.node[step.pick(1, node_count)].op_type = op_type;
        }
        // A small tensor (initializer or Constant value): one value, its dims or its type.
        _ => {
            let mut small: Vec<&mut TensorProto> = graph
                .initializer
                .iter_mut()
                .chain(graph.node.iter_mut().flat_map(|n| n.attribute.iter_mut().filter_map(|a| a.t.as_mut())))
                .filter(|t| {
                    t.raw_data.len() <= SMALL && t.int64_data.len() * 8 <= SMALL && t.float_data.len() * 4 <= SMALL
                })
                .collect();
            if small.is_empty() {
                return;
            }
            let len = small.len();
            let tensor = &mut small[step.pick(1, len)];
            match step.kind() % 10 {
                6 => set_value(tensor, usize::from(step.0[3]), step.integer()),
                7 => {
                    if tensor.dims.is_empty() || step.0[4] & 1 == 0 {
                        tensor.dims.push(step.integer());
                    } else {
                        let at = usize::from(step.0[3]) % tensor.dims.len();
                        tensor.dims[at] = step.integer();
                    }
                }
                8 => tensor.data_type = i32::from(step.0[3]) % DATA_TYPES,
                _ => drop(tensor.dims.pop()),
            }
        }
    }
}

/// Writes `value` at element `at` (wrapped) of a tensor, as its data type's width in raw data,
/// or into its typed list.
fn set_value(tensor: &mut TensorProto, at: usize, value: i64) {
    if !tensor.int64_data.is_empty() {
        let len = tensor.int64_data.len();
        tensor.int64_data[at % len] = value;
    } else if !tensor.float_data.is_empty() {
        let len = tensor.float_data.len();
        tensor.float_data[at % len] = value as f32;
    } else if !tensor.raw_data.is_empty() {
        let width = if tensor.raw_data.len().is_multiple_of(8) {
            8
        } else if tensor.raw_data.len().is_multiple_of(4) {
            4
        } else {
            1
        };
        let slot = at % (tensor.raw_data.len() / width) * width;
        tensor.raw_data[slot..slot + width].copy_from_slice(&value.to_le_bytes()[..width]);
    }
}
