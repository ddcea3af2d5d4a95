//! Weight-only int8 quantization of BERT-family ONNX exports, and its inverse.
//!
//! [`quantize`] stores every constant MatMul weight `[K, N]` as uint8 codes with one scale and
//! zero point per output column, and every embedding table a `Gather` reads with one per row
//! (tensors of at least [`MIN_VALUES`] values); activations and all arithmetic stay f32. This is
//! the scheme of `../shared/models/make_weights_int8.py`, to the bit: the same codes, scales and
//! zero points, names (`W_quantized`, `W_scale`, `W_zero_point`, node `W_DequantizeLinear`
//! writing `W`, inserted before the first node that reads `W`) and placement (the new
//! initializers after the others). Every other byte of the file is copied as it was.
//!
//! From opset 13 on the weights are rebuilt by `DequantizeLinear` (per-axis scales need 13).
//! Below 13 the opset is left alone, since raising it changes the form of other ops (Unsqueeze,
//! Squeeze, Split, ReduceSum); the same values are computed as `Mul(Sub(Cast(q), zero_point),
//! scale)` instead (see [`Form`]), which bertscope's loader folds like `DequantizeLinear`.
//!
//! [`dequantize`] folds constant dequantizations (both forms) back into f32 initializers.

mod change;
mod emit;
mod layout;
mod scheme;
mod wire;

use std::borrow::Cow;
use std::collections::{HashMap, HashSet};

use serde::Serialize;
use tract_onnx::pb::{tensor_proto::DataType, GraphProto, NodeProto, ValueInfoProto};

use crate::error::{Error, Result};
use crate::onnx::dequantize_pattern as pattern;
pub use change::{attention_change, AttentionChange};
use layout::{GraphItem, Initializer, OnnxFile};
pub use pattern::Form;
use pattern::{Constant, ConstantDequantize};
pub use scheme::Axis;

/// Weights with fewer values stay f32 (as in `make_weights_int8.py`).
pub const MIN_VALUES: usize = 4096;

/// A quantized model and what was done to it.
#[derive(Debug, Clone)]
pub struct Quantized {
    /// The new ONNX file.
    pub bytes: Vec<u8>,
    /// What changed.
    pub report: QuantizeReport,
}

/// What [`quantize`] did.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[cfg_attr(feature = "tsify", derive(tsify::Tsify))]
pub struct QuantizeReport {
    /// Size of the input file in bytes.
    pub input_bytes: usize,
    /// Size of the output file in bytes.
    pub output_bytes: usize,
    /// The tensors stored as int8, in graph order.
    pub tensors: Vec<QuantizedTensor>,
    /// How the weights are rebuilt in the file.
    pub form: Form,
    /// The file's `ai.onnx` opset (unchanged).
    pub opset: i64,
}

/// One tensor [`quantize`] stored as int8.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "tsify", derive(tsify::Tsify))]
pub struct QuantizedTensor {
    /// The initializer's name (the dequantized weight keeps it).
    pub name: String,
    /// `[rows, columns]`.
    pub dims: [usize; 2],
    /// One scale per row (embeddings) or per column (MatMul weights).
    pub axis: Axis,
}

/// A model with its constant dequantizations folded to f32.
#[derive(Debug, Clone)]
pub struct Dequantized {
    /// The new ONNX file.
    pub bytes: Vec<u8>,
    /// How many weights were folded.
    pub tensors: usize,
}

/// A weight chosen for quantization.
struct Target<'f, 'a> {
    init: &'f Initializer<'a>,
    axis: Axis,
    /// Index of the first node that reads it: its dequantization goes right before.
    first_reader: usize,
}

