//! Context mixing (issue 14): norm-based attention, ALTI, ALTI rollout and head roles, natively.
//!
//! Against the independent Python reference (`tests/reference/mixing_reference.py`: tensors found
//! by the exporters' node names, onnxruntime, every measure naively in float64), whose files
//! `scripts/test` writes once per run into `$BERTSCOPE_MIXING_REFS`. Those tests need Python, so
//! a plain `cargo test` lists them as ignored; `scripts/test` runs them with `--ignored`, and
//! without `BERTSCOPE_MIXING_REFS` they fail, saying what to run. The bounds are
//! `bertscope_testkit::MIXING_CASES`, measured (docs/ENGINE.md, "Context mixing against its
//! reference").
//!
//! Without Python, on every shared model: the decomposition adds up to the residual sum the model
//! computed, rows of ALTI and its rollout sum to 1, a padded batch gives each sentence its numbers
//! alone, and graphs whose mixing anatomy cannot be read give `Error::Mixing` in words.

mod common;

use std::path::PathBuf;

use bertscope_core::analysis::{self, HeadRoles, Mixing, MixingInput};
use bertscope_core::{BatchRun, Engine, Error, LoadOptions, MatMulKernel};
use bertscope_testkit::{
    head_stats_diff, mixing_diff, parse_mixing, HeadStatsObserved, MixingCase, MixingObserved, MixingReference,
    MixingTol, MIXING_CASES,
};
use prost::Message;
use tract_onnx::pb::{ModelProto, NodeProto};

use common::read;

/// The folder of the Python reference's files.
fn references_dir() -> PathBuf {
    std::env::var_os("BERTSCOPE_MIXING_REFS").map(PathBuf::from).unwrap_or_else(|| {
        panic!(
            "BERTSCOPE_MIXING_REFS is not set: point it at the folder that `python \
             tests/reference/mixing_reference.py generate MODELS_DIR OUT_DIR` writes (scripts/test does this)"
        )
    })
}

fn reference(case: &MixingCase) -> MixingReference {
    let path = references_dir().join(case.reference);
    let bytes = std::fs::read(&path).unwrap_or_else(|e| panic!("cannot read {}: {e}", path.display()));
    parse_mixing(&bytes).unwrap()
}

fn engine(model: &str, tokenizer: &str, matmul: MatMulKernel) -> Engine {
    let options = LoadOptions { matmul, ..Default::default() };
    Engine::new(&read(model), &read(tokenizer), options).unwrap_or_else(|e| panic!("{model}: {e}"))
}

/// Every sentence's measures of a run made with `run_with_mixing`.
fn measure(engine: &Engine, run: &BatchRun) -> Vec<Mixing> {
    let layers = engine.mixing_layers().unwrap();
    run.batch
        .sentences
        .iter()
        .zip(&run.runs)
        .map(|(sentence, r)| {
            let taps = r.mixing.as_ref().expect("a mixing run reads the taps");
            let input = MixingInput { attention: &r.attention, hidden: &r.hidden, taps, tokens: sentence.len };
            analysis::mixing(input, layers, analysis::Measures::NormsAndAlti, |_, _| {})
        })
        .collect()
}

fn observed(m: &Mixing) -> MixingObserved<'_> {
    MixingObserved {
        tokens: m.shape()[2],
        norm_head: m.norm_head(),
        norm_layer: m.norm_layer(),
        alti: m.alti(),
        alti_rollout: m.alti_rollout(),
    }
}

fn head_stats(roles: &HeadRoles) -> Vec<Vec<HeadStatsObserved>> {
    roles
        .stats()
        .iter()
        .map(|layer| {
            layer
                .iter()
                .map(|s| {
                    let role = serde_json::to_value(s.role).unwrap().as_str().unwrap().to_string();
                    ([s.cls, s.sep, s.prev, s.next, s.own, s.punct, s.entropy], role)
                })
                .collect()
        })
        .collect()
}

/// Roles are compared unless a deciding statistic is this close to its threshold.
const ROLE_MARGIN: f64 = 1e-3;

