//! `C = A·B (+ bias)` in integers, for a constant `B` whose every column is a whole multiple of
//! its own step: what an int8 weight-only export is, `(q - zero_point) · scale` per output
//! column.
//!
//! Each weight is stored as one byte `q` (0 to 255) with a zero point and a step per column,
//! standing for `(q - zero_point) · step`: the export's own codes, half the memory of `i16`.
//! Each row of `A` is cut into blocks of [`KB`] values; each block is scaled to ±32767 on its
//! own and rounded to `i16` (an error of at most 1/65534 of the block's largest value, far below
//! the int8 weights' own rounding; blocks keep one large activation from coarsening the whole
//! row). Each panel of bytes is widened to `code - zero point` in `i16` once per call and
//! block of rows, into a buffer that stays in cache. A block's products are summed exactly in
//! `i32`, then scaled back and added up in `f32`, inside the micro-kernel. In wasm with simd128
//! one `i32x4.dot_i16x8_s` does eight multiply-adds, where f32 needs two instructions for four.
//!
//! [`qgemm`] works on any rows of `A` and `C`: a caller may split a product by rows (each part
//! a slice of whole rows of `a` and `c`) and run the parts on different threads. [`qgemm_panels`]
//! does the same for whole panels of columns, on rows rounded once for all the parts.

use std::ops::Range;

use super::aligned::Aligned;
use super::gemm::{check_lengths, check_panel_lengths, for_each_tile_of, for_rows, panel_columns, MR, NR};

/// The largest weight magnitude: int8 or uint8 codes minus a zero point.
const MAX_WEIGHT: f32 = 255.0;
/// Rows of `A` are scaled to this magnitude before rounding.
const MAX_ACTIVATION: f32 = 32767.0;
/// Values of `k` per block, summed in `i32` (`KB · 32767 · 255 < 2³¹`: no overflow; the codes
/// minus their zero point are within ±255). Smaller blocks round more faithfully and convert more often: on the default
/// model, blocks of 256, 64 and 32 put attention within 2.8e-4, 1.8e-4 and 1.5e-4 of
/// onnxruntime.
pub const KB: usize = 64;
const _: () = assert!(KB as u64 * 32767 * 255 < i32::MAX as u64 && KB.is_multiple_of(2));

/// A `k × n` weight matrix of integer steps, packed into `⌈n / NR⌉` panels of bytes. In a
/// panel, pair `p` of rows holds `2 · NR` codes: for each column, row `2p` then row `2p + 1`.
#[derive(Debug, Clone, PartialEq)]
pub struct QuantizedB {
    k: usize,
    n: usize,
    /// The step of each column, padded with zeros to whole panels.
    steps: Vec<f32>,
    /// The code that stands for 0 in each column, padded with zeros to whole panels.
    zero_points: Vec<i32>,
    panels: Aligned<u8>,
}

