//! Sentence pairs (`A | B`): the tokenizer's pair template, `token_type_ids` fed to the models
//! that take them, longest-first truncation, and bad pairs refused in words.
//!
//! Against the independent Python reference (`tests/reference/pair_reference.py`: the
//! `tokenizers` library's own pair encoding, onnxruntime's attentions), whose `pairs.json`
//! `scripts/test` writes once per run into `$BERTSCOPE_PAIR_REFS`. Those tests need Python, so a
//! plain `cargo test` lists them as ignored; `scripts/test` runs them with `--ignored`, and
//! without `BERTSCOPE_PAIR_REFS` they fail, saying what to run.

mod common;

use std::path::PathBuf;

use bertscope_core::tokenize::Input;
use bertscope_core::{Encoding, Engine, Error, LoadOptions, Tokenizer};
use bertscope_testkit::{
    pair_attention_diff, pair_encoding_diff, parse_pairs, PairModel, PairObserved, PairReference, CASES, DEFAULT_CASE,
};

use common::read;

fn reference() -> PairReference {
    let dir = std::env::var_os("BERTSCOPE_PAIR_REFS").map(PathBuf::from).unwrap_or_else(|| {
        panic!(
            "BERTSCOPE_PAIR_REFS is not set: point it at the folder that `python \
             tests/reference/pair_reference.py generate MODELS_DIR OUT_DIR` writes (scripts/test does this)"
        )
    });
    let path = dir.join("pairs.json");
    parse_pairs(&std::fs::read(&path).unwrap_or_else(|e| panic!("cannot read {}: {e}", path.display()))).unwrap()
}

fn engine(model: &PairModel) -> Engine {
    Engine::new(&read(&model.model), &read(&model.tokenizer), LoadOptions::default())
        .unwrap_or_else(|e| panic!("{}: {e}", model.model))
}

fn observed(e: &Encoding) -> PairObserved<'_> {
    PairObserved {
        input_ids: &e.input_ids,
        token_type_ids: &e.token_type_ids,
        tokens: &e.tokens,
        truncated: e.truncated,
        sentence_b_start: e.sentence_b_start,
    }
}

/// The documented attention tolerance of a model file against onnxruntime (tract's products).
fn tolerance(model: &str) -> f32 {
    CASES.iter().find(|c| c.model == model).unwrap_or_else(|| panic!("no case for {model}")).attention_tol
}

#[test]
#[ignore = "needs BERTSCOPE_PAIR_REFS (scripts/test makes them with Python)"]
fn pairs_encode_as_the_tokenizers_library_does() {
    let reference = reference();
    for model in &reference.models {
        let tok = Tokenizer::from_json(&read(&model.tokenizer), reference.max_tokens).unwrap();
        let mut compared = 0;
        for entry in model.pairs.iter().chain(&model.long_pairs) {
            let [a, b] = entry.input.as_slice() else { panic!("a pair has two sides") };
            // Written as a line (escaped bars and all) and given as two sentences: the same encoding.
            let from_line = tok.encode(&entry.line()).unwrap();
            let from_sides = tok.encode_inputs(&[Input::Pair(a.clone(), b.clone())]).unwrap().sentences.remove(0);
            for e in [&from_line, &from_sides] {
                let wrong = pair_encoding_diff(observed(e), entry);
                assert!(wrong.is_empty(), "{}: {}", model.name, wrong.join("\n"));
            }
            assert_eq!(from_line.text, entry.line(), "the line as written");
            compared += 1;
        }
        assert_eq!(compared, 5, "{}: every pair compared", model.name);
        // The long pairs: only the longer side is cut when the shorter fits; both when both are long.
        let [cut_a, cut_both] = model.long_pairs.as_slice() else { panic!("two long pairs") };
        let b_tokens = |e: &bertscope_testkit::PairEntry| e.input_ids.len() - e.sentence_b_start.unwrap() - 1;
        assert_eq!(b_tokens(cut_a), cut_a.lengths_untruncated.as_ref().unwrap()[1], "B (short) is whole");
        assert!(b_tokens(cut_both) < cut_both.lengths_untruncated.as_ref().unwrap()[1], "B (long) is cut too");
    }
}

