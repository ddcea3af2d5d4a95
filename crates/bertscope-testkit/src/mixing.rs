//! The context-mixing references (`tests/reference/mixing_reference.py`: onnxruntime + numpy in
//! float64, written once per test run by `scripts/test`) and how bertscope's measures are
//! compared with them, natively, through the CLI and inside the browsers.

use serde::Deserialize;

/// One model with a context-mixing reference, and how closely bertscope must agree with it.
#[derive(Debug, Clone, Copy)]
pub struct MixingCase {
    /// File name of the reference in the references folder.
    pub reference: &'static str,
    /// Path of the ONNX file, relative to the models folder.
    pub model: &'static str,
    /// Path of the tokenizer, relative to the models folder.
    pub tokenizer: &'static str,
    /// Bounds with tract's products (natively by default).
    pub tol: MixingTol,
    /// Bounds with bertscope's packed kernels (`MatMulKernel::Packed`, the browser's), which
    /// multiply weight-only int8 weights in integers (see `INTEGER_PRODUCTS_TOL`).
    pub packed_tol: MixingTol,
}

/// Largest differences from the reference, per measure and over every layer of a sentence.
///
/// Norms are compared relative to the largest value of the same layer (their scale is the
/// model's: MiniLM's `‖f_h(x_j)‖` reach about 7, the random DistilBERTs' about 0.3); ALTI and
/// its rollout are shares in `[0, 1]` and compared as they are. Head statistics are shares (and
/// entropy in nats), compared as they are.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct MixingTol {
    /// `|Δ N^h_ij| / max_{h,i,j} N^h_ij` of the layer.
    pub norm_head: f32,
    /// `|Δ N_ij| / max_{i,j} N_ij` of the layer.
    pub norm_layer: f32,
    /// `|Δ C_ij|`.
    pub alti: f32,
    /// `|Δ R_ij|`.
    pub alti_rollout: f32,
    /// `|Δ|` of every head statistic (shares and entropy).
    pub head_stats: f32,
}

impl MixingTol {
    /// The larger of each bound.
    pub fn max(self, other: Self) -> Self {
        Self {
            norm_head: self.norm_head.max(other.norm_head),
            norm_layer: self.norm_layer.max(other.norm_layer),
            alti: self.alti.max(other.alti),
            alti_rollout: self.alti_rollout.max(other.alti_rollout),
            head_stats: self.head_stats.max(other.head_stats),
        }
    }

    /// The measures (and head statistics) that exceed `bound`, in words.
    pub fn exceeding(&self, bound: &Self) -> Vec<String> {
        let pairs = [
            ("norm_head (relative)", self.norm_head, bound.norm_head),
            ("norm_layer (relative)", self.norm_layer, bound.norm_layer),
            ("alti", self.alti, bound.alti),
            ("alti_rollout", self.alti_rollout, bound.alti_rollout),
            ("head_stats", self.head_stats, bound.head_stats),
        ];
        pairs
            .iter()
            .filter(|(_, got, max)| got.is_nan() || got > max)
            .map(|(name, got, max)| format!("{name} differs by {got:.2e} > {max:.0e}"))
            .collect()
    }
}

impl std::fmt::Display for MixingTol {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "norm_head {:.1e}, norm_layer {:.1e}, alti {:.1e}, alti_rollout {:.1e}, head_stats {:.1e}",
            self.norm_head, self.norm_layer, self.alti, self.alti_rollout, self.head_stats
        )
    }
}

const fn tol(norm_head: f32, norm_layer: f32, alti: f32, alti_rollout: f32, head_stats: f32) -> MixingTol {
    MixingTol { norm_head, norm_layer, alti, alti_rollout, head_stats }
}

