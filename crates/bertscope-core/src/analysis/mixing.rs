//! What each token really takes in through an attention layer, beyond raw attention weights:
//! attention weighted by the norm of what is moved (Kobayashi et al., EMNLP 2020) and ALTI, which
//! also counts the residual connection and the LayerNorm (Ferrando et al., EMNLP 2022).
//!
//! For a layer with input vectors `x_j`, head `h`'s attention `α^h_ij`, values
//! `v^h_j = x_j W_V[:, h] + b_V[h]` (read from the run) and output projection rows `W_O[h, :]`:
//!
//! * `f_h(x_j) = v^h_j W_O[h, :]`;
//! * norm per head `N^h_ij = α^h_ij ‖f_h(x_j)‖₂`; norm per layer `N_ij = ‖Σ_h α^h_ij f_h(x_j)‖₂`;
//! * ALTI: `z_ij = Σ_h α^h_ij f_h(x_j) + δ_ij x_j`, `T_i(x_j) = γ ⊙ (z_ij − mean(z_ij)) / s_i`
//!   with `s_i = sqrt(var(pre_i) + ε)` of the real residual sum `pre_i` (read from the run),
//!   `y_i = LayerNorm(pre_i)`, `c_ij = max(0, ‖y_i‖₁ − ‖y_i − T_i(x_j)‖₁)`, `C_ij = c_ij / Σ_k c_ik`;
//! * ALTI rollout: `R¹ = C¹`, `Rˡ = Cˡ Rˡ⁻¹`.
//!
//! Nothing of size `n²·d` is ever held: the sums over heads are formed key by key (one `n × d`
//! product at a time) and reduced to norms at once. Each sentence is measured over its real
//! tokens only, so a padded batch gives the same numbers as the sentence alone.

use crate::kernels::gemm::{gemm, gemm_strided, PackedB};
use crate::kernels::mixture::l1_from_mixtures;
use crate::kernels::split::{in_parts, parts_for, threads};
use crate::onnx::mixing::LayerMixing;
use crate::output::{Attention, HiddenStates, MixingTaps};

/// The context-mixing measures of one sentence over its `tokens` real tokens.
#[derive(Debug, Clone, PartialEq)]
pub struct Mixing {
    layers: usize,
    heads: usize,
    tokens: usize,
    norm_head: Vec<f32>,
    norm_layer: Vec<f32>,
    alti: Vec<f32>,
    alti_rollout: Vec<f32>,
    reconstruction_error: Vec<f32>,
}

impl Mixing {
    /// `[layers, heads, tokens]`.
    pub fn shape(&self) -> [usize; 3] {
        [self.layers, self.heads, self.tokens]
    }

    /// `N^h_ij`, `[layer][head][i][j]`.
    pub fn norm_head(&self) -> &[f32] {
        &self.norm_head
    }

    /// `N_ij`, `[layer][i][j]`.
    pub fn norm_layer(&self) -> &[f32] {
        &self.norm_layer
    }

    /// ALTI's `C_ij` per layer, `[layer][i][j]`; each row sums to 1 (empty unless asked for).
    pub fn alti(&self) -> &[f32] {
        &self.alti
    }

    /// ALTI through the layers, `R^l_ij`, `[layer][i][j]`; each row sums to 1 (empty unless asked for).
    pub fn alti_rollout(&self) -> &[f32] {
        &self.alti_rollout
    }

    /// Per layer, the largest `|Σ_j z_ij + b_O − pre_i|`: how exactly the decomposition adds up to
    /// what the model computed (float rounding for f32 and weight-only models; the activation
    /// quantization for dynamically quantized ones).
    pub fn reconstruction_error(&self) -> &[f32] {
        &self.reconstruction_error
    }
}

/// One sentence's run, as the measures read it.
#[derive(Debug, Clone, Copy)]
pub struct MixingInput<'a> {
    /// Every layer's attention (padded length).
    pub attention: &'a Attention,
    /// The embeddings and every layer's output (padded length): layer `l` reads level `l`.
    pub hidden: &'a HiddenStates,
    /// Values and residual sums of the same run.
    pub taps: &'a MixingTaps,
    /// Real (unpadded) tokens.
    pub tokens: usize,
}