#[test]
#[ignore = "needs BERTSCOPE_PAIR_REFS (scripts/test makes them with Python)"]
fn pair_attention_matches_onnxruntime() {
    let reference = reference();
    for model in &reference.models {
        let engine = engine(model);
        assert_eq!(engine.info().token_type_ids, model.takes_token_type_ids, "{}", model.name);
        let tol = tolerance(&model.model);
        for entry in &model.pairs {
            let run = engine.run(&[entry.line()]).unwrap();
            let wrong = pair_encoding_diff(observed(&run.batch.sentences[0]), entry);
            assert!(wrong.is_empty(), "{}: {}", model.name, wrong.join("\n"));
            let diff =
                pair_attention_diff(run.runs[0].attention.as_slice(), &entry.flat_attentions().unwrap()).unwrap();
            println!("{} {:?}: attention within {diff:.2e}", model.name, entry.line());
            assert!(diff <= tol, "{} {:?}: attention differs by {diff} (tolerance {tol})", model.name, entry.line());
        }
        // Two pairs around a single sentence, padded: type ids stay right, padding is 0.
        let batch = &model.batch;
        let run = engine.run(&batch.lines()).unwrap();
        for (i, sentence) in run.batch.sentences.iter().enumerate() {
            assert_eq!(sentence.input_ids, batch.input_ids[i], "{} batch entry {i}", model.name);
            assert_eq!(sentence.token_type_ids, batch.token_type_ids[i], "{} batch entry {i}", model.name);
            assert_eq!(sentence.attention_mask, batch.attention_mask[i], "{} batch entry {i}", model.name);
            let diff = pair_attention_diff(run.runs[i].attention.as_slice(), &batch.flat_attentions(i)).unwrap();
            println!("{} batch entry {i}: attention within {diff:.2e}", model.name);
            assert!(diff <= tol, "{} batch entry {i}: attention differs by {diff} (tolerance {tol})", model.name);
        }
    }
}

const PAIR: &str = "The cat sat on the mat. | It was tired.";
/// The same tokens as [`PAIR`] with every `token_type_ids` 0: the separator typed as text.
const SAME_TOKENS_ONE_SEGMENT: &str = "The cat sat on the mat. [SEP] It was tired.";

#[test]
fn minilm_reads_the_type_ids_and_distilbert_runs_without_them() {
    let minilm = common::engine(&DEFAULT_CASE);
    let pair = minilm.run(&[PAIR, SAME_TOKENS_ONE_SEGMENT]).unwrap();
    let [with, without] = pair.batch.sentences.as_slice() else { panic!("two inputs") };
    assert_eq!(with.input_ids, without.input_ids, "the same tokens");
    assert_eq!(with.token_type_ids, [0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 1, 1, 1, 1]);
    assert_eq!(without.token_type_ids, [0; 14]);
    assert_eq!((with.sentence_b_start, without.sentence_b_start), (Some(9), None));
    let moved = bertscope_testkit::max_abs_diff(pair.runs[0].attention.as_slice(), pair.runs[1].attention.as_slice());
    assert!(moved > 1e-3, "MiniLM's attention changes with its token_type_ids (moved {moved})");

    let tiny = common::engine(&CASES[3]);
    assert!(!tiny.info().token_type_ids);
    let run = tiny.run(&[PAIR, SAME_TOKENS_ONE_SEGMENT]).unwrap();
    assert_eq!(run.batch.sentences[0].token_type_ids, with.token_type_ids, "the tokenizer's pair template");
    assert_eq!(
        run.runs[0].attention.as_slice(),
        run.runs[1].attention.as_slice(),
        "DistilBERT has no token_type_ids: the pair reads as its tokens"
    );
    for row in run.runs[0].attention.as_slice().chunks(14) {
        assert!((row.iter().sum::<f32>() - 1.0).abs() < 1e-5);
    }
}

