//! `C = A·B (+ bias)` in integers, for a constant `B` whose every column is a whole multiple of
//! its own step: what an int8 weight-only export becomes once its `DequantizeLinear` is folded,
//! `(q - zero_point) · scale` per output column.
//!
//! Each weight is stored as that integer (within ±255, in an `i16`) and each column's step as
//! an `f32`. Each row of `A` is cut into blocks of [`KB`] values; each block is scaled to ±32767
//! on its own and rounded to `i16` (an error of at most 1/65534 of the block's largest value,
//! far below the int8 weights' own rounding; blocks keep one large activation from coarsening
//! the whole row). A block's products are summed exactly in `i32`, then scaled back and added
//! up in `f32`. In wasm with simd128 one `i32x4.dot_i16x8_s` does eight multiply-adds, where
//! f32 needs two instructions for four.

use super::gemm::{check_lengths, for_each_tile, MR, NR};

/// The largest weight magnitude: int8 or uint8 codes minus a zero point.
const MAX_WEIGHT: f32 = 255.0;
/// Rows of `A` are scaled to this magnitude before rounding.
const MAX_ACTIVATION: f32 = 32767.0;
/// Values of `k` per block, summed in `i32` (`KB · 32767 · 255 < 2³¹`: no overflow). Smaller
/// blocks round more faithfully and convert more often: on the default model, blocks of 256,
/// 64 and 32 put attention within 2.8e-4, 1.8e-4 and 1.5e-4 of onnxruntime.
pub const KB: usize = 64;
const _: () = assert!(KB as u64 * 32767 * 255 < i32::MAX as u64 && KB.is_multiple_of(2));

/// A `k × n` weight matrix of integer steps, packed into `⌈n / NR⌉` panels. In a panel, pair
/// `p` of rows holds `2 · NR` values: for each column, row `2p` then row `2p + 1`.
#[derive(Debug, Clone, PartialEq)]
pub struct QuantizedB {
    k: usize,
    n: usize,
    /// The step of each column, padded with zeros to whole panels.
    steps: Vec<f32>,
    panels: Vec<i16>,
}

impl QuantizedB {
    /// Finds each column's step and packs the row-major `k × n` matrix `b` as whole multiples
    /// of it. `None` unless every value is such a multiple within ±255 (plain f32 weights never
    /// are). Panics if `b.len() != k * n`.
    pub fn detect(b: &[f32], k: usize, n: usize) -> Option<Self> {
        assert_eq!(b.len(), k * n, "weights are not {k} x {n}");
        // Row by row (the weights' own order: this runs at load on megabytes of weights).
        // Each column's first candidate is its smallest non-zero magnitude.
        let mut smallest = vec![f32::INFINITY; n];
        for row in b.chunks_exact(n.max(1)) {
            for (s, w) in smallest.iter_mut().zip(row) {
                let magnitude = w.abs();
                if magnitude != 0.0 && magnitude < *s {
                    *s = magnitude;
                }
            }
        }
        let mut steps: Vec<f32> = smallest.iter().map(|&s| if s.is_infinite() { 0.0 } else { s }).collect();
        let mut codes = vec![0i16; k * n];
        let mut misfits = vec![false; n];
        for (row, out) in b.chunks_exact(n.max(1)).zip(codes.chunks_exact_mut(n.max(1))) {
            for (((&w, &step), code), misfit) in row.iter().zip(&steps).zip(out).zip(&mut misfits) {
                match code_of(w, step) {
                    Some(q) => *code = q,
                    None => *misfit = true,
                }
            }
        }
        // The few columns whose smallest magnitude is several steps, one at a time.
        for j in (0..n).filter(|&j| misfits[j]) {
            let fits = |step: f32| (0..k).all(|kk| code_of(b[kk * n + j], step).is_some());
            let step = (2..=MAX_DIVISOR).map(|d| smallest[j] / f32::from(d)).find(|&step| fits(step))?;
            for kk in 0..k {
                codes[kk * n + j] = code_of(b[kk * n + j], step)?;
            }
            steps[j] = step;
        }
        Some(Self::pack(&codes, k, n, steps))
    }