/// Which measures [`mixing`] computes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Measures {
    /// Norm-based attention only (cheap: about `n²·h²` per layer).
    Norms,
    /// Norm-based attention, ALTI and ALTI rollout (ALTI costs about `n²·h·d` per layer).
    NormsAndAlti,
}

/// Computes the measures for one sentence (ALTI's buffers stay empty unless asked for);
/// `progress(done, total)` is called after each layer.
///
/// # Panics
/// If the buffers' shapes disagree with each other or with `layers` (one entry per layer).
pub fn mixing(
    input: MixingInput<'_>,
    layers: &[LayerMixing],
    measures: Measures,
    mut progress: impl FnMut(usize, usize),
) -> Mixing {
    let with_alti = measures == Measures::NormsAndAlti;
    let [l_count, heads, padded, _] = input.attention.shape();
    let [_, hidden_tokens, width] = input.hidden.shape();
    let n = input.tokens;
    assert!(n <= padded && hidden_tokens == padded, "token counts disagree");
    assert_eq!(layers.len(), l_count, "one LayerMixing per layer");
    assert!(heads > 0 && width % heads == 0, "hidden width {width} not divisible by {heads} heads");
    let plane = padded * width;
    assert!(input.taps.values.len() == l_count * plane && input.taps.residual.len() == l_count * plane, "tap sizes");
    let mut out = Mixing {
        layers: l_count,
        heads,
        tokens: n,
        norm_head: Vec::with_capacity(l_count * heads * n * n),
        norm_layer: Vec::with_capacity(l_count * n * n),
        alti: Vec::with_capacity(l_count * n * n),
        alti_rollout: Vec::with_capacity(l_count * n * n),
        reconstruction_error: Vec::with_capacity(l_count),
    };
    for (l, constants) in layers.iter().enumerate() {
        let layer = Layer {
            attention: input.attention,
            layer: l,
            x: &input.hidden.layer(l)[..n * width],
            values: &input.taps.values[l * plane..(l + 1) * plane],
            residual: &input.taps.residual[l * plane..l * plane + n * width],
            constants,
            heads,
            padded,
            n,
            width,
            with_alti,
        };
        layer.measure(&mut out);
        if with_alti {
            let c = &out.alti[l * n * n..];
            let rolled = match l {
                0 => c.to_vec(),
                _ => matmul(c, &out.alti_rollout[(l - 1) * n * n..l * n * n], n),
            };
            out.alti_rollout.extend(rolled);
        }
        progress(l + 1, l_count);
    }
    out
}

/// One layer of one sentence.
struct Layer<'a> {
    attention: &'a Attention,
    layer: usize,
    /// `[n][width]` layer input.
    x: &'a [f32],
    /// `[heads][padded][head_dim]`.
    values: &'a [f32],
    /// `[n][width]` residual sum.
    residual: &'a [f32],
    constants: &'a LayerMixing,
    heads: usize,
    padded: usize,
    n: usize,
    width: usize,
    with_alti: bool,
}