/// The models the Python reference covers (its `MODELS`), with the bounds measured against it:
/// every sentence alone and all of them as one padded batch, about 3x the largest difference
/// measured (docs/ENGINE.md, "Context mixing against its reference", has the table).
///
/// Why the bounds are what they are: bertscope computes in f32 and reads attention, values and
/// residual sums from tract, the reference in float64 from onnxruntime's. Norms then agree to a
/// few 1e-6 of their layer's largest value. ALTI subtracts two L1 norms of `d` values each
/// (`‖y_i‖₁ − ‖y_i − T_i(x_j)‖₁`, both near `‖y_i‖₁`), so f32 cancellation costs more, and the
/// more tokens, the smaller each share: 6.3e-5 at 62 tokens on MiniLM. With the packed kernels
/// on weight-only int8 files the model's own products move by `INTEGER_PRODUCTS_TOL` (they
/// round activations to 16 bits), and every measure with them.
pub const MIXING_CASES: &[MixingCase] = &[
    MixingCase {
        reference: "minilm-l6.weights_int8.json",
        model: "minilm-l6/model_weights_int8.onnx",
        tokenizer: "minilm-l6/tokenizer.json",
        // Measured 4.2e-6, 3.3e-6, 6.3e-5, 5.0e-5, 3.3e-6; packed 3.4e-4, 2.6e-4, 1.2e-4, 6.9e-5, 1.2e-4.
        tol: tol(2e-5, 2e-5, 2e-4, 2e-4, 2e-5),
        packed_tol: tol(1e-3, 1e-3, 5e-4, 3e-4, 3e-4),
    },
    MixingCase {
        reference: "distilbert-tiny-random.fp32.json",
        model: "distilbert-tiny-random/model.onnx",
        tokenizer: "distilbert-tiny-random/tokenizer.json",
        // Measured (both kernels: f32 weights) 4.1e-7, 2.8e-7, 1.3e-5, 1.9e-5, 2.5e-7.
        tol: tol(2e-6, 2e-6, 5e-5, 6e-5, 1e-6),
        packed_tol: tol(2e-6, 2e-6, 5e-5, 6e-5, 1e-6),
    },
    MixingCase {
        reference: "distilbert-tiny-random-mlm.fp32.json",
        model: "distilbert-tiny-random-mlm/model.onnx",
        tokenizer: "distilbert-tiny-random-mlm/tokenizer.json",
        // Measured (both kernels) 3.4e-7, 2.1e-7, 1.4e-6, 1.6e-6, 1.3e-7.
        tol: tol(2e-6, 2e-6, 1e-5, 1e-5, 1e-6),
        packed_tol: tol(2e-6, 2e-6, 1e-5, 1e-5, 1e-6),
    },
    MixingCase {
        reference: "distilbert-base-random.weights_int8.json",
        model: "distilbert-base-random/model_weights_int8.onnx",
        tokenizer: "distilbert-base-random/tokenizer.json",
        // Measured 1.1e-6, 5.5e-7, 7.5e-6, 1.3e-5, 1.5e-7; packed 4.1e-5, 1.6e-5, 1.0e-5, 1.7e-5, 3.1e-6.
        tol: tol(5e-6, 5e-6, 5e-5, 5e-5, 1e-6),
        packed_tol: tol(2e-4, 1e-4, 5e-5, 5e-5, 2e-5),
    },
];

/// A reference file as `mixing_reference.py` writes it.
#[derive(Debug, Deserialize)]
pub struct MixingReference {
    /// The reference's name (its file name without `.json`).
    pub model: String,
    /// The ONNX file, relative to the models folder.
    pub file: String,
    /// Encoder layers.
    pub layers: usize,
    /// Heads per layer.
    pub heads: usize,
    /// Each sentence, run alone.
    pub sentences: Vec<MixingSentence>,
    /// Head statistics averaged over the sentences, `[layer][head]`.
    pub head_stats: Vec<Vec<HeadStatsRef>>,
}

/// One sentence's measures over its tokens.
#[derive(Debug, Deserialize)]
pub struct MixingSentence {
    /// The text.
    pub text: String,
    /// Token ids (from the shared references, i.e. the `tokenizers` library).
    pub input_ids: Vec<u32>,
    /// Tokens.
    pub tokens: Vec<String>,
    /// `[layer][head][i][j]`.
    pub norm_head: Vec<Vec<Vec<Vec<f64>>>>,
    /// `[layer][i][j]`.
    pub norm_layer: Vec<Vec<Vec<f64>>>,
    /// `[layer][i][j]`.
    pub alti: Vec<Vec<Vec<f64>>>,
    /// `[layer][i][j]`.
    pub alti_rollout: Vec<Vec<Vec<f64>>>,
    /// Per layer, `max |Σ_j z_ij + b_O − pre_i|` against onnxruntime's residual sum.
    pub reconstruction_error: Vec<f64>,
    /// This sentence's head statistics alone, `[layer][head]`.
    pub head_stats: Vec<Vec<HeadStatsRef>>,
}

/// One head's statistics in the reference.
#[derive(Debug, Clone, Deserialize)]
pub struct HeadStatsRef {
    /// Mean attention to `[CLS]`.
    pub cls: f64,
    /// Mean attention to `[SEP]`.
    pub sep: f64,
    /// Mean attention to the previous token.
    pub prev: f64,
    /// Mean attention to the next token.
    pub next: f64,
    /// Mean attention to itself.
    #[serde(rename = "self")]
    pub own: f64,
    /// Mean attention to punctuation.
    pub punct: f64,
    /// Mean row entropy in nats.
    pub entropy: f64,
    /// `cls`, `sep`, `prev`, `next`, `self`, `punct`, `broad` or `mixed`.
    pub role: String,
}

impl HeadStatsRef {
    /// The six shares and the entropy, in the order cls, sep, prev, next, self, punct, entropy.
    pub fn values(&self) -> [f64; 7] {
        [self.cls, self.sep, self.prev, self.next, self.own, self.punct, self.entropy]
    }
}