/// Every reference sentence alone and all of them as one padded batch, through bertscope with
/// `matmul` products: the largest differences from the reference (and the head statistics').
fn agreement(case: &MixingCase, matmul: MatMulKernel) -> MixingTol {
    let reference = reference(case);
    assert_eq!(reference.file, case.model, "the reference is of {}", reference.file);
    let engine = engine(case.model, case.tokenizer, matmul);
    assert_eq!((engine.info().layers, engine.info().heads), (reference.layers, reference.heads));
    let texts: Vec<&str> = reference.sentences.iter().map(|s| s.text.as_str()).collect();
    let mut worst = MixingTol::default();
    let mut roles = HeadRoles::new(reference.layers, reference.heads);
    let mut log_n = 0.0;
    for (text, want) in texts.iter().zip(&reference.sentences) {
        let run = engine.run_with_mixing(&[text]).unwrap();
        let sentence = &run.batch.sentences[0];
        assert_eq!(sentence.input_ids, want.input_ids, "{text:?}: bertscope tokenizes it otherwise");
        let m = &measure(&engine, &run)[0];
        let d = mixing_diff(want, &observed(m)).unwrap_or_else(|e| panic!("{text:?}: {e}"));
        let mut alone = HeadRoles::new(reference.layers, reference.heads);
        alone.add(&run.runs[0].attention, sentence);
        let n = want.input_ids.len() as f64;
        let (stats, wrong) = head_stats_diff(&want.head_stats, &head_stats(&alone), n.ln(), ROLE_MARGIN).unwrap();
        assert!(wrong.is_empty(), "{text:?}:\n{}", wrong.join("\n"));
        let d = MixingTol { head_stats: stats, ..d };
        println!("  {:<40} n={:<3} {d}", format!("{text:.40?}"), want.input_ids.len());
        worst = worst.max(d);
        roles.add(&run.runs[0].attention, sentence);
        log_n += n.ln();
    }
    let mean_log_n = log_n / texts.len() as f64;
    let (stats, wrong) = head_stats_diff(&reference.head_stats, &head_stats(&roles), mean_log_n, ROLE_MARGIN).unwrap();
    assert!(wrong.is_empty(), "{}: averaged head roles:\n{}", case.model, wrong.join("\n"));
    worst.head_stats = worst.head_stats.max(stats);

    // The same sentences as one padded batch: each over its own tokens.
    let run = engine.run_with_mixing(&texts).unwrap();
    for ((m, want), text) in measure(&engine, &run).iter().zip(&reference.sentences).zip(&texts) {
        let d = mixing_diff(want, &observed(m)).unwrap_or_else(|e| panic!("{text:?} in the batch: {e}"));
        worst = worst.max(d);
    }
    println!("{} ({matmul:?} products), largest: {worst}", case.model);
    worst
}

fn check(case: &MixingCase, matmul: MatMulKernel, bound: &MixingTol) {
    let worst = agreement(case, matmul);
    let over = worst.exceeding(bound);
    assert!(over.is_empty(), "{} ({matmul:?}): {}", case.model, over.join("; "));
}

#[test]
#[ignore = "needs BERTSCOPE_MIXING_REFS (scripts/test makes them with Python)"]
fn default_model_agrees_with_the_python_reference() {
    check(&MIXING_CASES[0], MatMulKernel::Tract, &MIXING_CASES[0].tol);
}

#[test]
#[ignore = "needs BERTSCOPE_MIXING_REFS (scripts/test makes them with Python)"]
fn tiny_distilberts_agree_with_the_python_reference() {
    for case in &MIXING_CASES[1..3] {
        check(case, MatMulKernel::Tract, &case.tol);
    }
}

#[test]
#[ignore = "needs BERTSCOPE_MIXING_REFS (scripts/test makes them with Python)"]
fn distilbert_base_size_agrees_with_the_python_reference() {
    check(&MIXING_CASES[3], MatMulKernel::Tract, &MIXING_CASES[3].tol);
}

/// The browser's kernels (bertscope's packed products, run here as portable loops).
#[test]
#[ignore = "needs BERTSCOPE_MIXING_REFS (scripts/test makes them with Python)"]
fn packed_kernels_agree_with_the_python_reference() {
    for case in MIXING_CASES {
        check(case, MatMulKernel::Packed, &case.packed_tol);
    }
}

