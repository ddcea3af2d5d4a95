//! Crafted model files that used to panic the engine (issue 18, defects 2 and 3), each built from
//! the shared tiny DistilBERT by changing one attribute, type or edge: each must be refused in
//! plain words, before tract sees it.

mod common;

use bertscope_core::{Engine, Error, LoadOptions};
use prost::Message;
use tract_onnx::pb::{tensor_proto::DataType, AttributeProto, GraphProto, ModelProto, NodeProto};

const MODEL: &str = "distilbert-tiny-random/model.onnx";
const TOKENIZER: &str = "distilbert-tiny-random/tokenizer.json";
const SENTENCES: [&str; 2] = ["Apple is huge enterprise", "I am eating an apple"];

/// The tiny DistilBERT with `change` applied to its graph.
fn mutant(change: impl FnOnce(&mut GraphProto)) -> Vec<u8> {
    mutant_of(MODEL, change)
}

/// A shared model with `change` applied to its graph.
fn mutant_of(file: &str, change: impl FnOnce(&mut GraphProto)) -> Vec<u8> {
    let mut model = ModelProto::decode(&common::read(file)[..]).expect("the shared model decodes");
    change(model.graph.as_mut().unwrap());
    model.encode_to_vec()
}

/// Loads and runs `model`: the error it ends in (it must end in one).
fn error_of(model: &[u8]) -> Error {
    error_with(model, TOKENIZER)
}

/// As [`error_of`], with another tokenizer.
fn error_with(model: &[u8], tokenizer: &str) -> Error {
    let engine = Engine::new(model, &common::read(tokenizer), LoadOptions::default());
    match engine.and_then(|e| e.run(&SENTENCES)) {
        Ok(_) => panic!("the crafted model loaded and ran"),
        Err(e) => e,
    }
}

fn node<'a>(graph: &'a mut GraphProto, name: &str) -> &'a mut NodeProto {
    graph.node.iter_mut().find(|n| n.name == name).unwrap_or_else(|| panic!("no node {name}"))
}

fn ints<'a>(node: &'a mut NodeProto, attribute: &str) -> &'a mut Vec<i64> {
    let found = node.attribute.iter_mut().find(|a| a.name == attribute);
    &mut found.unwrap_or_else(|| panic!("no attribute {attribute}")).ints
}

const TRANSPOSE: &str = "/transformer/layer.0/attention/Transpose";
const REDUCE_MEAN: &str = "/embeddings/LayerNorm/ReduceMean";
const WORDS: &str = "/embeddings/word_embeddings/Gather";

/// A refusal before anything runs, with a message containing `expected`.
fn refused(model: &[u8], expected: &str) {
    let e = error_of(model);
    assert!(matches!(e, Error::Prepare(_) | Error::NotBert(_)), "{e:?}");
    assert!(e.to_string().contains(expected), "{e}");
}

#[test]
fn a_transpose_perm_past_the_rank_is_refused() {
    let model = mutant(|g| *ints(node(g, TRANSPOSE), "perm") = vec![0, 2, 1, 7]);
    refused(
        &model,
        "its Transpose node \"/transformer/layer.0/attention/Transpose\" has perm [0, 2, 1, 7], which names axis 7 \
         of a rank-4 tensor; the file is corrupt",
    );
    let model = mutant(|g| *ints(node(g, TRANSPOSE), "perm") = vec![0, -2, 1, 3]);
    refused(&model, "which names axis -2 of a rank-4 tensor");
    // A permutation of the wrong length is tract's to refuse, and it does, in words.
    let model = mutant(|g| *ints(node(g, TRANSPOSE), "perm") = vec![1, 0]);
    refused(&model, "Op expects tensor of rank 2, input is actually of rank 4");
}

/// tract read a Transpose's input without checking there is one (an index out of bounds).
#[test]
fn a_transpose_without_its_input_is_refused() {
    let model = mutant(|g| node(g, TRANSPOSE).input.clear());
    refused(&model, "its Transpose node \"/transformer/layer.0/attention/Transpose\" takes 1 input, it has 0");
    let model = mutant(|g| node(g, TRANSPOSE).input[0] = String::new());
    refused(&model, "takes 1 input, it has 0; the file is corrupt");
}

