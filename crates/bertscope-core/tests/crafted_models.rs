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
    let mut model = ModelProto::decode(&common::read(MODEL)[..]).expect("the shared model decodes");
    change(model.graph.as_mut().unwrap());
    model.encode_to_vec()
}

/// Loads and runs `model`: the error it ends in (it must end in one).
fn error_of(model: &[u8]) -> Error {
    let engine = Engine::new(model, &common::read(TOKENIZER), LoadOptions::default());
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