/// Every shared ONNX file and its tokenizer.
const EVERY_MODEL: &[(&str, &str)] = &[
    ("minilm-l6/model_weights_int8.onnx", "minilm-l6/tokenizer.json"),
    ("minilm-l6/model_quantized.onnx", "minilm-l6/tokenizer.json"),
    ("minilm-l6/model_qint8.onnx", "minilm-l6/tokenizer.json"),
    ("distilbert-tiny-random/model.onnx", "distilbert-tiny-random/tokenizer.json"),
    ("distilbert-tiny-random/model_quantized.onnx", "distilbert-tiny-random/tokenizer.json"),
    ("distilbert-tiny-random/model_qint8.onnx", "distilbert-tiny-random/tokenizer.json"),
    ("distilbert-tiny-random-mlm/model.onnx", "distilbert-tiny-random-mlm/tokenizer.json"),
    ("distilbert-tiny-random-mlm/model_quantized.onnx", "distilbert-tiny-random-mlm/tokenizer.json"),
    ("distilbert-base-random/model_weights_int8.onnx", "distilbert-base-random/tokenizer.json"),
    ("distilbert-base-random/model_quantized.onnx", "distilbert-base-random/tokenizer.json"),
];

const SENTENCES: [&str; 4] =
    ["Apple is huge enterprise", "I am eating an apple", "The bank raised its interest rates.", "   "];

/// Reconstruction bound where the model multiplies by `W_O` in f32 (fp32 files, and weight-only
/// int8 with tract's products): float rounding only. Measured: 1.1e-6 (MiniLM, whose residual
/// sums reach 10.6), 8.3e-7 (DistilBERT-base size), 1.2e-7 (tiny).
const RECONSTRUCTION_F32: f32 = 1e-5;

/// Reconstruction bound for weight-only int8 with bertscope's packed kernels, which multiply in
/// integers after rounding each activation to 1/65534 of the largest in its block of 64
/// (`INTEGER_PRODUCTS_TOL`): the model's own product is that far from the f32 one. Measured:
/// 7.0e-5 (MiniLM), 2.1e-5 (DistilBERT-base size).
const RECONSTRUCTION_PACKED: f32 = 3e-4;

/// How closely a dynamically quantized model's reconstruction error must equal the gap its
/// context quantization predicts ([`context_quantization_gap`]), as a fraction of that gap.
/// Measured: within 3e-7 (2.6e-4 of the gap) on every dynamic int8 file, both kernels.
const GAP_AGREEMENT: f32 = 1e-3;

/// Largest `|row sum − 1|` of `[layer][i][j]` matrices of `n × n`.
fn row_sum_error(matrices: &[f32], n: usize) -> f32 {
    matrices.chunks_exact(n).map(|row| (row.iter().sum::<f32>() - 1.0).abs()).fold(0.0, f32::max)
}

/// Per layer, how far a dynamically quantized model's own `W_O` product is from the f32 one the
/// decomposition adds up: the export quantizes the attention's output (the context
/// `Σ_j α^h_ij v^h_j`, over the whole padded batch: one scale per tensor) to uint8 with
/// `DynamicQuantizeLinear` before multiplying, so its residual sum is off by
/// `Σ_k (context_ik − dequantized_ik) W_O[k, :]`. Computed here from the run's own values and
/// attention, as the ONNX operator defines it, over each sentence's real tokens.
fn context_quantization_gap(engine: &Engine, run: &BatchRun) -> Vec<f32> {
    let layers = engine.mixing_layers().unwrap();
    let (heads, width) = (engine.info().heads, engine.info().hidden_size);
    let (dh, s) = (width / heads, run.batch.seq_len);
    layers
        .iter()
        .enumerate()
        .map(|(l, constants)| {
            // The context of every row of the batch, [sentence][token][head · dh].
            let contexts: Vec<Vec<f32>> = run
                .runs
                .iter()
                .map(|r| {
                    let values = &r.mixing.as_ref().unwrap().values[l * s * width..(l + 1) * s * width];
                    let mut context = vec![0.0f32; s * width];
                    for h in 0..heads {
                        for i in 0..s {
                            let alpha = r.attention.row(l, h, i);
                            for (j, a) in alpha.iter().enumerate() {
                                let v = &values[(h * s + j) * dh..(h * s + j + 1) * dh];
                                let out = &mut context[i * width + h * dh..i * width + (h + 1) * dh];
                                out.iter_mut().zip(v).for_each(|(o, v)| *o += a * v);
                            }
                        }
                    }
                    context
                })
                .collect();
            let all = contexts.iter().flatten();
            let (low, high) = all.fold((0.0f32, 0.0f32), |(lo, hi), &c| (lo.min(c), hi.max(c)));
            let scale = (high - low) / 255.0;
            let zero = (-low / scale).round_ties_even().clamp(0.0, 255.0);
            let dequantized = |c: f32| ((c / scale).round_ties_even() + zero).clamp(0.0, 255.0) * scale - zero * scale;
            let mut gap = 0.0f32;
            for (context, sentence) in contexts.iter().zip(&run.batch.sentences) {
                for row in context.chunks_exact(width).take(sentence.len) {
                    let error: Vec<f32> = row.iter().map(|&c| c - dequantized(c)).collect();
                    for c in 0..width {
                        let g: f32 =
                            error.iter().enumerate().map(|(k, e)| e * constants.output_weight[k * width + c]).sum();
                        gap = gap.max(g.abs());
                    }
                }
            }
            gap
        })
        .collect()
}