    /// Packs row-major `k × n` integer codes whose column `j` stands for `code · steps[j]`, as an
    /// int8 export stores them (codes minus zero point, and the scale). `None` unless there are
    /// `k × n` codes within ±255 and `n` finite steps.
    pub fn from_codes(codes: &[i16], k: usize, n: usize, steps: Vec<f32>) -> Option<Self> {
        let fits = codes.len() == k * n
            && steps.len() == n
            && steps.iter().all(|s| s.is_finite())
            && codes.iter().all(|q| f32::from(q.unsigned_abs()) <= MAX_WEIGHT);
        fits.then(|| Self::pack(codes, k, n, steps))
    }

    /// Packs row-major `k × n` codes into panels; `steps` has one entry per column.
    fn pack(codes: &[i16], k: usize, n: usize, mut steps: Vec<f32>) -> Self {
        let pairs = k.div_ceil(2);
        // Padding columns have step 0 and codes 0.
        steps.resize(n.div_ceil(NR) * NR, 0.0);
        let mut panels = vec![0i16; steps.len() * pairs * 2];
        for (kk, row) in codes.chunks_exact(n.max(1)).enumerate().take(k) {
            for (j, &q) in row.iter().enumerate() {
                panels[((j / NR) * pairs + kk / 2) * 2 * NR + (j % NR) * 2 + kk % 2] = q;
            }
        }
        Self { k, n, steps, panels }
    }

    /// Inner dimension (rows of `B`).
    pub fn k(&self) -> usize {
        self.k
    }

    /// Output width (columns of `B`).
    pub fn n(&self) -> usize {
        self.n
    }

    fn panel(&self, p: usize) -> &[i16] {
        let len = self.k.div_ceil(2) * 2 * NR;
        &self.panels[p * len..(p + 1) * len]
    }
}

/// Step candidates tried per column: its smallest non-zero magnitude divided by 1 to this.
/// That magnitude is usually the step itself; it is several steps when no value is ±1 step,
/// which short columns often have (in a tiny masked-LM's vocabulary projection, 64 rows per
/// column, some columns' smallest code was 9 or more steps). No code is more than 255 steps, so
/// dividing by up to 255 finds the step of every int8 column; plain f32 weights are refused at
/// their first column, after at most 254 tries that each stop at the first value off the grid.
/// (A column of zeros has step 0.)
const MAX_DIVISOR: u16 = 255;

/// `w` as a whole number of `step`s within ±255, if it is one. Folded weights are exactly
/// `fl(q · step)`; a few last-bit differences are allowed.
fn code_of(w: f32, step: f32) -> Option<i16> {
    if step == 0.0 {
        return (w == 0.0).then_some(0);
    }
    let q = (w / step).round();
    (w.is_finite() && q.abs() <= MAX_WEIGHT && (w - q * step).abs() <= w.abs() * 1e-6).then_some(q as i16)
}

/// Rows of `A` rounded to `i16`, each block of [`KB`] values scaled to ±32767 on its own (so
/// that one large value costs precision only in its block); rows padded to an even length.
struct QuantizedRows {
    values: Vec<i16>,
    /// What one unit is worth, per row and block.
    scales: Vec<f32>,
    stride: usize,
    blocks: usize,
}