/// Quantizes a BERT-family fp32 ONNX export to weight-only int8 (see the module doc).
/// `progress(done, total)` is called before the first tensor and after each one.
///
/// Refuses, with a plain message, bytes that are not ONNX, graphs that are not BERT-family
/// encoders (the loader's own checks), files that are already quantized (saying how), and files
/// with nothing to quantize. Needs the input plus about the output's size in memory: tensors are
/// read from the input in place and encoded once.
pub fn quantize(onnx: &[u8], mut progress: impl FnMut(usize, usize)) -> Result<Quantized> {
    let file = OnnxFile::read(onnx)?;
    refuse_quantized(&file)?;
    crate::onnx::check_bert_graph(&file.skeleton())?;
    let opset = file.opset.ok_or_else(|| Error::NotOnnx("it imports no ai.onnx operator set".into()))?;
    let form = if opset >= 13 { Form::DequantizeLinear } else { Form::Arithmetic };
    let targets = targets(&file)?;
    let mut names = Names::of(&file);

    // Encode the new initializers (in target order, as make_weights_int8.py appends them) and the
    // nodes that rebuild each weight, keyed by the node they go before.
    let mut new_initializers = Vec::with_capacity(targets.len() * 3);
    let mut new_nodes: HashMap<usize, Vec<Vec<u8>>> = HashMap::new();
    progress(0, targets.len());
    for (done, target) in targets.iter().enumerate() {
        let encoded = quantize_one(target, form, &mut names)?;
        new_initializers.extend(encoded.initializers);
        new_nodes.entry(target.first_reader).or_default().extend(encoded.nodes);
        progress(done + 1, targets.len());
    }

    let quantized: HashSet<&str> = targets.iter().map(|t| t.init.name.as_str()).collect();
    let last_initializer = file.graph.iter().rposition(|item| matches!(item, GraphItem::Initializer(..)));
    let mut pieces: Vec<Cow<[u8]>> = Vec::with_capacity(file.graph.len() + new_initializers.len() + 4 * targets.len());
    let mut new_initializers = Some(new_initializers);
    for (at, item) in file.graph.iter().enumerate() {
        match item {
            GraphItem::Node(index, raw) => {
                pieces.extend(new_nodes.remove(index).into_iter().flatten().map(Cow::Owned));
                pieces.push(Cow::Borrowed(raw));
            }
            // The weight is no longer an initializer (nor, in files listing initializers as
            // inputs, a graph input): a node computes it.
            GraphItem::Initializer(init, _) if quantized.contains(init.name.as_str()) => {}
            GraphItem::Input(input, _) if quantized.contains(input.name.as_str()) => {}
            _ => pieces.push(Cow::Borrowed(item.raw())),
        }
        if Some(at) == last_initializer {
            pieces.extend(new_initializers.take().into_iter().flatten().map(Cow::Owned));
        }
    }
    let bytes = file.write_with_graph(&pieces);
    let tensors = targets
        .iter()
        .map(|t| QuantizedTensor { name: t.init.name.clone(), dims: dims2(&t.init.dims), axis: t.axis })
        .collect();
    let report = QuantizeReport { input_bytes: onnx.len(), output_bytes: bytes.len(), tensors, form, opset };
    Ok(Quantized { bytes, report })
}

/// The graph fields that store and rebuild one weight, encoded.
struct Encoded {
    initializers: Vec<Vec<u8>>,
    nodes: Vec<Vec<u8>>,
}

/// Quantizes one weight.
fn quantize_one(target: &Target, form: Form, names: &mut Names) -> Result<Encoded> {
    let init = target.init;
    let w = &init.name;
    let [rows, cols] = dims2(&init.dims);
    let codes = scheme::quantize(&f32_values(init)?, rows, cols, target.axis).ok_or_else(|| {
        Error::CannotQuantize(format!("weight {w} holds values that are not finite or too large to quantize"))
    })?;
    let (q, s, z) = (
        names.fresh(&format!("{w}_quantized")),
        names.fresh(&format!("{w}_scale")),
        names.fresh(&format!("{w}_zero_point")),
    );
    let dq = format!("{w}_DequantizeLinear");
    let axis = target.axis.onnx_axis();
    let slices = codes.scales.len() as i64;
    let mut initializers = vec![emit::initializer(&q, &init.dims, DataType::Uint8, &codes.codes)];
    let nodes = match form {
        Form::DequantizeLinear => {
            initializers.push(emit::initializer(&s, &[slices], DataType::Float, &emit::f32_bytes(&codes.scales)));
            initializers.push(emit::initializer(&z, &[slices], DataType::Uint8, &codes.zero_points));
            vec![emit::node("DequantizeLinear", &dq, &[&q, &s, &z], w, Some(("axis", axis)))]
        }
        Form::Arithmetic => {
            // Shaped to broadcast over [rows, cols]: [1, cols] per column, [rows, 1] per row.
            let shape = match target.axis {
                Axis::Columns => [1, slices],
                Axis::Rows => [slices, 1],
            };
            let zero_points: Vec<f32> = codes.zero_points.iter().map(|&z| f32::from(z)).collect();
            initializers.push(emit::initializer(&s, &shape, DataType::Float, &emit::f32_bytes(&codes.scales)));
            initializers.push(emit::initializer(&z, &shape, DataType::Float, &emit::f32_bytes(&zero_points)));
            let (float, centred) = (names.fresh(&format!("{w}_quantized_float")), names.fresh(&format!("{w}_centred")));
            let to_float = Some(("to", DataType::Float as i64));
            vec![
                emit::node("Cast", &format!("{dq}_Cast"), &[&q], &float, to_float),
                emit::node("Sub", &format!("{dq}_Sub"), &[&float, &z], &centred, None),
                emit::node("Mul", &format!("{dq}_Mul"), &[&centred, &s], w, None),
            ]
        }
    };
    Ok(Encoded { initializers, nodes })
}