impl QuantizedB {
    /// Finds each column's step and packs the row-major `k × n` matrix `b` as whole multiples
    /// of it. `None` unless every value is such a multiple within ±255 and each column's
    /// multiples span at most 255 (as an int8 export's codes minus their zero point do; plain
    /// f32 weights never are). Panics if `b.len() != k * n`.
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
        // Each column's codes as bytes above its lowest code, which becomes the zero point.
        let mut lowest = vec![i16::MAX; n];
        let mut highest = vec![i16::MIN; n];
        for row in codes.chunks_exact(n.max(1)) {
            for ((lo, hi), &q) in lowest.iter_mut().zip(&mut highest).zip(row) {
                (*lo, *hi) = ((*lo).min(q), (*hi).max(q));
            }
        }
        if k > 0 && lowest.iter().zip(&highest).any(|(&lo, &hi)| i32::from(hi) - i32::from(lo) > 255) {
            return None;
        }
        let zero_points: Vec<i32> = lowest.iter().map(|&lo| if k == 0 { 0 } else { -i32::from(lo) }).collect();
        let byte = |i: usize| (i32::from(codes[i]) - i32::from(lowest[i % n])) as u8;
        Some(Self::pack(byte, k, n, steps, zero_points))
    }

    /// Packs row-major `k × n` byte codes whose column `j` stands for
    /// `(code - zero_points[j]) · steps[j]`, as a uint8 export stores them (an int8 export's
    /// codes and zero points plus 128 are the same). `None` unless there are `k × n` codes, `n`
    /// zero points within 0 to 255 and `n` finite steps.
    pub fn from_codes(codes: &[u8], k: usize, n: usize, zero_points: Vec<i32>, steps: Vec<f32>) -> Option<Self> {
        let fits = codes.len() == k * n
            && steps.len() == n
            && zero_points.len() == n
            && steps.iter().all(|s| s.is_finite())
            && zero_points.iter().all(|z| (0..=255).contains(z));
        fits.then(|| Self::pack(|i| codes[i], k, n, steps, zero_points))
    }

    /// Packs the row-major `k × n` codes `code(i)` into panels; `steps` and `zero_points` have
    /// one entry per column.
    fn pack(code: impl Fn(usize) -> u8, k: usize, n: usize, mut steps: Vec<f32>, mut zero_points: Vec<i32>) -> Self {
        let pairs = k.div_ceil(2);
        // Padding columns have step 0, codes 0 and zero point 0; a padding row of `k` has
        // codes equal to the zero point (and meets a zero activation anyway).
        steps.resize(n.div_ceil(NR) * NR, 0.0);
        zero_points.resize(steps.len(), 0);
        let mut panels = Aligned::zeroed(steps.len() * pairs * 2);
        for kk in 0..pairs * 2 {
            for j in 0..n {
                let q = if kk < k { code(kk * n + j) } else { zero_points[j] as u8 };
                panels[((j / NR) * pairs + kk / 2) * 2 * NR + (j % NR) * 2 + kk % 2] = q;
            }
        }
        Self { k, n, steps, zero_points, panels }
    }

    /// Inner dimension (rows of `B`).
    pub fn k(&self) -> usize {
        self.k
    }

    /// Output width (columns of `B`).
    pub fn n(&self) -> usize {
        self.n
    }

    /// Bytes held by the packed weights.
    pub fn packed_bytes(&self) -> usize {
        self.panels.len()
    }

    fn panel(&self, p: usize) -> &[u8] {
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
pub struct QuantizedRows {
    m: usize,
    values: Aligned<i16>,
    /// What one unit is worth, per row and block.
    scales: Vec<f32>,
    stride: usize,
    blocks: usize,
}

impl QuantizedRows {
    /// Rounds the row-major `m × k` activations `a`. Panics unless `a.len() == m * k`.
    pub fn new(a: &[f32], m: usize, k: usize) -> Self {
        assert_eq!(a.len(), m * k, "activations are not {m} x {k}");
        let stride = k.div_ceil(2) * 2;
        let blocks = k.div_ceil(KB);
        let mut values = Aligned::zeroed(m * stride);
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
        Self { m, values, scales, stride, blocks }
    }

    /// Row `i`'s values and scales.
    fn row(&self, i: usize) -> RowBlocks<'_> {
        RowBlocks {
            values: &self.values[i * self.stride..][..self.stride],
            scales: &self.scales[i * self.blocks..][..self.blocks],
        }
    }
}

/// One row of activations as the integer micro-kernel reads it: `2 · pairs` rounded values,
/// and per block of [`KB`] values the worth of one unit.
#[derive(Clone, Copy)]
pub(crate) struct RowBlocks<'a> {
    pub values: &'a [i16],
    pub scales: &'a [f32],
}

/// Computes `c = a · b + bias` where `a` is row-major `m × k`, `c` row-major `m × n` and
/// `bias` (if any) has `n` entries added to every row. Panics on mismatched lengths.
pub fn qgemm(a: &[f32], m: usize, b: &QuantizedB, bias: Option<&[f32]>, c: &mut [f32]) {
    check_lengths(a.len(), m, b.k, b.n, bias, c);
    if b.n == 0 {
        return;
    }
    let mut rows: Vec<&mut [f32]> = c.chunks_mut(b.n).collect();
    qgemm_panels(&QuantizedRows::new(a, m, b.k), b, bias, 0..b.n.div_ceil(NR), &mut rows);
}