/// The self-check of the issue, `Σ_j z_ij + b_O = pre_i` as the model computes it, on every shared
/// model with both kernels, and rows of ALTI and its rollout summing to 1 with no negative share.
#[test]
fn the_decomposition_adds_up_and_alti_rows_sum_to_one_on_every_shared_model() {
    for &(model, tokenizer) in EVERY_MODEL {
        for matmul in [MatMulKernel::Tract, MatMulKernel::Packed] {
            let engine = engine(model, tokenizer, matmul);
            let run = engine.run_with_mixing(&SENTENCES).unwrap();
            let measures = measure(&engine, &run);
            let layers = engine.info().layers;
            let dynamic = engine.info().quantization.starts_with("dynamic int8");
            let bounds = if dynamic {
                context_quantization_gap(&engine, &run)
            } else if matmul == MatMulKernel::Packed && engine.info().quantization.starts_with("weight-only") {
                vec![RECONSTRUCTION_PACKED; layers]
            } else {
                vec![RECONSTRUCTION_F32; layers]
            };
            let (mut error, mut rows) = (vec![0.0f32; layers], 0.0f32);
            for m in &measures {
                let n = m.shape()[2];
                error.iter_mut().zip(m.reconstruction_error()).for_each(|(e, r)| *e = e.max(*r));
                rows = rows.max(row_sum_error(m.alti(), n)).max(row_sum_error(m.alti_rollout(), n));
                let every = [m.norm_head(), m.norm_layer(), m.alti(), m.alti_rollout()];
                assert!(
                    every.iter().all(|v| v.iter().all(|x| x.is_finite() && *x >= 0.0)),
                    "{model}: a negative share"
                );
            }
            let sci = |v: &[f32]| v.iter().map(|x| format!("{x:.1e}")).collect::<Vec<_>>().join(" ");
            println!(
                "{model} ({matmul:?}): reconstruction per layer {} (bounds {}); rows sum to 1 ± {rows:.1e}",
                sci(&error),
                sci(&bounds)
            );
            for (l, (e, b)) in error.iter().zip(&bounds).enumerate() {
                if dynamic {
                    let off = (e - b).abs();
                    println!("   layer {l}: |error − gap| = {off:.2e} ({:.2e} of the gap)", off / b);
                    assert!(
                        off <= GAP_AGREEMENT * b + RECONSTRUCTION_F32,
                        "{model} ({matmul:?}) layer {l}: Σ_j z_ij + b_O is {e:.3e} from the residual sum, but \
                         the context's quantization explains {b:.3e}"
                    );
                } else {
                    assert!(e <= b, "{model} ({matmul:?}) layer {l}: Σ_j z_ij + b_O is {e:.2e} from the residual sum");
                }
            }
            assert!(rows < 1e-5, "{model} ({matmul:?}): a row of ALTI or its rollout sums to 1 ± {rows:.1e}");
        }
    }
}