/// The weights to quantize, in graph order: the constant weight of each MatMul (per column) and
/// the table of each Gather (per row), 2-D f32 with at least [`MIN_VALUES`] values; the first
/// node reading a weight decides its axis.
fn targets<'f, 'a>(file: &'f OnnxFile<'a>) -> Result<Vec<Target<'f, 'a>>> {
    let initializers: HashMap<&str, &Initializer> = file.initializers().map(|i| (i.name.as_str(), i)).collect();
    let mut first_reader: HashMap<&str, usize> = HashMap::new();
    for (i, node) in file.nodes.iter().enumerate() {
        for input in &node.input {
            first_reader.entry(input.as_str()).or_insert(i);
        }
    }
    let mut targets: Vec<Target> = Vec::new();
    let mut other_types = Vec::new();
    for node in &file.nodes {
        let (weight, axis) = match (node.op_type.as_str(), node.input.as_slice()) {
            ("MatMul", [_, weight]) => (weight, Axis::Columns),
            ("Gather", [table, _]) => (table, Axis::Rows),
            _ => continue,
        };
        let Some(&init) = initializers.get(weight.as_str()) else { continue };
        if init.dims.len() != 2 || init.len() < MIN_VALUES || targets.iter().any(|t| t.init.name == init.name) {
            continue;
        }
        if init.data_type != DataType::Float as i32 {
            other_types.push(init);
            continue;
        }
        if init.external {
            return Err(Error::CannotQuantize(format!(
                "weight {weight} is stored in an external data file; bertscope reads self-contained .onnx files only"
            )));
        }
        targets.push(Target { init, axis, first_reader: first_reader[weight.as_str()] });
    }
    if targets.is_empty() {
        return Err(Error::CannotQuantize(match other_types.first() {
            Some(init) => format!(
                "its weights are {} (e.g. {}), not float32; only float32 exports are quantized",
                type_name(init.data_type),
                init.name
            ),
            None => format!("it has no float32 MatMul weight or embedding table of {MIN_VALUES} values or more"),
        }));
    }
    Ok(targets)
}

