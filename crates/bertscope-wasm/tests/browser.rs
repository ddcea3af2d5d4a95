//! The engine compiled to wasm, through its JS-facing bindings, against every shared reference,
//! inside real browsers (`wasm-pack test --headless --chrome --firefox`). A wasm-only miscompile
//! (as seen once without simd128) cannot hide from these.
//!
//! Model and reference files come over HTTP from the fixture server `scripts/test` starts
//! (`BERTSCOPE_FIXTURES_URL` at build time, default `http://127.0.0.1:8766/`).
#![cfg(target_arch = "wasm32")]

use bertscope_core::kernel_bench as bench;
use bertscope_core::kernels::{gemm, qgemm};
use bertscope_testkit::{
    check_gemm, check_l1_from_mixtures, check_qgemm, fill_mask_entry, head_stats_diff, mixing_diff,
    pair_attention_diff, pair_encoding_diff, parse, parse_mixing, parse_pairs, verify, Case, Counting,
    HeadStatsObserved, HeadStatsRef, MixingObserved, MixingSentence, MixingTol, Observed, PairObserved, CASES,
    DEFAULT_CASE, MIXING_CASES, QUANTIZED_TINY_VS_FP32,
};
use bertscope_wasm::{BatchRun, Engine, FileBytes};
use js_sys::Uint8Array;
use serde::Deserialize;
use wasm_bindgen::{JsCast, JsValue};
use wasm_bindgen_futures::JsFuture;
use wasm_bindgen_test::*;

wasm_bindgen_test_configure!(run_in_browser);

const FIXTURES: &str = match option_env!("BERTSCOPE_FIXTURES_URL") {
    Some(url) => url,
    None => "http://127.0.0.1:8766/",
};

async fn fetch(path: &str) -> Vec<u8> {
    fetch_status(path).await.unwrap_or_else(|status| panic!("fetch {FIXTURES}{path}: HTTP {status}"))
}

/// The bytes at `path` of the fixture server, or the HTTP status it answered with.
async fn fetch_status(path: &str) -> Result<Vec<u8>, u16> {
    let url = format!("{FIXTURES}{path}");
    let window = web_sys::window().expect("tests run in a window");
    let response = JsFuture::from(window.fetch_with_str(&url)).await.unwrap_or_else(|e| panic!("fetch {url}: {e:?}"));
    let response: web_sys::Response = response.dyn_into().unwrap();
    if !response.ok() {
        return Err(response.status());
    }
    let buffer = JsFuture::from(response.array_buffer().unwrap()).await.unwrap();
    Ok(Uint8Array::new(&buffer).to_vec())
}

#[derive(Deserialize)]
struct Sentence {
    input_ids: Vec<u32>,
    attention_mask: Vec<u32>,
    token_type_ids: Vec<u32>,
    sentence_b_start: Option<usize>,
    tokens: Vec<String>,
    truncated: bool,
}

#[derive(Deserialize)]
struct Batch {
    sentences: Vec<Sentence>,
}

#[derive(Deserialize)]
struct Prediction {
    position: usize,
    candidates: Vec<(u32, String, f32)>,
}

fn observe(engine: &Engine, run: &BatchRun) -> Result<Vec<Observed>, String> {
    let batch: Batch = serde_wasm_bindgen::from_value(run.batch().map_err(js)?).map_err(|e| e.to_string())?;
    let shape = run.attention_shape();
    let hidden_shape = run.hidden_shape();
    let last_layer = (hidden_shape[0] as usize - 1) * (hidden_shape[1] * hidden_shape[2]) as usize;
    batch
        .sentences
        .into_iter()
        .enumerate()
        .map(|(i, s)| {
            let masks: Vec<Prediction> =
                serde_wasm_bindgen::from_value(engine.fill_mask(run, i, 10).map_err(js)?).map_err(|e| e.to_string())?;
            Ok(Observed {
                input_ids: s.input_ids,
                attention_mask: s.attention_mask,
                tokens: s.tokens,
                truncated: s.truncated,
                attention: run.attention(i).map_err(js)?.to_vec(),
                shape: [shape[0] as usize, shape[1] as usize, shape[2] as usize],
                last_hidden: run.hidden(i).map_err(js)?.to_vec()[last_layer..].to_vec(),
                fill_mask: masks.into_iter().map(|m| fill_mask_entry(m.position, &m.candidates)).collect(),
            })
        })
        .collect()
}