/// Sentences of different lengths as one padded batch give each sentence the numbers it gets
/// alone (largest absolute difference of any measure; measured with tract's products: 4.1e-6 MiniLM,
/// 7.1e-6 DistilBERT-base size, 5.4e-7 tiny).
/// Not for dynamically quantized files: one activation scale per tensor makes a sentence's
/// numbers depend on its batch, in the model itself.
const BATCH_VS_ALONE: f32 = 2e-5;

/// The same for bertscope's packed kernels on weight-only int8 files: padding moves activations
/// by float rounding (~1e-6), which flips some of the integer products' roundings (1/65534 of a
/// block's largest activation): the whole run, attention included, moves by about
/// `INTEGER_PRODUCTS_TOL`. Measured on the default model: 4.4e-4 (norms, which reach 7), 3.1e-5 (ALTI).
const BATCH_VS_ALONE_PACKED_STEPS: f32 = 1e-3;

#[test]
fn a_padded_batch_gives_each_sentence_its_numbers_alone() {
    let models = [EVERY_MODEL[0], EVERY_MODEL[3], EVERY_MODEL[6], EVERY_MODEL[8]];
    for (model, tokenizer) in models {
        for matmul in [MatMulKernel::Tract, MatMulKernel::Packed] {
            let engine = engine(model, tokenizer, matmul);
            let batch = engine.run_with_mixing(&SENTENCES).unwrap();
            assert!(batch.batch.sentences.iter().any(|s| s.len < batch.batch.seq_len), "some sentence is padded");
            let mut worst = 0.0f32;
            for (text, together) in SENTENCES.iter().zip(measure(&engine, &batch)) {
                let alone = measure(&engine, &engine.run_with_mixing(&[text]).unwrap()).remove(0);
                assert_eq!(together.shape(), alone.shape(), "{model}: {text:?}");
                let pairs = [
                    (together.norm_head(), alone.norm_head()),
                    (together.norm_layer(), alone.norm_layer()),
                    (together.alti(), alone.alti()),
                    (together.alti_rollout(), alone.alti_rollout()),
                ];
                worst = pairs.iter().map(|(a, b)| bertscope_testkit::max_abs_diff(a, b)).fold(worst, f32::max);
            }
            let steps = engine.info().quantization.starts_with("weight-only");
            let bound =
                if matmul == MatMulKernel::Packed && steps { BATCH_VS_ALONE_PACKED_STEPS } else { BATCH_VS_ALONE };
            println!("{model} ({matmul:?}): batch vs alone {worst:.1e} (bound {bound:.0e})");
            assert!(worst <= bound, "{model} ({matmul:?}): padded batch and single runs differ by {worst:.2e}");
        }
    }
}

const TINY: (&str, &str) = ("distilbert-tiny-random/model.onnx", "distilbert-tiny-random/tokenizer.json");

/// The tiny DistilBERT's graph, changed by `edit`, as ONNX bytes.
fn tiny_edited(edit: impl FnOnce(&mut Vec<NodeProto>)) -> Vec<u8> {
    let mut model = ModelProto::decode(read(TINY.0).as_slice()).expect("an ONNX model");
    edit(&mut model.graph.as_mut().unwrap().node);
    model.encode_to_vec()
}

fn node_named<'a>(nodes: &'a mut [NodeProto], name: &str) -> &'a mut NodeProto {
    nodes.iter_mut().find(|n| n.name == name).unwrap_or_else(|| panic!("no node {name}"))
}

/// What a graph gives when asked for context mixing: the engine loads and shows attention, and
/// mixing is refused with `Error::Mixing`, whose message is returned.
fn mixing_refusal(bytes: &[u8]) -> String {
    let engine = Engine::new(bytes, &read(TINY.1), LoadOptions::default()).expect("the graph still loads");
    engine.run(&SENTENCES[..2]).expect("and still shows attention");
    let refused = engine.run_with_mixing(&SENTENCES[..2]).expect_err("mixing is refused");
    let message = refused.to_string();
    assert!(matches!(refused, Error::Mixing(_)), "{message}");
    assert!(matches!(engine.mixing_layers(), Err(Error::Mixing(m)) if message.ends_with(&m)), "{message}");
    message
}

const L0: &str = "/transformer/layer.0";