/// Like [`qgemm`] for the columns of panels `panels` alone, on rows already rounded
/// ([`QuantizedRows::new`], shared by the parts of a product split by columns): `out` holds the
/// `m` rows of the result, each from the first of those columns on and at least as wide as they
/// are ([`panel_columns`]). Panics on mismatched lengths.
pub fn qgemm_panels(
    rows: &QuantizedRows,
    b: &QuantizedB,
    bias: Option<&[f32]>,
    panels: Range<usize>,
    out: &mut [&mut [f32]],
) {
    let (k, n, m) = (b.k, b.n, rows.m);
    assert_eq!(rows.stride, k.div_ceil(2) * 2, "rows of {} values for k = {k}", rows.stride);
    check_panel_lengths(m * k, m, k, n, bias, out, &panel_columns(n, &panels));
    // The panel in use as `code - zero point` in i16, widened once for all the row tiles that
    // pass it (it stays in cache), so the inner loop loads i16 pairs as they are multiplied.
    let mut wide: Aligned<i16> = Aligned::zeroed(k.div_ceil(2) * 2 * NR);
    let mut wide_panel = None;
    for_each_tile_of(m, panels, n, bias, out, |row0, count, p| {
        if wide_panel != Some(p) {
            let zero_points: &[i32; NR] = b.zero_points[p * NR..][..NR].try_into().expect("NR zero points");
            widen(b.panel(p), zero_points, &mut wide);
            wide_panel = Some(p);
        }
        // Rows from `count` on are filler (the first row), never read.
        let a_rows: [RowBlocks; MR] = std::array::from_fn(|r| rows.row(row0 + if r < count { r } else { 0 }));
        let mut sums = qtile(&a_rows[..count], &wide);
        let steps = &b.steps[p * NR..][..NR];
        for sum_row in &mut sums {
            for (sum, step) in sum_row.iter_mut().zip(steps) {
                *sum *= step;
            }
        }
        sums
    });
}

/// A panel's codes minus their column's zero point, as `i16` (within ±255): `codes` holds pairs
/// of rows, `2 · NR` codes each (for each column, row `2p` then row `2p + 1`).
fn widen(codes: &[u8], zero_points: &[i32; NR], wide: &mut [i16]) {
    #[cfg(all(target_arch = "wasm32", target_feature = "simd128"))]
    {
        super::simd128::widen(codes, zero_points, wide)
    }
    #[cfg(not(all(target_arch = "wasm32", target_feature = "simd128")))]
    {
        for (i, (w, &q)) in wide.iter_mut().zip(codes).enumerate() {
            *w = (i32::from(q) - zero_points[i % (2 * NR) / 2]) as i16;
        }
    }
}

/// One tile of `a_rows.len()` (1 to [`MR`]) rows of `Σ_blocks scale · Σ_k a·w` over the pairs
/// of `k` the panel holds (`pairs · 2 · NR` weights, codes minus zero points, from [`widen`];
/// each row has `2 · pairs` values and a scale per block of [`KB`]); the rows past them are zeros.
fn qtile(a_rows: &[RowBlocks], panel: &[i16]) -> [[f32; NR]; MR] {
    #[cfg(all(target_arch = "wasm32", target_feature = "simd128"))]
    use super::simd128::qtile as kernel;
    #[cfg(not(all(target_arch = "wasm32", target_feature = "simd128")))]
    use qtile_portable as kernel;
    for_rows!(a_rows.len(), kernel(a_rows, panel))
}