fn js(e: impl Into<JsValue>) -> String {
    let value: JsValue = e.into();
    value.dyn_ref::<js_sys::Error>().map(|e| String::from(e.message())).unwrap_or_else(|| format!("{value:?}"))
}

async fn check(case: &Case) {
    check_model(case, &fetch(case.model).await).await;
}

/// Runs every sentence of `case.reference` through `model` (with `case.tokenizer`) and checks it
/// against the reference within the case's tolerances.
async fn check_model(case: &Case, model: &[u8]) {
    // The engine's default in wasm: bertscope's packed kernels.
    let case = &case.with_kernel(true);
    let engine = Engine::new(model.to_vec(), &fetch(case.tokenizer).await, case.fill_mask)
        .unwrap_or_else(|e| panic!("{}: {}", case.model, js(e)));
    let reference = parse(&fetch(case.reference).await).unwrap();
    let report = verify(case, &reference, |texts| {
        let run = engine.run(texts.to_vec()).map_err(js)?;
        observe(&engine, &run)
    });
    console_log!("{}", case.model);
    for line in &report.lines {
        console_log!("  {line}");
    }
    assert!(report.failures.is_empty(), "{}:\n{}", case.model, report.failures.join("\n"));
}

/// `copyAttention` fills a reused buffer (here holding stale values) with exactly what `attention`
/// returns, and refuses a buffer of another length in words.
#[wasm_bindgen_test]
async fn attention_copied_into_a_reused_buffer() {
    let case = &CASES[3];
    let engine = Engine::new(fetch(case.model).await, &fetch(case.tokenizer).await, false).unwrap();
    let run = engine.run(vec!["Apple is huge enterprise".into(), "I am eating an apple".into()]).unwrap();
    for i in 0..run.count() {
        let fresh = run.attention(i).unwrap().to_vec();
        let reused = js_sys::Float32Array::new_with_length(fresh.len() as u32);
        reused.fill(f32::NAN, 0, fresh.len() as u32);
        run.copy_attention(i, &reused).unwrap();
        assert_eq!(reused.to_vec(), fresh, "sentence {i}");
    }
    let short = js_sys::Float32Array::new_with_length(3);
    let refused = js(run.copy_attention(0, &short).unwrap_err());
    assert!(refused.starts_with("the buffer holds 3 values and the attention "), "{refused}");
}

#[wasm_bindgen_test]
async fn minilm_weights_int8() {
    check(&CASES[0]).await;
}

#[wasm_bindgen_test]
async fn minilm_quint8() {
    check(&CASES[1]).await;
}

#[wasm_bindgen_test]
async fn minilm_qint8() {
    check(&CASES[2]).await;
}

#[wasm_bindgen_test]
async fn distilbert_tiny_fp32() {
    check(&CASES[3]).await;
}

#[wasm_bindgen_test]
async fn distilbert_tiny_quint8() {
    check(&CASES[4]).await;
}

#[wasm_bindgen_test]
async fn distilbert_tiny_qint8() {
    check(&CASES[5]).await;
}

#[wasm_bindgen_test]
async fn distilbert_tiny_mlm_fp32() {
    check(&CASES[6]).await;
}

#[wasm_bindgen_test]
async fn distilbert_tiny_mlm_quint8() {
    check(&CASES[7]).await;
}

