//! The classic demo, model anatomy, and bad input: typed errors, never panics.

mod common;

use bertscope_core::{Engine, Error, LoadOptions, Model, Tokenizer};
use bertscope_testkit::{max_abs_diff, CASES, DEFAULT_CASE};

const SEED: [&str; 2] = ["Apple is huge enterprise", "I am eating an apple"];
const SEED_IDS: [[u32; 7]; 2] = [[101, 6207, 2003, 4121, 6960, 102, 0], [101, 1045, 2572, 5983, 2019, 6207, 102]];

#[test]
fn seed_batch_tokenizes_exactly_with_both_real_tokenizers() {
    for path in ["minilm-l6/tokenizer.json", "distilbert-base-uncased/tokenizer.json"] {
        let tok = Tokenizer::from_json(&common::read(path), 512).unwrap();
        let batch = tok.encode_batch(&SEED).unwrap();
        assert_eq!(batch.seq_len, 7);
        let ids: Vec<Vec<u32>> = batch.sentences.iter().map(|e| e.input_ids.clone()).collect();
        assert_eq!(ids, SEED_IDS.map(|r| r.to_vec()).to_vec(), "{path}");
        assert_eq!(batch.sentences[0].attention_mask, [1, 1, 1, 1, 1, 1, 0]);
        assert_eq!(batch.sentences[1].attention_mask, [1; 7]);
        assert_eq!(batch.sentences[0].tokens, ["[CLS]", "apple", "is", "huge", "enterprise", "[SEP]", "[PAD]"]);
        assert_eq!(batch.sentences[0].special, [true, false, false, false, false, true, true]);
        assert_eq!(batch.sentences[0].offsets[1], (0, 5), "offsets count characters of the text");
        assert_eq!(batch.sentences[0].len, 6);
    }
}

#[test]
fn offsets_count_characters_not_bytes() {
    let tok = Tokenizer::from_json(&common::read("minilm-l6/tokenizer.json"), 512).unwrap();
    let e = tok.encode("café owners").unwrap();
    assert_eq!(e.tokens, ["[CLS]", "cafe", "owners", "[SEP]"]);
    assert_eq!(e.offsets[1..3], [(0, 4), (5, 11)]);
}

#[test]
fn long_text_is_truncated_to_512_and_says_so() {
    let tok = Tokenizer::from_json(&common::read("minilm-l6/tokenizer.json"), 512).unwrap();
    let long = "The quick brown fox jumps over the lazy dog. ".repeat(60);
    let e = tok.encode(&long).unwrap();
    assert_eq!(e.input_ids.len(), 512);
    assert!(e.truncated);
    assert_eq!(e.tokens.last().map(String::as_str), Some("[SEP]"));
    assert!(!tok.encode("short").unwrap().truncated);
}

#[test]
fn anatomy_is_read_from_the_graph() {
    let engine = common::engine(&DEFAULT_CASE);
    let info = engine.info();
    assert_eq!((info.layers, info.heads, info.hidden_size), (6, 12, 384));
    assert_eq!(info.vocab_size, Some(30522));
    assert_eq!(info.max_tokens, 512);
    assert_eq!(info.quantization, "weight-only int8 (per-channel)");
    assert!(info.token_type_ids && !info.fill_mask);
    let tiny =
        Model::from_bytes(&common::read("distilbert-tiny-random/model_qint8.onnx"), LoadOptions::default()).unwrap();
    assert_eq!((tiny.info().layers, tiny.info().heads, tiny.info().hidden_size), (2, 4, 64));
    assert_eq!(tiny.info().quantization, "dynamic int8 (QInt8)");
    assert!(!tiny.info().token_type_ids);
    let quint8 = Model::from_bytes(&common::read("minilm-l6/model_quantized.onnx"), LoadOptions::default()).unwrap();
    assert_eq!(quint8.info().quantization, "dynamic int8 (QUInt8)");
    let fp32 =
        Model::from_bytes(&common::read("distilbert-tiny-random-mlm/model.onnx"), LoadOptions::default()).unwrap();
    assert_eq!(fp32.info().quantization, "fp32");
    assert!(fp32.info().fill_mask);
}

/// The fill-mask graph has no `last_hidden_state` output; the engine finds the encoder's last
/// layer itself. Same seed, same config: its encoder must equal the plain tiny DistilBERT's.
#[test]
fn mlm_graph_yields_the_encoder_output() {
    let plain = common::engine(&CASES[3]);
    let mlm = common::engine(&CASES[6]);
    let texts = ["Apple is huge enterprise", "The bank raised its interest rates."];
    let a = plain.run(&texts).unwrap();
    let b = mlm.run(&texts).unwrap();
    for (x, y) in a.runs.iter().zip(&b.runs) {
        assert!(max_abs_diff(x.attention.as_slice(), y.attention.as_slice()) < 1e-6, "same encoder weights");
        assert!(max_abs_diff(x.hidden.as_slice(), y.hidden.as_slice()) < 1e-5, "every hidden layer agrees");
    }
}