/// MiniLM's export flattens its attention mask at a rank tract only learns while typing; tract
/// sliced the shape at the axis unchecked, and read the node's input without checking it has one.
#[test]
fn a_flatten_axis_past_the_rank_or_without_input_is_refused() {
    const MINILM: &str = "minilm-l6/model_weights_int8.onnx";
    for axis in [9, -9, i64::MIN] {
        let model = mutant_of(MINILM, |g| {
            let flatten = node(g, "/m/Flatten");
            flatten.attribute.retain(|a| a.name != "axis");
            flatten.attribute.push(AttributeProto { name: "axis".into(), i: axis, r#type: 2, ..Default::default() });
        });
        let e = error_with(&model, "minilm-l6/tokenizer.json");
        let expected = format!("its Flatten node \"/m/Flatten\" flattens at axis {axis} of a rank-2 tensor");
        assert!(matches!(e, Error::Prepare(_)) && e.to_string().contains(&expected), "{e}");
    }
    let model = mutant_of(MINILM, |g| node(g, "/m/Flatten").input.clear());
    let e = error_with(&model, "minilm-l6/tokenizer.json");
    assert!(e.to_string().contains("its Flatten node \"/m/Flatten\" takes 1 input, it has 0"), "{e}");
}

/// MiniLM's position ids are `Range(start, limit, step)` of constants once tract reads the limit
/// from a shape; tract asserted a range of negative length could not happen (a panic).
#[test]
fn a_range_tract_cannot_build_is_refused() {
    let constant = |value: i64, name: &'static str| {
        mutant_of("minilm-l6/model_weights_int8.onnx", move |g| {
            let value_attribute = node(g, name).attribute.iter_mut().find(|a| a.name == "value").unwrap();
            value_attribute.t.as_mut().unwrap().raw_data = value.to_le_bytes().to_vec();
        })
    };
    for (model, what) in [
        (constant(2, "/m/Constant_3"), "counts from 2 to 1 in steps of 1"),
        (constant(0, "/m/Constant_4"), "counts from 0 to 1 in steps of 0"),
        (constant(-1, "/m/Constant_4"), "counts from 0 to 1 in steps of -1"),
        (constant(i64::MIN, "/m/Constant_4"), "counts from 0 to 1 in steps of -9223372036854775808"),
    ] {
        let e = error_with(&model, "minilm-l6/tokenizer.json");
        let expected = format!("its Range node \"/m/Range\" {what}, which tract cannot build; the file is corrupt");
        assert!(matches!(e, Error::Prepare(_)) && e.to_string().contains(&expected), "{e}");
    }
}

/// MiniLM's attention mask is expanded to a shape computed as `ConstantOfShape × constant`; with
/// that constant changed, the shape had negative dimensions, which tract asserted away (a panic).
#[test]
fn an_expand_to_a_negative_shape_is_refused() {
    for value in [2, -9] {
        let model = mutant_of("minilm-l6/model_weights_int8.onnx", |g| {
            let value_attribute = node(g, "/m/Constant_27").attribute.iter_mut().find(|a| a.name == "value").unwrap();
            value_attribute.t.as_mut().unwrap().raw_data = i64::to_le_bytes(value).to_vec();
        });
        let e = error_with(&model, "minilm-l6/tokenizer.json");
        let expected = "its Expand node \"/m/Expand\" expands to a shape with dimension -";
        assert!(matches!(e, Error::Prepare(_)) && e.to_string().contains(expected), "{value}: {e}");
    }
}

/// A repeated axis made tract search permutations without bound (8.4 GB in 20 s): refused
/// before tract sees it.
#[test]
fn a_transpose_perm_with_a_repeated_axis_is_refused() {
    let model = mutant(|g| *ints(node(g, TRANSPOSE), "perm") = vec![0, 2, 2, 3]);
    refused(&model, "has perm [0, 2, 2, 3], which names axis 2 twice; the file is corrupt");
}

#[test]
fn a_reduce_mean_axis_past_the_rank_is_refused() {
    for axis in [3, 5, -4, i64::MIN] {
        let model = mutant(|g| *ints(node(g, REDUCE_MEAN), "axes") = vec![axis]);
        refused(
            &model,
            &format!(
                "its ReduceMean node \"/embeddings/LayerNorm/ReduceMean\" reduces axis {axis} of a rank-3 tensor; the \
                 file is corrupt"
            ),
        );
    }
}

#[test]
fn a_string_initializer_with_raw_bytes_is_refused() {
    let model = mutant(|g| {
        let t = g.initializer.iter_mut().find(|t| t.name == "embeddings.LayerNorm.bias").unwrap();
        t.data_type = DataType::String as i32;
    });
    refused(
        &model,
        "its initializer \"embeddings.LayerNorm.bias\" stores STRING values as raw bytes, which cannot be read",
    );
}

/// An op tract does not run (an ONNX op it lacks, or another runtime's own) is refused by name
/// before tract parses the graph.
#[test]
fn an_op_bertscope_does_not_run_is_refused_by_name() {
    const ERF: &str = "/transformer/layer.0/ffn/activation/Erf";
    for (op, domain) in [("Det", ""), ("Unique", ""), ("FusedGeluX", "com.example")] {
        let model = mutant(|g| {
            let erf = node(g, ERF);
            erf.op_type = op.into();
            erf.domain = domain.into();
        });
        let e = error_of(&model);
        assert!(matches!(e, Error::UnsupportedOp(ref named) if named == op), "{e:?}");
        assert_eq!(e.to_string(), format!("this model uses the ONNX op {op}, which bertscope does not run"));
    }
}

/// Keeps the first `rows` rows of the word-embedding table (64 floats each).
fn shrink_words(g: &mut GraphProto, rows: usize) {
    let t = g.initializer.iter_mut().find(|t| t.name == "embeddings.word_embeddings.weight").unwrap();
    t.dims[0] = rows as i64;
    t.raw_data.truncate(rows * 64 * 4);
}

/// A node `op` from `input` to `output`, inserted first.
fn insert(g: &mut GraphProto, op: &str, input: &str, output: &str, attribute: Vec<AttributeProto>) {
    let name = format!("crafted_{output}");
    let node = NodeProto {
        name,
        op_type: op.into(),
        input: vec![input.into()],
        output: vec![output.into()],
        attribute,
        ..Default::default()
    };
    g.node.insert(0, node);
}

/// Token ids past a 100-row table crashed tract's `Gather` at run time when the loader could not
/// see the table: the vocabulary check must find it through the Cast.
#[test]
fn a_small_word_table_read_through_a_cast_of_the_ids_is_checked() {
    let model = mutant(|g| {
        shrink_words(g, 100);
        node(g, WORDS).input[1] = "ids_cast".into();
        let to = AttributeProto { name: "to".into(), i: DataType::Int64 as i64, r#type: 2, ..Default::default() };
        insert(g, "Cast", "input_ids", "ids_cast", vec![to]);
    });
    let e = error_of(&model);
    assert!(matches!(e, Error::VocabMismatch { tokenizer: 30522, model: 100 }), "{e:?}");
}

#[test]
fn a_small_word_table_read_through_an_identity_is_checked() {
    let model = mutant(|g| {
        shrink_words(g, 100);
        node(g, WORDS).input[0] = "table_copy".into();
        insert(g, "Identity", "embeddings.word_embeddings.weight", "table_copy", vec![]);
    });
    let e = error_of(&model);
    assert!(matches!(e, Error::VocabMismatch { tokenizer: 30522, model: 100 }), "{e:?}");
}

/// A table computed at run time cannot be sized, so the ids cannot be checked: refused.
#[test]
fn token_ids_looked_up_in_a_table_of_unknown_size_are_refused() {
    let model = mutant(|g| {
        node(g, WORDS).input[0] = "table_negated".into();
        insert(g, "Neg", "embeddings.word_embeddings.weight", "table_negated", vec![]);
    });
    refused(
        &model,
        "its Gather node \"/embeddings/word_embeddings/Gather\" looks token ids up in a table whose size the loader \
         cannot see, so the tokenizer cannot be checked against it",
    );
}

/// The axes constant of the embeddings' `Unsqueeze` (an int64 tensor of one value).
fn unsqueeze_axes(g: &mut GraphProto, axes: &[i64]) {
    let constant = node(g, "/embeddings/Constant_3");
    let value = constant.attribute.iter_mut().find(|a| a.name == "value").unwrap().t.as_mut().unwrap();
    value.dims = vec![axes.len() as i64];
    value.raw_data = axes.iter().flat_map(|a| a.to_le_bytes()).collect();
}

/// An axis past the output's rank made tract insert past the end of a shape (a panic); the
/// rank is known only while tract types the graph, where the checked `Unsqueeze` refuses it.
#[test]
fn an_unsqueeze_axis_past_the_rank_is_refused() {
    for axis in [9, -9, i64::MIN] {
        refused(
            &mutant(|g| unsqueeze_axes(g, &[axis])),
            &format!("its Unsqueeze node \"/embeddings/Unsqueeze\" adds axis {axis} to a rank-0 tensor (the result has rank 1)"),
        );
    }
    refused(&mutant(|g| unsqueeze_axes(g, &[0, 0])), "its Unsqueeze node \"/embeddings/Unsqueeze\" names axis 0 twice");
    // In range it still runs: the same axis, given from the end.
    let model = mutant(|g| unsqueeze_axes(g, &[-1]));
    let engine = Engine::new(&model, &common::read(TOKENIZER), LoadOptions::default()).unwrap();
    let plain = Engine::new(&common::read(MODEL), &common::read(TOKENIZER), LoadOptions::default()).unwrap();
    let (a, b) = (engine.run(&SENTENCES).unwrap(), plain.run(&SENTENCES).unwrap());
    assert_eq!(a.runs[1].attention.as_slice(), b.runs[1].attention.as_slice());
}

/// Every small change of one integer attribute or one int64 constant of the tiny DistilBERT
/// (for one node of each kind, to extreme and off-by-some values), and of one node's inputs
/// (missing, unnamed, doubled), loads and runs or ends in a typed error; none reaches a panic
/// (which `Engine` reports as [`Error::Internal`]). Before the fixes above, changes of Transpose
/// `perm` and inputs, ReduceMean `axes` and the Unsqueeze axes constants panicked.
#[test]
fn no_single_attribute_constant_or_input_change_panics() {
    let base = ModelProto::decode(&common::read(MODEL)[..]).unwrap();
    let graph = base.graph.as_ref().unwrap();
    let tokenizer = common::read(TOKENIZER);
    let mut panics = Vec::new();
    let mut try_model = |what: String, model: ModelProto| {
        let run =
            Engine::new(&model.encode_to_vec(), &tokenizer, LoadOptions::default()).and_then(|e| e.run(&SENTENCES));
        if let Err(Error::Internal(message)) = run {
            panics.push(format!("{what}: {message}"));
        }
    };
    let values = [-9, -1, 2, 9, i64::MIN];
    let mut kinds = std::collections::HashSet::new();
    for (n, node) in graph.node.iter().enumerate() {
        for (a, attribute) in node.attribute.iter().enumerate() {
            let integer = attribute.r#type == 2 || !attribute.ints.is_empty();
            if !integer || !kinds.insert(format!("{} {}", node.op_type, attribute.name)) {
                continue;
            }
            for slot in 0..attribute.ints.len().max(1) {
                for value in values {
                    let mut model = base.clone();
                    let changed = &mut model.graph.as_mut().unwrap().node[n].attribute[a];
                    match changed.ints.get_mut(slot) {
                        Some(v) => *v = value,
                        None => changed.i = value,
                    }
                    try_model(format!("{} {}[{slot}] = {value}", node.name, attribute.name), model);
                }
            }
        }
        // Inputs missing, emptied or doubled, once per kind of node.
        if kinds.insert(node.op_type.clone()) {
            type Edit = fn(&mut Vec<String>);
            let edits: [(&str, Edit); 4] = [
                ("without its last input", |inputs| drop(inputs.pop())),
                ("without inputs", Vec::clear),
                ("with its first input unnamed", |inputs| inputs.iter_mut().take(1).for_each(String::clear)),
                ("with its first input twice", |inputs| inputs.extend(inputs.first().cloned())),
            ];
            for (what, edit) in edits {
                let mut model = base.clone();
                edit(&mut model.graph.as_mut().unwrap().node[n].input);
                try_model(format!("{} {what}", node.name), model);
            }
        }
        let value = node.attribute.iter().find(|a| a.name == "value").and_then(|a| a.t.as_ref());
        let Some(value) = value.filter(|t| node.op_type == "Constant" && t.data_type == DataType::Int64 as i32) else {
            continue;
        };
        // One constant per kind of reader and input slot.
        let readers = graph.node.iter().filter_map(|r| Some((r, r.input.iter().position(|i| *i == node.output[0])?)));
        let reader_kinds: Vec<String> = readers.map(|(r, slot)| format!("{} input {slot}", r.op_type)).collect();
        if reader_kinds.is_empty() || !reader_kinds.iter().any(|k| kinds.insert(k.clone())) {
            continue;
        }
        for slot in 0..(value.raw_data.len() / 8).min(8) {
            for v in values {
                let mut model = base.clone();
                let changed = &mut model.graph.as_mut().unwrap().node[n].attribute;
                let tensor = changed.iter_mut().find(|a| a.name == "value").unwrap().t.as_mut().unwrap();
                tensor.raw_data[slot * 8..slot * 8 + 8].copy_from_slice(&v.to_le_bytes());
                try_model(format!("{} (read by {reader_kinds:?})[{slot}] = {v}", node.name), model);
            }
        }
    }
    assert_eq!(kinds.len(), 40, "kinds of change swept: {kinds:?}");
    assert!(panics.is_empty(), "{} changes panicked:\n{}", panics.len(), panics.join("\n"));
}

/// Defect 10: a tokenizer.json whose normalizer turns each character into 10,000 (here MiniLM's,
/// with a `Replace` of every letter `e` after its BERT normalizer) used to request gigabytes for a
/// long text and abort. It is refused when read, in words that state the cap.
#[test]
fn a_tokenizer_that_expands_text_is_refused_with_its_cap() {
    let original = common::read("minilm-l6/tokenizer.json");
    assert!(bertscope_core::Tokenizer::from_json(&original, 512).is_ok(), "the shared tokenizer passes the cap");
    let mut json: serde_json::Value = serde_json::from_slice(&original).unwrap();
    let bert = json["normalizer"].take();
    let replace = serde_json::json!({"type": "Replace", "pattern": {"String": "e"}, "content": "e".repeat(10_000)});
    json["normalizer"] = serde_json::json!({"type": "Sequence", "normalizers": [bert, replace]});
    let hostile = serde_json::to_vec(&json).unwrap();
    let message = match bertscope_core::Tokenizer::from_json(&hostile, 512) {
        Err(Error::Tokenizer(message)) => message,
        other => panic!("the expanding tokenizer was not refused: {other:?}"),
    };
    assert_eq!(
        message,
        "its normalizer and pre-tokenizer can turn one character into up to 40004 characters; \
         bertscope refuses tokenizers that lengthen text more than 100 times"
    );
}

/// Found by the `onnx_attributes` fuzz target (after 3,622 executions): a MatMul operand rewired
/// to a scalar made tract's shape inference insert an axis past the end of an empty shape.
#[test]
fn a_matmul_of_a_scalar_is_refused() {
    let mut name = String::new();
    let model = mutant(|g| {
        let value = tract_onnx::pb::TensorProto {
            data_type: DataType::Float as i32,
            float_data: vec![2.0],
            ..Default::default()
        };
        let attribute = AttributeProto { name: "value".into(), r#type: 4, t: Some(value), ..Default::default() };
        let scalar = NodeProto {
            name: "scalar".into(),
            op_type: "Constant".into(),
            output: vec!["scalar".into()],
            attribute: vec![attribute],
            ..Default::default()
        };
        g.node.insert(0, scalar);
        let matmul = g.node.iter_mut().find(|n| n.op_type == "MatMul").expect("the model has a MatMul");
        name = matmul.name.clone();
        matmul.input[1] = "scalar".into();
    });
    refused(
        &model,
        &format!(
            "its MatMul node \"{name}\" multiplies a scalar (input 1 has no axis), which MatMul does not take; the \
             file is corrupt"
        ),
    );
}