/// Where `scripts/test` puts the native quantizer's output for the tiny fp32 DistilBERT
/// (`bertscope quantize`, served by the fixture server under `native/`).
const NATIVE_QUANTIZED_TINY: &str = "native/distilbert-tiny-random.weights_int8.onnx";

#[derive(Deserialize)]
struct QuantizeReport {
    input_bytes: usize,
    output_bytes: usize,
    tensors: Vec<QuantizedTensor>,
}

#[derive(Deserialize)]
struct QuantizedTensor {
    name: String,
    dims: [usize; 2],
}

/// The quantizer in wasm, through its bindings: the tiny fp32 DistilBERT quantized here is the
/// native quantizer's file byte for byte, and it agrees with the onnxruntime reference of the
/// fp32 file within the tolerance measured natively (bertscope-core/tests/quantize.rs).
#[wasm_bindgen_test]
async fn quantizer_matches_native_and_the_fp32_reference() {
    let fp32 = fetch(CASES[3].model).await;
    let fp32_len = fp32.len();
    let steps = std::rc::Rc::new(std::cell::RefCell::new(Vec::new()));
    let seen = steps.clone();
    let progress = wasm_bindgen::closure::Closure::<dyn FnMut(u32, u32)>::new(move |done: u32, total: u32| {
        seen.borrow_mut().push((done, total))
    });
    let quantized = bertscope_wasm::quantize(&FileBytes::from(fp32), progress.as_ref().unchecked_ref())
        .unwrap_or_else(|e| panic!("quantize: {}", js(e)));
    let bytes = quantized.bytes().to_vec();
    let report: QuantizeReport = serde_wasm_bindgen::from_value(quantized.report().unwrap()).unwrap();
    assert_eq!((report.input_bytes, report.output_bytes, report.tensors.len()), (fp32_len, bytes.len(), 14));
    assert_eq!(
        (report.tensors[0].name.as_str(), report.tensors[0].dims),
        ("embeddings.word_embeddings.weight", [30522, 64])
    );
    assert_eq!(*steps.borrow(), (0..=14).map(|done| (done, 14)).collect::<Vec<_>>(), "progress per tensor");

    let native = fetch(NATIVE_QUANTIZED_TINY).await;
    console_log!("quantized in wasm: {} -> {} bytes; native: {} bytes", fp32_len, bytes.len(), native.len());
    assert_eq!(bytes.len(), native.len(), "wasm and native quantized files differ in length");
    let first_difference = bytes.iter().zip(&native).position(|(a, b)| a != b);
    assert_eq!(first_difference, None, "wasm and native quantized files differ");

    check_model(&CASES[3].weight_only_int8(QUANTIZED_TINY_VS_FP32), &bytes).await;
}

/// Refusals arrive as plain JS errors: a file already quantized says what it is.
#[wasm_bindgen_test]
async fn quantizer_refuses_in_words() {
    let dynamic = fetch(CASES[4].model).await;
    let message = js(bertscope_wasm::quantize(&FileBytes::from(dynamic), &js_sys::Function::new_no_args(""))
        .err()
        .expect("a dynamic int8 file is refused"));
    assert!(message.starts_with("this model is already quantized: dynamic int8 (it has "), "{message}");
    let message = js(bertscope_wasm::quantize(
        &FileBytes::from(b"\x89PNG\r\n\x1a\n".to_vec()),
        &js_sys::Function::new_no_args(""),
    )
    .err()
    .expect("a PNG is refused"));
    assert!(message.contains("not a readable ONNX model"), "{message}");
}

#[wasm_bindgen_test]
async fn seed_batch_through_the_bindings() {
    let engine = Engine::new(fetch(CASES[0].model).await, &fetch(CASES[0].tokenizer).await, false).unwrap();
    let run = engine.run(vec!["Apple is huge enterprise".into(), "I am eating an apple".into()]).unwrap();
    let observed = observe(&engine, &run).unwrap();
    assert_eq!(observed[0].input_ids, [101, 6207, 2003, 4121, 6960, 102, 0]);
    assert_eq!(observed[1].input_ids, [101, 1045, 2572, 5983, 2019, 6207, 102]);
    assert_eq!(run.attention_shape(), [6, 12, 7, 7]);
    assert_eq!(run.hidden_shape(), [7, 7, 384]);
}