#[test]
fn a_graph_hiding_the_mixing_anatomy_gets_a_plain_refusal() {
    // The LayerNorm reads the output projection directly: no residual sum.
    let no_residual = tiny_edited(|nodes| {
        for name in ["sa_layer_norm/ReduceMean", "sa_layer_norm/Sub"] {
            node_named(nodes, &format!("{L0}/{name}")).input[0] = format!("{L0}/attention/out_lin/Add_output_0");
        }
    });
    // The LayerNorm's scale is not a constant.
    let no_gamma = tiny_edited(|nodes| {
        let mul = node_named(nodes, &format!("{L0}/sa_layer_norm/Mul"));
        mul.input[1] = mul.input[0].clone();
    });
    // Something else reads the attention's output before its projection.
    let shared_context = tiny_edited(|nodes| {
        nodes.push(NodeProto {
            name: "extra".into(),
            op_type: "Identity".into(),
            input: vec![format!("{L0}/attention/MatMul_1_output_0")],
            output: vec!["extra_output".into()],
            ..Default::default()
        })
    });
    // No product of the attention with values at all (the values go on unweighted).
    let no_values_product = tiny_edited(|nodes| {
        nodes.retain(|n| n.name != format!("{L0}/attention/MatMul_1"));
        node_named(nodes, &format!("{L0}/attention/Transpose_3")).input[0] =
            format!("{L0}/attention/Transpose_1_output_0");
    });
    for (bytes, expected) in [
        (no_residual, "layer 1: no residual sum follows the attention's output projection"),
        (no_gamma, "layer 1: the LayerNorm after the attention could not be read"),
        (shared_context, "layer 1: the attention's output is read by more than one node"),
        (no_values_product, "layer 1: no product of the attention with the values follows its Softmax"),
    ] {
        let message = mixing_refusal(&bytes);
        println!("{message}");
        assert_eq!(message, format!("context mixing cannot be measured for this model: {expected}"));
    }
}

/// Every node from layer 1's Softmax to its LayerNorm's output, one at a time, becomes an
/// `Identity` of its first input: whatever the engine makes of the graph (a refusal at load, a
/// plain engine that refuses mixing, or measures of what the graph now computes), it answers in
/// values or typed errors and never panics. A LayerNorm missing any step of its chain is refused
/// (ALTI's formula holds for a LayerNorm only); without its final `+ β` it is still one, with
/// `β = 0`.
#[test]
fn breaking_any_node_between_attention_and_layer_norm_never_panics() {
    let all = ModelProto::decode(read(TINY.0).as_slice()).unwrap().graph.unwrap().node;
    let start = all.iter().position(|n| n.name == format!("{L0}/attention/Softmax")).unwrap();
    let end = all.iter().position(|n| n.name == format!("{L0}/sa_layer_norm/Add_1")).unwrap();
    let mut panicked = Vec::new();
    for node in all[start..=end].iter().filter(|n| n.op_type != "Constant") {
        let bytes = tiny_edited(|nodes| {
            let broken = node_named(nodes, &node.name);
            broken.op_type = "Identity".into();
            broken.input.truncate(1);
            broken.attribute.clear();
        });
        let outcome = std::panic::catch_unwind(|| {
            let engine = Engine::new(&bytes, &read(TINY.1), LoadOptions::default())?;
            let run = engine.run_with_mixing(&SENTENCES)?;
            assert_eq!(measure(&engine, &run).len(), SENTENCES.len());
            Ok::<_, Error>(engine.mixing_layers()?[0].beta.clone())
        });
        let Ok(outcome) = outcome else {
            panicked.push(node.name.clone());
            continue;
        };
        println!("{} ({}) as Identity: {:?}", node.name, node.op_type, outcome.as_ref().map(|_| "measured"));
        if node.name == format!("{L0}/sa_layer_norm/Add_1") {
            let beta = outcome.expect("a LayerNorm without β is measured");
            assert!(beta.iter().all(|&b| b == 0.0), "and read with β = 0");
        } else if node.name.starts_with(&format!("{L0}/sa_layer_norm/")) {
            let message = outcome.expect_err("a broken LayerNorm chain is refused").to_string();
            assert!(message.ends_with("layer 1: the LayerNorm after the attention could not be read"), "{message}");
        }
    }
    assert!(panicked.is_empty(), "these broken nodes made the engine panic: {panicked:?}");
}