/// Refuses a file that already stores weights in fewer bits, saying which kind it is.
fn refuse_quantized(file: &OnnxFile) -> Result<()> {
    let has = |ops: &[&'static str]| ops.iter().copied().find(|op| file.nodes.iter().any(|n| n.op_type == *op));
    let kind = if let Some(op) = has(&[
        "MatMulInteger",
        "DynamicQuantizeLinear",
        "DynamicQuantizeMatMul",
        "MatMulIntegerToFloat",
        "ConvInteger",
        "QAttention",
    ]) {
        format!("dynamic int8 (it has {op} nodes)")
    } else if let Some(op) = has(&["QuantizeLinear", "QLinearMatMul", "QLinearConv", "QGemm", "QLinearAdd"]) {
        format!("static int8 (it has {op} nodes)")
    } else if let Some(op) = has(&["MatMulNBits", "GatherBlockQuantized"]) {
        format!("a few bits per weight (it has {op} nodes)")
    } else if let Some(found) = constant_dequantizers(file).first() {
        match found.form {
            Form::DequantizeLinear => {
                "weight-only int8 (its weights are DequantizeLinear of int8 constants)".to_string()
            }
            Form::Arithmetic => "weight-only int8 (its weights are rebuilt from int8 constants by Cast, Sub and Mul, \
                 the form bertscope quantize writes below opset 13)"
                .to_string(),
        }
    } else if let Some(op) = has(&["DequantizeLinear"]) {
        format!("int8 (it has {op} nodes)")
    } else {
        return Ok(());
    };
    Err(Error::AlreadyQuantized(kind))
}

/// Folds every constant dequantization (a `DequantizeLinear` of constants, or the Cast/Sub/Mul
/// form [`quantize`] writes below opset 13) into an f32 initializer with the weight's name, put
/// where the codes were; codes, scales and zero points no other node reads are dropped, the rest
/// of the file is copied as it was. The values are those bertscope's loader computes,
/// `(q - zero_point) · scale` in f32.
pub fn dequantize(onnx: &[u8]) -> Result<Dequantized> {
    let file = OnnxFile::read(onnx)?;
    let found = constant_dequantizers(&file);
    let initializers: HashMap<&str, &Initializer> = file.initializers().map(|i| (i.name.as_str(), i)).collect();
    let mut folded: HashMap<&str, Vec<Vec<u8>>> = HashMap::new();
    for d in &found {
        folded.entry(d.quantized.as_str()).or_default().push(fold(d, &initializers)?);
    }
    let removed_nodes: HashSet<usize> = found.iter().flat_map(|d| d.nodes.iter().copied()).collect();
    let mut still_read: HashSet<&str> = file.output_names().into_iter().collect();
    let kept_nodes = file.nodes.iter().enumerate().filter(|(i, _)| !removed_nodes.contains(i));
    still_read.extend(kept_nodes.flat_map(|(_, node)| node.input.iter().map(String::as_str)));
    let inputs: HashSet<&str> = found
        .iter()
        .flat_map(|d| [Some(&d.quantized), Some(&d.scale), d.zero_point.as_ref()])
        .flatten()
        .map(String::as_str)
        .collect();
    let mut pieces: Vec<Cow<[u8]>> = Vec::with_capacity(file.graph.len());
    for item in &file.graph {
        match item {
            GraphItem::Node(index, _) if removed_nodes.contains(index) => {}
            GraphItem::Initializer(init, raw) => {
                let name = init.name.as_str();
                if !inputs.contains(name) || still_read.contains(name) {
                    pieces.push(Cow::Borrowed(raw));
                }
                pieces.extend(folded.remove(name).into_iter().flatten().map(Cow::Owned));
            }
            _ => pieces.push(Cow::Borrowed(item.raw())),
        }
    }
    Ok(Dequantized { bytes: file.write_with_graph(&pieces), tensors: found.len() })
}

/// The f32 initializer field of one folded weight, computed by the loader's own fold.
fn fold(d: &ConstantDequantize, initializers: &HashMap<&str, &Initializer>) -> Result<Vec<u8>> {
    let tensor = |name: &String| initializers[name.as_str()].decode();
    let mut graph = GraphProto {
        node: vec![d.as_dequantize_linear()],
        initializer: [Some(&d.quantized), Some(&d.scale), d.zero_point.as_ref()]
            .into_iter()
            .flatten()
            .map(tensor)
            .collect::<Result<_>>()?,
        output: vec![ValueInfoProto { name: d.output.clone(), ..Default::default() }],
        ..Default::default()
    };
    let cannot = |e: String| Error::CannotQuantize(format!("weight {} cannot be dequantized: {e}", d.output));
    crate::onnx::fold_dequantize::fold_constant_dequantize(&mut graph).map_err(|e| cannot(e.to_string()))?;
    let weight =
        graph.initializer.iter().find(|t| t.name == d.output).ok_or_else(|| cannot("nothing came out".into()))?;
    Ok(emit::initializer(&d.output, &weight.dims, DataType::Float, &weight.raw_data))
}

fn constant_dequantizers(file: &OnnxFile) -> Vec<ConstantDequantize> {
    let constants: HashMap<&str, Constant> =
        file.initializers().map(|i| (i.name.as_str(), Constant { dims: &i.dims, data_type: i.data_type })).collect();
    pattern::constant_dequantizers(&file.nodes, &file.output_names(), |name| constants.get(name).copied())
}

/// The values of an f32 initializer (`raw_data` or `float_data`).
fn f32_values(init: &Initializer) -> Result<Vec<f32>> {
    let values: Vec<f32> = match init.raw_data {
        Some(raw) if raw.len() == init.len() * 4 => {
            raw.chunks_exact(4).map(|b| f32::from_le_bytes([b[0], b[1], b[2], b[3]])).collect()
        }
        Some(_) => Vec::new(),
        None => init.decode()?.float_data,
    };
    if values.len() != init.len() {
        return Err(Error::NotOnnx(format!(
            "initializer {} does not hold as many values as its shape says",
            init.name
        )));
    }
    Ok(values)
}

fn dims2(dims: &[i64]) -> [usize; 2] {
    [dims[0] as usize, dims[1] as usize]
}

fn type_name(data_type: i32) -> String {
    DataType::try_from(data_type)
        .map_or_else(|_| format!("of ONNX type {data_type}"), |t| format!("{t:?}").to_lowercase())
}

/// Tensor names in use, to give new ones that clash with none.
struct Names(HashSet<String>);

impl Names {
    fn of(file: &OnnxFile) -> Self {
        let mut names: HashSet<String> = file.initializers().map(|i| i.name.clone()).collect();
        names.extend(file.nodes.iter().flat_map(|n: &NodeProto| n.input.iter().chain(&n.output)).cloned());
        names.extend(file.graph.iter().filter_map(|item| match item {
            GraphItem::Input(v, _) | GraphItem::Output(v, _) => Some(v.name.clone()),
            _ => None,
        }));
        Self(names)
    }

    /// `wanted`, or `wanted_1`, `wanted_2`, ... if it is taken.
    fn fresh(&mut self, wanted: &str) -> String {
        let name = (0..)
            .map(|i| if i == 0 { wanted.to_string() } else { format!("{wanted}_{i}") })
            .find(|n| !self.0.contains(n))
            .unwrap_or_default();
        self.0.insert(name.clone());
        name
    }
}