#[test]
fn a_long_pair_is_cut_longest_first_and_says_so() {
    let tok = Tokenizer::from_json(&read("minilm-l6/tokenizer.json"), 512).unwrap();
    let fox = "The quick brown fox jumps over the lazy dog. ";
    let e = tok.encode(&format!("{} | Is the dog lazy?", fox.repeat(60))).unwrap();
    assert!(e.truncated);
    assert_eq!((e.len, e.sentence_b_start), (512, Some(506)), "A is cut, B keeps its 5 tokens");
    assert_eq!(&e.tokens[505..], ["[SEP]", "is", "the", "dog", "lazy", "?", "[SEP]"]);
    let both = tok.encode(&format!("{} | {}", fox.repeat(40), fox.repeat(30))).unwrap();
    assert_eq!((both.len, both.sentence_b_start), (512, Some(257)), "both cut to about half");
    assert!(!tok.encode(PAIR).unwrap().truncated);
    // A model with room for fewer tokens than a pair's special tokens and one token per side.
    let tiny = Tokenizer::from_json(&read("minilm-l6/tokenizer.json"), 4).unwrap();
    let err = tiny.encode("a | b").unwrap_err();
    assert!(matches!(err, Error::BadInput(_)) && err.to_string().contains("at most 4 tokens"), "{err}");
    assert_eq!(tiny.encode("a").unwrap().len, 3, "a single sentence still fits");
}

#[test]
fn bad_pairs_are_refused_in_words() {
    let tok = Tokenizer::from_json(&read("minilm-l6/tokenizer.json"), 512).unwrap();
    for (line, says) in [
        ("|", "sentence 1 is only a “|”"),
        ("   |  ", "sentence 1 is only a “|”"),
        (" | It was tired.", "sentence 1 has nothing before its “|”"),
        ("The cat sat. |\t", "sentence 1 has nothing after its “|”"),
        ("a | b | c", "sentence 1 has 2 “|”"),
    ] {
        let err = tok.encode(line).unwrap_err();
        assert!(matches!(err, Error::BadInput(_)), "{line:?}: {err:?}");
        assert!(err.to_string().starts_with(says), "{line:?}: {err}");
        assert!(err.to_string().contains(r"\|"), "says how to write a bar that is text: {err}");
    }
    let err = tok.encode_batch(&["fine", "also | fine", "not | fine |"]).unwrap_err();
    assert!(err.to_string().starts_with("sentence 3 has 2 “|”"), "{err}");
    let err = tok.encode_inputs(&[Input::Pair("a".into(), "  ".into())]).unwrap_err();
    assert_eq!(err.to_string(), "sentence 1 is a pair whose sentence B is empty");
    let err = tok.encode_inputs(&[Input::Pair("a".into(), "\u{200b}".into())]).unwrap_err();
    assert!(err.to_string().contains("sentence B gives no tokens"), "{err}");
    // An escaped bar is text; the engine runs what the tokenizer refuses nowhere.
    assert_eq!(tok.encode(r"x \| y").unwrap().tokens, ["[CLS]", "x", "|", "y", "[SEP]"]);
    let engine = common::engine(&CASES[3]);
    assert!(matches!(engine.run(&["ok", " | "]), Err(Error::BadInput(_))));
    assert!(engine.run(&["ok", "fine | too"]).is_ok(), "the engine still runs after a refused input");
}

/// MiniLM's tokenizer with the pair template's segment 1 renumbered `type_id`.
fn tokenizer_with_b_type(type_id: u64) -> Vec<u8> {
    let mut json: serde_json::Value = serde_json::from_slice(&read("minilm-l6/tokenizer.json")).unwrap();
    for piece in json["post_processor"]["pair"].as_array_mut().unwrap() {
        for (_, part) in piece.as_object_mut().unwrap().iter_mut() {
            if part["type_id"] == 1 {
                part["type_id"] = type_id.into();
            }
        }
    }
    serde_json::to_vec(&json).unwrap()
}

#[test]
fn segment_ids_past_the_token_type_table_are_refused() {
    let model = read(DEFAULT_CASE.model);
    let engine = Engine::new(&model, &tokenizer_with_b_type(5), LoadOptions::default()).unwrap();
    assert_eq!(engine.info().token_types, Some(2), "MiniLM's token-type table has two rows");
    let err = engine.run(&["fine", "a | b"]).unwrap_err();
    assert!(matches!(err, Error::BadInput(_)), "{err:?}");
    assert!(
        err.to_string().starts_with("sentence 2 has token_type_ids up to 5, and this model has 2 token types"),
        "{err}"
    );
    assert!(engine.run(&["fine", "single"]).is_ok(), "single sentences (segment 0) still run");
    // Segment 1 is within the table: the same file runs the pair.
    let engine = Engine::new(&model, &tokenizer_with_b_type(1), LoadOptions::default()).unwrap();
    assert!(engine.run(&["a | b"]).is_ok());
    assert_eq!(common::engine(&CASES[3]).info().token_types, None, "DistilBERT takes no token_type_ids");
}