#[wasm_bindgen_test]
async fn errors_arrive_as_plain_js_errors() {
    let tokenizer = fetch(CASES[3].tokenizer).await;
    let message = js(Engine::new(Vec::new(), &tokenizer, false).err().expect("empty model refused"));
    assert!(message.contains("empty"), "{message}");
    let message = js(Engine::new(b"\x89PNG\r\n\x1a\n".to_vec(), &tokenizer, false).err().expect("png refused"));
    assert!(message.contains("not a readable ONNX model"), "{message}");
    let model = fetch(CASES[3].model).await;
    let message = js(Engine::new(model.clone(), b"not json", false).err().expect("bad tokenizer refused"));
    assert!(message.contains("tokenizer"), "{message}");
    let engine = Engine::new(model.clone(), &tokenizer, false).unwrap();
    let error_name = |e: JsValue| String::from(e.dyn_into::<js_sys::Error>().expect("an Error").name());
    assert_eq!(error_name(engine.run(vec![]).err().expect("no sentences refused")), "InputError");
    let bad_pair = engine.run(vec!["a | b | c".into()]).err().expect("a line of three parts refused");
    assert_eq!(error_name(bad_pair), "InputError", "a bad pair is the input's fault, not the model's");
    assert!(engine.run(vec!["🍎 서울 \u{0}".into()]).is_ok(), "odd text runs");
}

/// The bad-input rows of docs/RELIABILITY.md, through the bindings: text runs (or is cut, and says so);
/// broken files end in the engine's plain message.
#[wasm_bindgen_test]
async fn hostile_input_matrix() {
    let model = fetch(CASES[3].model).await;
    let tokenizer = fetch(CASES[3].tokenizer).await;
    let engine = Engine::new(model.clone(), &tokenizer, false).unwrap();
    let texts = [
        "",
        "   ",
        "👩‍👩‍👧 🍎",
        "مرحبا e\u{301}\u{301}",
        "서울 東京",
        "\0\u{7}\u{1b}",
        "<script>alert(1)</script>",
        "\"><img src=x onerror=alert(1)>",
    ];
    let run = engine.run(texts.iter().map(|t| t.to_string()).collect()).unwrap();
    let batch: Batch = serde_wasm_bindgen::from_value(run.batch().unwrap()).unwrap();
    assert_eq!(batch.sentences.len(), texts.len());
    for (sentence, text) in batch.sentences.iter().zip(texts) {
        let real = sentence.attention_mask.iter().filter(|&&m| m == 1).count();
        assert!(real >= 2, "{text:?} keeps at least [CLS] [SEP]");
        assert!(!sentence.truncated, "{text:?}");
    }
    let long = "word ".repeat(10_000);
    let run = engine.run(vec![long]).unwrap();
    let batch: Batch = serde_wasm_bindgen::from_value(run.batch().unwrap()).unwrap();
    assert!(batch.sentences[0].truncated);
    assert_eq!(batch.sentences[0].input_ids.len(), 512);

    let truncated =
        js(Engine::new(model[..model.len() / 2].to_vec(), &tokenizer, false).err().expect("truncated refused"));
    assert!(truncated.contains("not a readable ONNX model"), "{truncated}");
    let other_vocabulary = br###"{"version":"1.0","truncation":null,"padding":null,"added_tokens":[],"normalizer":null,
        "pre_tokenizer":{"type":"Whitespace"},"post_processor":null,"decoder":null,
        "model":{"type":"WordPiece","unk_token":"[UNK]","continuing_subword_prefix":"##","max_input_chars_per_word":100,
        "vocab":{"[PAD]":0,"[UNK]":1,"a":40000}}}"###;
    let mismatch = js(Engine::new(model.clone(), other_vocabulary, false).err().expect("other vocabulary refused"));
    assert!(mismatch.contains("do not match") && mismatch.contains("40001"), "{mismatch}");
}