impl QuantizedRows {
    fn new(a: &[f32], m: usize, k: usize) -> Self {
        let stride = k.div_ceil(2) * 2;
        let blocks = k.div_ceil(KB);
        let mut values = vec![0i16; m * stride];
        let mut scales = vec![0.0; m * blocks];
        let rows = a.chunks_exact(k.max(1)).zip(values.chunks_exact_mut(stride.max(1)));
        for ((row, out), row_scales) in rows.zip(scales.chunks_exact_mut(blocks.max(1))) {
            for ((block, out), scale) in row.chunks(KB).zip(out.chunks_mut(KB)).zip(row_scales) {
                let largest = max_abs(block);
                // A NaN or infinite value makes its block's scale NaN or infinite, and so the
                // row's results NaN.
                if largest != 0.0 {
                    *scale = largest / MAX_ACTIVATION;
                    round_scaled(block, MAX_ACTIVATION / largest, &mut out[..block.len()]);
                }
            }
        }
        Self { values, scales, stride, blocks }
    }

    fn row(&self, i: usize) -> &[i16] {
        &self.values[i * self.stride..][..self.stride]
    }

    fn scale(&self, i: usize, block: usize) -> f32 {
        self.scales[i * self.blocks + block]
    }
}

/// Computes `c = a · b + bias` where `a` is row-major `m × k`, `c` row-major `m × n` and
/// `bias` (if any) has `n` entries added to every row. Panics on mismatched lengths.
pub fn qgemm(a: &[f32], m: usize, b: &QuantizedB, bias: Option<&[f32]>, c: &mut [f32]) {
    let (k, n) = (b.k, b.n);
    check_lengths(a.len(), m, k, n, bias, c);
    let rows = QuantizedRows::new(a, m, k);
    let pairs = k.div_ceil(2);
    for_each_tile(m, n, bias, c, n, |row0, count, p| {
        // Rows past the end repeat the first row; their results are dropped.
        let row_of = |r: usize| row0 + if r < count { r } else { 0 };
        let a_rows: [&[i16]; MR] = std::array::from_fn(|r| rows.row(row_of(r)));
        let panel = b.panel(p);
        let mut sums = [[0.0f32; NR]; MR];
        for (block, start) in (0..pairs).step_by(KB / 2).enumerate() {
            let end = pairs.min(start + KB / 2);
            let tile = qtile(a_rows.map(|row| &row[2 * start..2 * end]), &panel[start * 2 * NR..end * 2 * NR]);
            for (r, (sum_row, tile_row)) in sums.iter_mut().zip(&tile).enumerate() {
                let scale = rows.scale(row_of(r), block);
                for (sum, &v) in sum_row.iter_mut().zip(tile_row) {
                    *sum += v as f32 * scale;
                }
            }
        }
        let steps = &b.steps[p * NR..][..NR];
        for sum_row in &mut sums {
            for (sum, step) in sum_row.iter_mut().zip(steps) {
                *sum *= step;
            }
        }
        sums
    });
}

/// One `MR × NR` tile of integer sums over the pairs of `k` the slices hold: `a_rows[r]` has
/// `2 · pairs` values and `panel` `pairs · 2 · NR`.
fn qtile(a_rows: [&[i16]; MR], panel: &[i16]) -> [[i32; NR]; MR] {
    #[cfg(all(target_arch = "wasm32", target_feature = "simd128"))]
    {
        super::simd128::qtile(a_rows, panel)
    }
    #[cfg(not(all(target_arch = "wasm32", target_feature = "simd128")))]
    {
        qtile_portable(a_rows, panel)
    }
}

/// The integer tile as plain loops.
#[cfg_attr(all(target_arch = "wasm32", target_feature = "simd128"), allow(dead_code))]
fn qtile_portable(a_rows: [&[i16]; MR], panel: &[i16]) -> [[i32; NR]; MR] {
    let mut acc = [[0i32; NR]; MR];
    for (pair, b) in panel.chunks_exact(2 * NR).enumerate() {
        for (acc_row, a_row) in acc.iter_mut().zip(&a_rows) {
            let (x0, x1) = (i32::from(a_row[2 * pair]), i32::from(a_row[2 * pair + 1]));
            for (acc, b) in acc_row.iter_mut().zip(b.chunks_exact(2)) {
                *acc += x0 * i32::from(b[0]) + x1 * i32::from(b[1]);
            }
        }
    }
    acc
}