/// The integer tile of the first `R` rows as plain loops.
#[cfg_attr(all(target_arch = "wasm32", target_feature = "simd128"), allow(dead_code))]
fn qtile_portable<const R: usize>(a_rows: &[RowBlocks], panel: &[i16]) -> [[f32; NR]; MR] {
    let mut out = [[0.0f32; NR]; MR];
    let pairs_per_block = KB / 2;
    for (block, b_block) in panel.chunks(pairs_per_block * 2 * NR).enumerate() {
        let start = block * pairs_per_block;
        for (out_row, a) in out.iter_mut().zip(&a_rows[..R]) {
            let mut acc = [0i32; NR];
            for (pair, b) in b_block.chunks_exact(2 * NR).enumerate() {
                let (x0, x1) = (i32::from(a.values[2 * (start + pair)]), i32::from(a.values[2 * (start + pair) + 1]));
                for (acc, b) in acc.iter_mut().zip(b.chunks_exact(2)) {
                    *acc += x0 * i32::from(b[0]) + x1 * i32::from(b[1]);
                }
            }
            for (o, acc) in out_row.iter_mut().zip(acc) {
                *o += acc as f32 * a.scales[block];
            }
        }
    }
    out
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
        let b = [1.0, -0.03 * 20.0, 0.0, -0.5, 0.03, 0.0, 127.0, 0.03 * 235.0, 0.0];
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
    fn detects_zero_points_and_refuses_codes_spanning_more_than_a_byte() {
        // Column 0: codes 1 to 255 (zero point -1); column 1: -255 to 0 (zero point 255).
        let b = [1.0, -255.0, 255.0, 0.0, 7.0, -1.0];
        let q = QuantizedB::detect(&b, 3, 2).expect("spans of 254 and 255 codes");
        assert_eq!((&q.steps[..2], &q.zero_points[..2]), (&[1.0, 1.0][..], &[-1, 255][..]));
        assert!(QuantizedB::detect(&[-255.0, 1.0], 2, 1).is_none(), "256 codes do not fit a byte");
        let mut c = [0.0; 2];
        qgemm(&[1.0, 1.0, 1.0], 1, &q, None, &mut c);
        assert_eq!(c, [263.0, -256.0]);
    }

    #[test]
    fn packs_byte_codes_with_their_zero_points() {
        // Row-major 2 × 3 codes, a zero point and a step per column.
        let codes = [0, 128, 255, 10, 20, 130];
        let q = QuantizedB::from_codes(&codes, 2, 3, vec![128, 0, 255], vec![0.5, 0.25, 2.0]).unwrap();
        let mut c = [0.0; 3];
        qgemm(&[1.0, -2.0], 1, &q, None, &mut c);
        // (q - zero point) · step, then x · W.
        let want = [(-128.0 - 2.0 * -118.0) * 0.5, (128.0 - 2.0 * 20.0) * 0.25, (0.0 - 2.0 * -125.0) * 2.0];
        for (got, want) in c.iter().zip(want) {
            assert!((got - want).abs() <= want.abs() * 1e-4, "{c:?} vs {want:?}");
        }
        assert!(QuantizedB::from_codes(&codes, 2, 3, vec![128, 0, 256], vec![0.5, 0.25, 2.0]).is_none());
        assert!(QuantizedB::from_codes(&codes, 2, 3, vec![0; 3], vec![0.5, f32::NAN, 2.0]).is_none());
        assert!(QuantizedB::from_codes(&codes, 3, 3, vec![0; 3], vec![1.0; 3]).is_none());
        assert_eq!(q.packed_bytes(), 8 * 2, "one byte per code, padded to 8 columns");
    }

    #[test]
    fn large_sums_do_not_overflow() {
        // Every product at its largest: 1536 · 32767 · 255 would overflow one i32 sum. Column 0
        // is +255 everywhere (codes 255, zero point 0), column 1 -255 (codes 0, zero point 255).
        let k = 1536;
        let codes: Vec<u8> = (0..k).flat_map(|_| [255, 0]).collect();
        let q = QuantizedB::from_codes(&codes, k, 2, vec![0, 255], vec![1.0, 1.0]).unwrap();
        for sign in [1.0, -1.0] {
            let mut c = [0.0; 2];
            qgemm(&vec![sign; k], 1, &q, None, &mut c);
            let want = sign * 255.0 * k as f32;
            assert!((c[0] - want).abs() <= want.abs() * 1e-6, "{} vs {want}", c[0]);
            assert!((c[1] + want).abs() <= want.abs() * 1e-6, "{} vs {}", c[1], -want);
        }
    }
}