impl Layer<'_> {
    /// `α^h_ij` over the real tokens, `[i][j][head]`.
    fn alphas(&self) -> Vec<f32> {
        let (h_count, n) = (self.heads, self.n);
        let mut alphas = vec![0.0f32; n * n * h_count];
        for h in 0..h_count {
            for i in 0..n {
                let row = &self.attention.row(self.layer, h, i)[..n];
                for (j, &a) in row.iter().enumerate() {
                    alphas[(i * n + j) * h_count + h] = a;
                }
            }
        }
        alphas
    }

    /// `f_h(x_j)` for every key and head, `[key][head][width]`, and each head's context
    /// `Σ_j α^h_ij v^h_j` projected by `W_O[h, :]` and summed over heads, `[query][width]`.
    fn transformed(&self) -> (Vec<f32>, Vec<f32>) {
        let (h_count, n, d) = (self.heads, self.n, self.width);
        let dh = d / h_count;
        let mut f = vec![0.0f32; n * h_count * d];
        let mut mixed = vec![0.0f32; n * d];
        let mut per_head = vec![0.0f32; n * d];
        let mut context = vec![0.0f32; n * dh];
        for h in 0..h_count {
            let rows = PackedB::pack(&self.constants.output_weight[h * dh * d..(h + 1) * dh * d], dh, d);
            let v = &self.values[h * self.padded * dh..h * self.padded * dh + n * dh];
            gemm(v, n, &rows, None, &mut per_head);
            for j in 0..n {
                f[(j * h_count + h) * d..(j * h_count + h + 1) * d].copy_from_slice(&per_head[j * d..(j + 1) * d]);
            }
            // The head's context Σ_j α^h_ij v^h_j: the attention's real `n × n` corner (rows
            // `padded` apart) times the values, on the f32 kernel.
            gemm_strided(
                self.attention.head(self.layer, h),
                self.padded,
                n,
                &PackedB::pack(v, n, dh),
                None,
                &mut context,
                dh,
            );
            gemm(&context, n, &rows, None, &mut per_head);
            mixed.iter_mut().zip(&per_head).for_each(|(m, p)| *m += p);
        }
        (f, mixed)
    }

    fn measure(&self, out: &mut Mixing) {
        let (h_count, n, d) = (self.heads, self.n, self.width);
        let (f, mixed) = self.transformed();
        let f_of = |j: usize, h: usize| &f[(j * h_count + h) * d..(j * h_count + h + 1) * d];
        // Head h's attention row of query i over the real keys.
        let row = |h: usize, i: usize| &self.attention.row(self.layer, h, i)[..n];

        // Norm per head: ‖f_h(x_j)‖ by head, `[head][key]`, times each attention row.
        let norms: Vec<f32> =
            (0..h_count).flat_map(|h| (0..n).map(move |j| dot(f_of(j, h), f_of(j, h)).sqrt())).collect();
        for h in 0..h_count {
            let head_norms = &norms[h * n..(h + 1) * n];
            for i in 0..n {
                out.norm_head.extend(row(h, i).iter().zip(head_norms).map(|(a, norm)| a * norm));
            }
        }

        // Norm per layer: ‖Σ_h α^h_ij f_h(x_j)‖² = Σ_{a≤b} c_ab α^a_ij α^b_ij ⟨f_a(x_j), f_b(x_j)⟩ with
        // c = 1 on the diagonal and 2 off it: each key's Gram entries, laid out by pair and then
        // key, so that a query's whole row is summed pair by pair along contiguous keys.
        let pairs: Vec<(usize, usize)> = (0..h_count).flat_map(|a| (a..h_count).map(move |b| (a, b))).collect();
        let mut gram = vec![0.0f32; pairs.len() * n];
        for (p, &(a, b)) in pairs.iter().enumerate() {
            let twice = if a == b { 1.0 } else { 2.0 };
            for (j, g) in gram[p * n..(p + 1) * n].iter_mut().enumerate() {
                *g = twice * dot(f_of(j, a), f_of(j, b));
            }
        }
        let start = out.norm_layer.len();
        out.norm_layer.resize(start + n * n, 0.0);
        // Query by query (each row on its own, so the queries can go to different threads).
        let per_part = n.div_ceil(parts_for(n, n * n * pairs.len(), threads()));
        in_parts(&mut out.norm_layer[start..], n, per_part, |first, out| {
            for (i, sums) in (first..).zip(out.chunks_exact_mut(n)) {
                for (&(a, b), g) in pairs.iter().zip(gram.chunks_exact(n)) {
                    for (((s, g), x), y) in sums.iter_mut().zip(g).zip(row(a, i)).zip(row(b, i)) {
                        *s += g * x * y;
                    }
                }
                sums.iter_mut().for_each(|s| *s = s.max(0.0).sqrt());
            }
        });

        // ALTI. T_i(x_j) is linear in its parts, so centre and scale by γ once per vector: key j
        // contributes its heads' vectors and, to itself only, its own input (one more part).
        if self.with_alti {
            out.alti.extend(self.alti(&f, &self.alphas()));
        }

        // Self-check: Σ_j z_ij + b_O = x_i + b_O + Σ_h (Σ_j α^h_ij v^h_j) W_O[h, :], against the
        // residual sum the model computed.
        let mut error = 0.0f32;
        for i in 0..n {
            let parts =
                self.x[i * d..(i + 1) * d].iter().zip(&self.constants.output_bias).zip(&mixed[i * d..(i + 1) * d]);
            let pre = &self.residual[i * d..(i + 1) * d];
            error = parts.zip(pre).fold(error, |e, (((x, b), m), p)| e.max((x + b + m - p).abs()));
        }
        out.reconstruction_error.push(error);
    }
    /// ALTI's `C_ij` over the real tokens, rows summing to 1.
    fn alti(&self, f: &[f32], alphas: &[f32]) -> Vec<f32> {
        let (h_count, n, d) = (self.heads, self.n, self.width);
        let LayerMixing { gamma, beta, epsilon, .. } = self.constants;
        let centred = |v: &[f32], out: &mut Vec<f32>| {
            let mean = v.iter().sum::<f32>() / d as f32;
            out.extend(v.iter().zip(gamma).map(|(x, g)| (x - mean) * g));
        };
        let parts = h_count + 1;
        let mut vectors = Vec::with_capacity(n * parts * d);
        for j in 0..n {
            for h in 0..h_count {
                centred(&f[(j * h_count + h) * d..(j * h_count + h + 1) * d], &mut vectors);
            }
            centred(&self.x[j * d..(j + 1) * d], &mut vectors);
        }
        let (mut scale, mut y) = (Vec::with_capacity(n), Vec::with_capacity(n * d));
        for pre in self.residual.chunks_exact(d) {
            let mean = pre.iter().sum::<f32>() / d as f32;
            let var = pre.iter().map(|p| (p - mean) * (p - mean)).sum::<f32>() / d as f32;
            let s = (var + epsilon).sqrt();
            scale.push(s);
            y.extend(pre.iter().zip(gamma).zip(beta).map(|((p, g), b)| (p - mean) / s * g + b));
        }
        let y_norm: Vec<f32> = y.chunks_exact(d).map(|r| r.iter().map(|v| v.abs()).sum()).collect();
        // Key by key (each key's column on its own, so the keys can go to different threads).
        let mut columns = vec![0.0f32; n * n];
        let per_part = n.div_ceil(parts_for(n, n * n * parts * d, threads()));
        in_parts(&mut columns, n, per_part, |first, out| {
            let mut weights = vec![0.0f32; n * parts];
            for (j, column) in (first..).zip(out.chunks_exact_mut(n)) {
                for i in 0..n {
                    let w = &mut weights[i * parts..(i + 1) * parts];
                    let a = &alphas[(i * n + j) * h_count..(i * n + j + 1) * h_count];
                    w[..h_count].iter_mut().zip(a).for_each(|(w, a)| *w = a / scale[i]);
                    w[h_count] = if i == j { 1.0 / scale[i] } else { 0.0 };
                }
                l1_from_mixtures(&y, &weights, &vectors[j * parts * d..(j + 1) * parts * d], d, parts, column);
                for (c, y_norm) in column.iter_mut().zip(&y_norm) {
                    *c = (y_norm - *c).max(0.0);
                }
            }
        });
        let mut contributions = vec![0.0f32; n * n];
        for (j, column) in columns.chunks_exact(n.max(1)).enumerate() {
            for (i, &c) in column.iter().enumerate() {
                contributions[i * n + j] = c;
            }
        }
        for row in contributions.chunks_exact_mut(n) {
            let total: f32 = row.iter().sum();
            if total > 0.0 {
                row.iter_mut().for_each(|c| *c /= total);
            }
        }
        contributions
    }
}

/// `a · b`, summed in eight independent lanes so that the compiler can use vector instructions (a
/// single running sum is a chain of dependent additions it may not reorder).
fn dot(a: &[f32], b: &[f32]) -> f32 {
    const LANES: usize = 8;
    let (a_blocks, b_blocks) = (a.chunks_exact(LANES), b.chunks_exact(LANES));
    let tail: f32 = a_blocks.remainder().iter().zip(b_blocks.remainder()).map(|(x, y)| x * y).sum();
    let mut lanes = [0.0f32; LANES];
    for (x, y) in a_blocks.zip(b_blocks) {
        for (lane, (x, y)) in lanes.iter_mut().zip(x.iter().zip(y)) {
            *lane += x * y;
        }
    }
    lanes.iter().sum::<f32>() + tail
}

/// `a · b` for square `n × n` row-major matrices, on the f32 kernel.
fn matmul(a: &[f32], b: &[f32], n: usize) -> Vec<f32> {
    let mut out = vec![0.0f32; n * n];
    gemm(a, n, &PackedB::pack(b, n, n), None, &mut out);
    out
}