/// The largest magnitude in `row` (NaN if it holds one: the row's results are then NaN too).
fn max_abs(row: &[f32]) -> f32 {
    #[cfg(all(target_arch = "wasm32", target_feature = "simd128"))]
    {
        super::simd128::max_abs(row)
    }
    #[cfg(not(all(target_arch = "wasm32", target_feature = "simd128")))]
    {
        row.iter().fold(0.0f32, |m, v| if v.abs() > m || v.is_nan() { v.abs() } else { m })
    }
}

/// `out[i] = round(row[i] · factor)` (ties to even), saturating to `i16`.
fn round_scaled(row: &[f32], factor: f32, out: &mut [i16]) {
    #[cfg(all(target_arch = "wasm32", target_feature = "simd128"))]
    {
        super::simd128::round_scaled(row, factor, out)
    }
    #[cfg(not(all(target_arch = "wasm32", target_feature = "simd128")))]
    {
        for (o, v) in out.iter_mut().zip(row) {
            *o = (v * factor).round_ties_even() as i16;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn detects_integer_steps_per_column_and_refuses_plain_floats() {
        // Column 0 steps by 0.5, column 1 by 0.03 (as uint8 minus a zero point), column 2 is zero.
        let b = [1.0, -0.03 * 200.0, 0.0, -0.5, 0.03, 0.0, 127.5, 0.03 * 255.0, 0.0];
        let q = QuantizedB::detect(&b, 3, 3).expect("integer steps");
        assert_eq!(&q.steps[..3], &[0.5, 0.03, 0.0]);
        assert!(QuantizedB::detect(&[0.1, 0.2718, 0.3], 3, 1).is_none(), "0.2718 is no multiple of 0.1 / 1..255");
        // No value is one step: 2 and 3 steps of 0.5; 9 and 20 steps of 0.03.
        assert_eq!(QuantizedB::detect(&[1.0, -1.5], 2, 1).unwrap().steps[0], 0.5);
        let step = QuantizedB::detect(&[0.03 * 9.0, -0.03 * 20.0], 2, 1).unwrap().steps[0];
        assert!((step - 0.03).abs() <= 0.03 * 1e-6, "{step}");
        assert!(QuantizedB::detect(&[0.5, 128.0], 2, 1).is_none(), "256 steps is more than int8");
        assert!(QuantizedB::detect(&[0.5, f32::NAN], 2, 1).is_none());
        assert!(QuantizedB::detect(&[0.0, f32::INFINITY], 2, 1).is_none());
    }

    #[test]
    fn empty_and_zero_inputs() {
        let q = QuantizedB::detect(&[], 0, 3).unwrap();
        let mut c = vec![9.0; 6];
        qgemm(&[], 2, &q, Some(&[1.0, 2.0, 3.0]), &mut c);
        assert_eq!(c, [1.0, 2.0, 3.0, 1.0, 2.0, 3.0]);
        let q = QuantizedB::detect(&[0.5, 1.0], 1, 2).unwrap();
        let mut c = vec![9.0; 2];
        qgemm(&[0.0], 1, &q, None, &mut c);
        assert_eq!(c, [0.0, 0.0]);
    }

    #[test]
    fn large_sums_do_not_overflow() {
        // Every product at its largest: 1536 · 32767 · 255 would overflow one i32 sum.
        let k = 1536;
        let mut b = vec![-255.0; k];
        b[0] = 1.0;
        let q = QuantizedB::detect(&b, k, 1).unwrap();
        let mut c = [0.0];
        qgemm(&vec![1.0; k], 1, &q, None, &mut c);
        let want = 1.0 - 255.0 * (k - 1) as f32;
        assert!((c[0] - want).abs() <= want.abs() * 1e-6, "{} vs {want}", c[0]);
    }
}