#[test]
fn every_hidden_layer_is_tapped_and_ends_in_last_hidden_state() {
    let engine = common::engine(&DEFAULT_CASE);
    let a = engine.run(&["I am eating an apple"]).unwrap();
    assert_eq!(a.runs[0].hidden.shape(), [7, 7, 384]);
    let layers: Vec<&[f32]> = (0..7).map(|l| a.runs[0].hidden.layer(l)).collect();
    for pair in layers.windows(2) {
        assert!(max_abs_diff(pair[0], pair[1]) > 1e-2, "consecutive layers differ");
    }
}

#[test]
fn a_batch_equals_its_sentences_run_alone() {
    let engine = common::engine(&DEFAULT_CASE);
    let batch = engine.run(&SEED).unwrap();
    let alone = engine.run(&SEED[..1]).unwrap();
    let [l, h, n, _] = alone.runs[0].attention.shape();
    for layer in 0..l {
        for head in 0..h {
            for q in 0..n {
                let padded = &batch.runs[0].attention.row(layer, head, q)[..n];
                assert!(max_abs_diff(padded, alone.runs[0].attention.row(layer, head, q)) < 1e-5);
                assert_eq!(batch.runs[0].attention.row(layer, head, q)[n], 0.0, "pad key gets no attention");
            }
        }
    }
}

#[test]
fn odd_text_runs() {
    let engine = common::engine(&CASES[3]);
    for text in [
        "",
        "   ",
        "🍎👩‍👩‍👧",
        "서울에서 먹은 사과",
        "\0\u{7}",
        "مرحبا بالعالم",
        "e\u{301}\u{301}",
        "<script>alert(1)</script>",
    ] {
        let a = engine.run(&[text]).unwrap_or_else(|e| panic!("{text:?}: {e}"));
        assert!(a.batch.sentences[0].input_ids.len() >= 2);
    }
    let long = "word ".repeat(10_000);
    let a = engine.run(&[long.as_str()]).unwrap();
    assert!(a.batch.sentences[0].truncated);
    assert_eq!(a.runs[0].attention.shape()[2], 512);
}

#[test]
fn bad_models_are_typed_errors() {
    let tokenizer = common::read("minilm-l6/tokenizer.json");
    let model = common::read(DEFAULT_CASE.model);
    let load = |bytes: &[u8]| Engine::new(bytes, &tokenizer, LoadOptions::default()).map(|_| ()).unwrap_err();
    assert!(matches!(load(&[]), Error::EmptyModel));
    assert!(matches!(load(&model[..model.len() / 2]), Error::NotOnnx(_)), "truncated");
    let png = [0x89, b'P', b'N', b'G', 0x0d, 0x0a, 0x1a, 0x0a, 0, 0, 0, 13, b'I', b'H', b'D', b'R'];
    let e = load(&png);
    assert!(matches!(e, Error::NotOnnx(_)), "png: {e}");
    assert!(!e.to_string().is_empty());
}

#[test]
fn a_graph_without_attention_is_refused_in_words() {
    // A tiny valid ONNX graph: input_ids -> Identity -> output. No Softmax, so nothing to show.
    let e = Model::from_bytes(&identity_onnx(&["input_ids", "attention_mask"]), LoadOptions::default()).unwrap_err();
    assert!(matches!(e, Error::NotBert(_)), "{e}");
    assert!(e.to_string().contains("Softmax"), "{e}");
    let e = Model::from_bytes(&identity_onnx(&["pixel_values"]), LoadOptions::default()).unwrap_err();
    assert!(e.to_string().contains("pixel_values"), "{e}");
}

#[test]
fn mismatched_tokenizer_is_refused() {
    let tiny_vocab = br###"{"version":"1.0","truncation":null,"padding":null,"added_tokens":[],"normalizer":null,
        "pre_tokenizer":{"type":"Whitespace"},"post_processor":null,"decoder":null,
        "model":{"type":"WordPiece","unk_token":"[UNK]","continuing_subword_prefix":"##","max_input_chars_per_word":100,
        "vocab":{"[PAD]":0,"[UNK]":1,"a":40000}}}"###;
    let e = Engine::new(&common::read(CASES[3].model), tiny_vocab, LoadOptions::default()).unwrap_err();
    assert!(matches!(e, Error::VocabMismatch { model: 30522, .. }), "{e}");
    let e =
        Engine::new(&common::read(CASES[3].model), b"{\"not\": \"a tokenizer\"}", LoadOptions::default()).unwrap_err();
    assert!(matches!(e, Error::Tokenizer(_)), "{e}");
}