/// Parses a mixing reference.
pub fn parse_mixing(json: &[u8]) -> Result<MixingReference, String> {
    serde_json::from_slice(json).map_err(|e| format!("mixing reference JSON: {e}"))
}

/// One sentence's measures as bertscope gives them (`analysis::Mixing`): flat, row-major.
#[derive(Debug, Clone, Copy)]
pub struct MixingObserved<'a> {
    /// Real tokens `n`.
    pub tokens: usize,
    /// `[layer][head][i][j]`.
    pub norm_head: &'a [f32],
    /// `[layer][i][j]`.
    pub norm_layer: &'a [f32],
    /// `[layer][i][j]`.
    pub alti: &'a [f32],
    /// `[layer][i][j]`.
    pub alti_rollout: &'a [f32],
}

/// Per-layer blocks of `reference` flattened, against the same blocks of `ours`: the largest
/// difference, relative to each block's largest reference value if `relative`.
fn block_diff(ours: &[f32], reference: Vec<Vec<f64>>, relative: bool) -> Result<f32, String> {
    let total: usize = reference.iter().map(Vec::len).sum();
    if ours.len() != total {
        return Err(format!("{} values, the reference has {total}", ours.len()));
    }
    let mut offset = 0;
    let mut worst = 0.0f64;
    for block in reference {
        let scale =
            if relative { block.iter().fold(0.0f64, |m, v| m.max(v.abs())).max(f64::MIN_POSITIVE) } else { 1.0 };
        let mine = &ours[offset..offset + block.len()];
        worst = mine.iter().zip(&block).map(|(o, r)| (*o as f64 - r).abs() / scale).fold(worst, f64::max);
        offset += block.len();
    }
    Ok(worst as f32)
}

/// How far bertscope's measures of one sentence are from the reference's (`head_stats` left 0).
pub fn mixing_diff(reference: &MixingSentence, observed: &MixingObserved<'_>) -> Result<MixingTol, String> {
    let n = reference.input_ids.len();
    if observed.tokens != n {
        return Err(format!("{} tokens, the reference has {n}", observed.tokens));
    }
    let per_layer3 = |m: &[Vec<Vec<f64>>]| -> Vec<Vec<f64>> {
        m.iter().map(|layer| layer.iter().flatten().copied().collect()).collect()
    };
    let per_layer4 =
        reference.norm_head.iter().map(|layer| layer.iter().flatten().flatten().copied().collect()).collect();
    Ok(MixingTol {
        norm_head: block_diff(observed.norm_head, per_layer4, true).map_err(|e| format!("norm_head: {e}"))?,
        norm_layer: block_diff(observed.norm_layer, per_layer3(&reference.norm_layer), true)
            .map_err(|e| format!("norm_layer: {e}"))?,
        alti: block_diff(observed.alti, per_layer3(&reference.alti), false).map_err(|e| format!("alti: {e}"))?,
        alti_rollout: block_diff(observed.alti_rollout, per_layer3(&reference.alti_rollout), false)
            .map_err(|e| format!("alti_rollout: {e}"))?,
        head_stats: 0.0,
    })
}

/// One head's statistics as bertscope gives them: cls, sep, prev, next, self, punct, entropy,
/// and the role's name.
pub type HeadStatsObserved = ([f32; 7], String);

/// Compares `[layer][head]` head statistics: the largest difference, and every head whose role
/// differs although no statistic lies within `margin` of a threshold that decides it (a share
/// near 0.5, entropy near 90% of `mean_log_n`, or two top shares within `margin`).
pub fn head_stats_diff(
    reference: &[Vec<HeadStatsRef>],
    ours: &[Vec<HeadStatsObserved>],
    mean_log_n: f64,
    margin: f64,
) -> Result<(f32, Vec<String>), String> {
    if reference.len() != ours.len() || reference.iter().zip(ours).any(|(r, o)| r.len() != o.len()) {
        return Err("head statistics of another shape".into());
    }
    let (mut worst, mut roles) = (0.0f64, Vec::new());
    for (l, (r_layer, o_layer)) in reference.iter().zip(ours).enumerate() {
        for (h, (r, (values, role))) in r_layer.iter().zip(o_layer).enumerate() {
            let want = r.values();
            worst = values.iter().zip(want).map(|(o, w)| (*o as f64 - w).abs()).fold(worst, f64::max);
            let mut shares = want[..6].to_vec();
            shares.sort_by(|a, b| b.total_cmp(a));
            let close = (shares[0] - 0.5).abs() < margin
                || (shares[0] - shares[1]).abs() < margin
                || (want[6] - 0.9 * mean_log_n).abs() < margin;
            if *role != r.role && !close {
                roles.push(format!("layer {l} head {h}: role {role}, the reference says {}", r.role));
            }
        }
    }
    Ok((worst as f32, roles))
}