#[derive(Deserialize)]
struct Drift {
    token_a: usize,
    token_b: usize,
    cosine: Vec<f32>,
}

#[derive(Deserialize)]
struct TokenMap {
    tokens: Vec<(usize, usize, String)>,
    points: Vec<[f32; 2]>,
}

#[wasm_bindgen_test]
async fn analyses_through_the_bindings() {
    let engine = Engine::new(fetch(CASES[0].model).await, &fetch(CASES[0].tokenizer).await, false).unwrap();
    let run = engine.run(vec!["Apple is huge enterprise".into(), "I am eating an apple".into()]).unwrap();
    let rollout = run.rollout(1).unwrap().to_vec();
    assert_eq!(rollout.len(), 6 * 7 * 7);
    for row in rollout.chunks(7) {
        assert!((row.iter().sum::<f32>() - 1.0).abs() < 1e-4, "rollout rows sum to 1");
    }
    let calls = std::rc::Rc::new(std::cell::Cell::new(0));
    let counter = calls.clone();
    let progress = wasm_bindgen::closure::Closure::<dyn FnMut(u32, u32)>::new(move |_: u32, _: u32| {
        counter.set(counter.get() + 1)
    });
    let flow = run.flow(0, progress.as_ref().unchecked_ref()).unwrap().to_vec();
    assert_eq!(flow.len(), 6 * 6, "flow covers the 6 real tokens of sentence 1");
    assert_eq!(calls.get(), 6, "one progress call per query row");
    let drift: Drift = serde_wasm_bindgen::from_value(run.drift(0, 1, "apple", 1).unwrap()).unwrap();
    assert_eq!((drift.token_a, drift.token_b), (1, 5));
    assert_eq!(drift.cosine.len(), 7);
    assert!(*drift.cosine.last().unwrap() < 0.999, "context moves apple: {:?}", drift.cosine);
    assert!(run.drift(0, 1, "banana", 1).unwrap().is_null());
    let map: TokenMap = serde_wasm_bindgen::from_value(run.token_map().unwrap()).unwrap();
    assert_eq!(map.tokens.len(), 6 + 7, "every real token, no padding");
    assert_eq!(map.points.len(), map.tokens.len());
    assert_eq!(map.tokens[1], (0, 1, "apple".to_string()));
}