/// Encodes a minimal ONNX model by hand (protobuf wire format): every input passed through Identity.
fn identity_onnx(inputs: &[&str]) -> Vec<u8> {
    fn field(tag: u8, bytes: &[u8]) -> Vec<u8> {
        let mut out = vec![tag];
        let mut len = bytes.len();
        loop {
            let b = (len & 0x7f) as u8;
            len >>= 7;
            if len == 0 {
                out.push(b);
                break;
            }
            out.push(b | 0x80);
        }
        out.extend_from_slice(bytes);
        out
    }
    let value_info = |name: &str| {
        // ValueInfoProto { name = 1, type = 2 { tensor_type = 1 { elem_type = 1: INT64 (7) } } }
        let tensor = [0x08, 7];
        [field(0x0a, name.as_bytes()), field(0x12, &field(0x0a, &tensor))].concat()
    };
    let mut graph = Vec::new();
    for name in inputs {
        let out = format!("{name}_out");
        let node = [field(0x0a, name.as_bytes()), field(0x12, out.as_bytes()), field(0x22, b"Identity")].concat();
        graph.extend(field(0x0a, &node));
    }
    graph.extend(field(0x12, b"g"));
    for name in inputs {
        graph.extend(field(0x5a, &value_info(name)));
        graph.extend(field(0x62, &value_info(&format!("{name}_out"))));
    }
    let opset = [field(0x0a, b""), vec![0x10, 14]].concat();
    [vec![0x08, 7], field(0x3a, &graph), field(0x42, &opset)].concat()
}

/// Regression inputs found by `scripts/fuzz`: each must end in a typed error, not a panic.
#[test]
fn fuzz_findings_are_typed_errors() {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/fuzz");
    for entry in std::fs::read_dir(&dir).unwrap() {
        let path = entry.unwrap().path();
        let bytes = std::fs::read(&path).unwrap();
        let name = path.file_name().unwrap().to_string_lossy().to_string();
        if name.starts_with("tokenizer-") {
            assert!(matches!(Tokenizer::from_json(&bytes, 512), Err(Error::Tokenizer(_))), "{name}");
        } else if name.starts_with("mutation-") {
            // The `mutated_model` target's input: 5-byte chunks (position, byte to xor) applied
            // to the tiny QInt8 DistilBERT.
            let mut model = common::read("distilbert-tiny-random/model_qint8.onnx");
            for chunk in bytes.chunks_exact(5) {
                let at = u32::from_le_bytes([chunk[0], chunk[1], chunk[2], chunk[3]]) as usize % model.len();
                model[at] ^= chunk[4];
            }
            let tokenizer = common::read("distilbert-tiny-random/tokenizer.json");
            let outcome = Engine::new(&model, &tokenizer, LoadOptions::default())
                .and_then(|engine| engine.run(&["Apple is huge enterprise", "I am eating an apple"]).map(|_| ()));
            assert!(outcome.is_err(), "{name}");
        } else {
            assert!(Model::from_bytes(&bytes, LoadOptions::default()).is_err(), "{name}");
        }
    }
}

/// A batch whose run needs more than the memory budget is refused in words before tract
/// allocates any of it (it used to abort on a failed allocation). The tiny DistilBERT needs a
/// few MiB per 512-token sentence, so one sentence more than the budget holds is refused, with
/// the estimate in the message, and one sentence still runs.
#[test]
fn a_run_over_the_memory_budget_is_refused_in_words() {
    let engine = Engine::new(
        &common::read("distilbert-tiny-random/model.onnx"),
        &common::read("distilbert-tiny-random/tokenizer.json"),
        LoadOptions::default(),
    )
    .unwrap();
    let info = engine.info();
    let long = "apple ".repeat(600);
    let per_sentence = bertscope_core::run_bytes(info, 1, info.max_tokens, false);
    let count = (bertscope_core::MEMORY_BUDGET_BYTES / per_sentence + 1) as usize;
    let texts = vec![long.as_str(); count];
    let needed = bertscope_core::run_bytes(info, count, info.max_tokens, false);
    assert!(needed > bertscope_core::MEMORY_BUDGET_BYTES);
    match engine.run(&texts) {
        Err(Error::OverBudget(message)) => assert_eq!(
            message,
            format!(
                "{count} sentences padded to {} tokens through {} layers of {} heads need about {} MiB, more than \
                 the 4096 MiB bertscope allows one run; give fewer or shorter sentences",
                info.max_tokens,
                info.layers,
                info.heads,
                needed >> 20
            )
        ),
        other => panic!("the run over the budget was not refused: {:?}", other.map(|_| ())),
    }
    assert_eq!(engine.run(&[long.as_str()]).unwrap().batch.seq_len, info.max_tokens);
}