/// The wasm engine's context mixing (bertscope's packed kernels with simd128, the page's) against
/// the Python reference (`tests/reference/mixing_reference.py`) for the default model: each
/// sentence alone and all as one padded batch, and the batch's head statistics. `scripts/test`
/// writes the reference and its fixture server serves it under `mixing-refs/`.
#[wasm_bindgen_test]
async fn mixing_matches_the_python_reference() {
    let case = &MIXING_CASES[0];
    let path = format!("mixing-refs/{}", case.reference);
    let bytes = fetch_status(&path).await.unwrap_or_else(|status| {
        panic!(
            "the mixing reference {FIXTURES}{path} is missing (HTTP {status}): scripts/test writes it with \
             tests/reference/mixing_reference.py and serves it with the models (serve.mjs --mount /mixing-refs=...)"
        )
    });
    let reference = parse_mixing(&bytes).unwrap();
    let engine = Engine::new(fetch(case.model).await, &fetch(case.tokenizer).await, false).unwrap();
    let texts: Vec<String> = reference.sentences.iter().map(|s| s.text.clone()).collect();
    let calls = std::rc::Rc::new(std::cell::Cell::new(0));
    let counter = calls.clone();
    let progress = wasm_bindgen::closure::Closure::<dyn FnMut(u32, u32)>::new(move |_: u32, _: u32| {
        counter.set(counter.get() + 1)
    });
    let mut worst = MixingTol::default();
    // Sentence `index` of `run` against reference sentence `want`.
    let mut compare = |run: &BatchRun, index: usize, want: &MixingSentence| {
        let batch: Batch = serde_wasm_bindgen::from_value(run.batch().unwrap()).unwrap();
        let sentence = &batch.sentences[index];
        let real = sentence.attention_mask.iter().filter(|&&m| m == 1).count();
        assert_eq!(sentence.input_ids[..real], want.input_ids, "{:?}", want.text);
        let m = engine.mixing(run, index, true, progress.as_ref().unchecked_ref()).unwrap();
        let measures = [m.norm_head().to_vec(), m.norm_layer().to_vec(), m.alti().to_vec(), m.alti_rollout().to_vec()];
        let observed = MixingObserved {
            tokens: m.shape()[2] as usize,
            norm_head: &measures[0],
            norm_layer: &measures[1],
            alti: &measures[2],
            alti_rollout: &measures[3],
        };
        let d = mixing_diff(want, &observed).unwrap_or_else(|e| panic!("{:?}: {e}", want.text));
        worst = worst.max(d);
    };
    for (text, want) in texts.iter().zip(&reference.sentences) {
        compare(&engine.run_with_mixing(vec![text.clone()]).unwrap(), 0, want);
    }
    let batch = engine.run_with_mixing(texts.clone()).unwrap();
    for (i, want) in reference.sentences.iter().enumerate() {
        compare(&batch, i, want);
    }
    let stats: Vec<Vec<HeadStatsRef>> = serde_wasm_bindgen::from_value(batch.head_stats().unwrap()).unwrap();
    let stats: Vec<Vec<HeadStatsObserved>> = stats
        .iter()
        .map(|layer| layer.iter().map(|h| (h.values().map(|v| v as f32), h.role.clone())).collect())
        .collect();
    let mean_log_n =
        reference.sentences.iter().map(|s| (s.input_ids.len() as f64).ln()).sum::<f64>() / texts.len() as f64;
    let (d, roles) = head_stats_diff(&reference.head_stats, &stats, mean_log_n, 1e-3).unwrap();
    worst.head_stats = d;
    console_log!("{} in the browser, largest difference from the reference: {worst}", case.model);
    assert!(roles.is_empty(), "{}", roles.join("\n"));
    assert_eq!(calls.get(), 2 * texts.len() * reference.layers, "one progress call per layer");
    let over = worst.exceeding(&case.packed_tol);
    assert!(over.is_empty(), "{}: {}", case.model, over.join("; "));
}

fn packed_gemm(a: &[f32], m: usize, b: &[f32], k: usize, n: usize, bias: Option<&[f32]>) -> Vec<f32> {
    let mut c = vec![f32::NAN; m * n];
    gemm::gemm(a, m, &gemm::PackedB::pack(b, k, n), bias, &mut c);
    c
}

/// The simd128 GEMM kernel against the plain triple loop, on the same cases as natively.
#[wasm_bindgen_test]
fn gemm_matches_the_triple_loop() {
    let failures = check_gemm(&packed_gemm);
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

fn quantized_gemm(a: &[f32], m: usize, b: &[f32], k: usize, n: usize, bias: Option<&[f32]>) -> Vec<f32> {
    let weights = qgemm::QuantizedB::detect(b, k, n).expect("whole steps are detected");
    let mut c = vec![f32::NAN; m * n];
    qgemm::qgemm(a, m, &weights, bias, &mut c);
    c
}

/// The simd128 integer GEMM kernel against the plain triple loop, on the same cases as natively.
#[wasm_bindgen_test]
fn qgemm_matches_the_triple_loop() {
    let failures = check_qgemm(&quantized_gemm);
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

fn mixture_l1(targets: &[f32], weights: &[f32], vectors: &[f32], width: usize, parts: usize, rows: usize) -> Vec<f32> {
    let mut out = vec![f32::NAN; rows];
    bertscope_core::kernels::mixture::l1_from_mixtures(targets, weights, vectors, width, parts, &mut out);
    out
}

/// The simd128 ALTI distance kernel against its definition, on the same cases as natively.
#[wasm_bindgen_test]
fn l1_from_mixtures_matches_the_definition() {
    let failures = check_l1_from_mixtures(&mixture_l1);
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

/// Micro-benchmark, not a test of speed: prints tract's and our GEMMs at the model's shapes.
#[wasm_bindgen_test]
fn gemm_speed() {
    let performance = js_sys::Reflect::get(&js_sys::global(), &"performance".into()).unwrap();
    let now_fn: js_sys::Function = js_sys::Reflect::get(&performance, &"now".into()).unwrap().into();
    let now = move || now_fn.call0(&performance).unwrap().as_f64().unwrap();
    console_log!("gemm {}", bench::GemmTiming::HEADER);
    for (m, k, n) in bench::MODEL_SHAPES {
        let t = bench::compare(m, k, n, 200.0, &now).unwrap();
        console_log!("gemm {}", t.row());
        assert!(t.max_diff < 1e-3, "tract and the f32 kernel disagree by {}", t.max_diff);
        assert!(t.int_max_diff < 1e-3, "tract and the int16 kernel disagree by {}", t.int_max_diff);
    }
}

#[global_allocator]
static ALLOCATOR: Counting = Counting;

/// wasm linear memory in bytes (it only grows, so this is the peak so far).
fn wasm_memory_bytes() -> f64 {
    let memory: js_sys::WebAssembly::Memory = wasm_bindgen::memory().unchecked_into();
    memory.buffer().unchecked_into::<js_sys::ArrayBuffer>().byte_length() as f64
}

/// Benchmark, not a test of size: prints peak wasm memory after load, after a 512-token run and
/// after a second batch size's plan, and that plan's build time. Every test shares one instance,
/// so run it alone for the peak (`-- --nocapture model_memory`). It checks the batch-2 plan gives
/// the batch-1 attention.
#[wasm_bindgen_test]
async fn model_memory() {
    let performance = js_sys::Reflect::get(&js_sys::global(), &"performance".into()).unwrap();
    let now_fn: js_sys::Function = js_sys::Reflect::get(&performance, &"now".into()).unwrap().into();
    let now = move || now_fn.call0(&performance).unwrap().as_f64().unwrap();
    let mb = |bytes: f64| bytes / 1e6;
    let live =
        || format!("live {:.0} MB, phase peak live {:.0} MB", mb(Counting::live() as f64), mb(Counting::peak() as f64));
    let (model, tokenizer) = (fetch(CASES[0].model).await, fetch(CASES[0].tokenizer).await);
    console_log!("memory before load: {:.0} MB", mb(wasm_memory_bytes()));
    Counting::phase();
    let start = now();
    // The engine takes the file, as from JavaScript, and frees it once decoded.
    let engine = Engine::new(model, &tokenizer, false).unwrap();
    engine.prepare(1).unwrap();
    console_log!("load + plan for 1: {:.0} ms, memory {:.0} MB ({})", now() - start, mb(wasm_memory_bytes()), live());
    drop(tokenizer);
    Counting::phase();
    let long = engine.run(vec!["word ".repeat(600)]).unwrap();
    console_log!("after a 512-token run: memory {:.0} MB ({}, result held)", mb(wasm_memory_bytes()), live());
    drop(long);
    let text = "Apple is huge enterprise".to_string();
    let alone = engine.run(vec![text.clone()]).unwrap().attention(0).unwrap().to_vec();
    Counting::phase();
    let start = now();
    engine.prepare(2).unwrap();
    console_log!("plan for batch 2: {:.0} ms, memory {:.0} MB ({})", now() - start, mb(wasm_memory_bytes()), live());
    let pair = engine.run(vec![text.clone(), text]).unwrap();
    for i in 0..2 {
        let batched = pair.attention(i).unwrap().to_vec();
        assert_eq!(batched.len(), alone.len());
        let diff = batched.iter().zip(&alone).map(|(a, b)| (a - b).abs()).fold(0.0, f32::max);
        assert!(diff < 1e-5, "sentence {i} of the pair differs from the single run by {diff}");
    }
    console_log!("after a batch-2 run: memory {:.0} MB", mb(wasm_memory_bytes()));
}

fn observed(s: &Sentence) -> PairObserved<'_> {
    PairObserved {
        input_ids: &s.input_ids,
        token_type_ids: &s.token_type_ids,
        tokens: &s.tokens,
        truncated: s.truncated,
        sentence_b_start: s.sentence_b_start,
    }
}

/// Sentence pairs (`A | B`) on the default model: ids, token_type_ids and tokens as the Python
/// `tokenizers` library encodes the pair, and attention as onnxruntime computes it with those type
/// ids, alone and padded in a batch. `scripts/test` writes the reference with
/// tests/reference/pair_reference.py and its fixture server serves it under `pair-refs/`.
#[wasm_bindgen_test]
async fn pairs_match_the_python_reference() {
    let bytes = fetch_status("pair-refs/pairs.json").await.unwrap_or_else(|status| {
        panic!(
            "the pair reference {FIXTURES}pair-refs/pairs.json is missing (HTTP {status}): scripts/test writes it with \
             tests/reference/pair_reference.py and serves it with the models (serve.mjs --mount /pair-refs=...)"
        )
    });
    let reference = parse_pairs(&bytes).unwrap();
    let model = reference.models.iter().find(|m| m.model == DEFAULT_CASE.model).expect("the default model's pairs");
    let tol = DEFAULT_CASE.with_kernel(true).attention_tol;
    let engine = Engine::new(fetch(&model.model).await, &fetch(&model.tokenizer).await, false).unwrap();
    let sentences = |run: &BatchRun| -> Vec<Sentence> {
        serde_wasm_bindgen::from_value::<Batch>(run.batch().unwrap()).unwrap().sentences
    };
    for entry in &model.pairs {
        let run = engine.run(vec![entry.line()]).map_err(js).unwrap();
        let wrong = pair_encoding_diff(observed(&sentences(&run)[0]), entry);
        assert!(wrong.is_empty(), "{}", wrong.join("\n"));
        let diff = pair_attention_diff(&run.attention(0).unwrap().to_vec(), &entry.flat_attentions().unwrap()).unwrap();
        console_log!("pair {:?}: attention within {diff:.2e}", entry.line());
        assert!(diff <= tol, "{:?}: attention differs by {diff} (tolerance {tol})", entry.line());
    }
    let batch = &model.batch;
    let run = engine.run(batch.lines()).map_err(js).unwrap();
    for (i, s) in sentences(&run).iter().enumerate() {
        assert_eq!(s.input_ids, batch.input_ids[i], "batch entry {i}");
        assert_eq!(s.token_type_ids, batch.token_type_ids[i], "batch entry {i}");
        assert_eq!(s.attention_mask, batch.attention_mask[i], "batch entry {i}");
        let diff = pair_attention_diff(&run.attention(i).unwrap().to_vec(), &batch.flat_attentions(i)).unwrap();
        console_log!("batch entry {i}: attention within {diff:.2e}");
        assert!(diff <= tol, "batch entry {i}: attention differs by {diff} (tolerance {tol})");
    }
    let error = engine.run(vec!["fine".into(), "a | ".into()]).map(|_| ()).map_err(js).unwrap_err();
    assert!(error.starts_with("sentence 2 has nothing after its “|”"), "{error}");
}
