//! `C = A·B (+ bias)` for a constant `B`: the weights are packed once into column panels of
//! [`NR`] columns (`k × NR` floats each, zero-padded), and a register-blocked micro-kernel
//! computes [`MR`] × [`NR`] tiles of `C`. In wasm with simd128 the tile is computed with
//! `f32x4` vectors; elsewhere a portable loop the compiler vectorises.

use std::ops::Range;

use super::aligned::Aligned;

/// Rows of `C` computed together by the micro-kernel.
pub const MR: usize = 4;
/// Columns of `C` computed together (one packed panel).
pub const NR: usize = 8;
/// Rows of `A` worked on at once, so that they stay in cache while every panel passes by.
const MC: usize = 64;

/// Calls `kernel::<R>(args)` with `R` the number of rows of `A` in the tile (1 to [`MR`]), so
/// that the last tile of a product whose rows are not a multiple of [`MR`] multiplies only the
/// rows it has (7 tokens: 7 rows, not 8).
macro_rules! for_rows {
    ($rows:expr, $kernel:ident($($arg:expr),*)) => {{
        const { assert!($crate::kernels::gemm::MR == 4, "one arm per tile height") };
        match $rows {
            1 => $kernel::<1>($($arg),*),
            2 => $kernel::<2>($($arg),*),
            3 => $kernel::<3>($($arg),*),
            _ => $kernel::<4>($($arg),*),
        }
    }};
}
pub(super) use for_rows;

/// A `k × n` weight matrix packed into `⌈n / NR⌉` panels of `k × NR` floats.
#[derive(Debug, Clone, PartialEq)]
pub struct PackedB {
    k: usize,
    n: usize,
    panels: Aligned<f32>,
}

impl PackedB {
    /// Packs a row-major `k × n` matrix. Panics if `b.len() != k * n`.
    pub fn pack(b: &[f32], k: usize, n: usize) -> Self {
        assert_eq!(b.len(), k * n, "weights are not {k} x {n}");
        Self::pack_strided(b, k, n, n, 1)
    }

    /// Packs the `k × n` matrix whose element `(i, j)` is `b[i * row_stride + j * col_stride]`.
    /// Panics if `b` is too short for that.
    pub fn pack_strided(b: &[f32], k: usize, n: usize, row_stride: usize, col_stride: usize) -> Self {
        let panel_count = n.div_ceil(NR);
        let mut panels = Aligned::zeroed(panel_count * k * NR);
        // `max(1)`: with k = 0 there is nothing to copy (and chunks may not be empty).
        for (p, panel) in panels.chunks_exact_mut((k * NR).max(1)).enumerate() {
            let col0 = p * NR;
            let width = NR.min(n - col0);
            for (row, dst) in panel.chunks_exact_mut(NR).enumerate() {
                let src = &b[row * row_stride + col0 * col_stride..];
                if col_stride == 1 {
                    dst[..width].copy_from_slice(&src[..width]);
                } else {
                    for (j, d) in dst[..width].iter_mut().enumerate() {
                        *d = src[j * col_stride];
                    }
                }
            }
        }
        Self { k, n, panels }
    }

    /// Inner dimension (rows of `B`).
    pub fn k(&self) -> usize {
        self.k
    }

    /// Output width (columns of `B`).
    pub fn n(&self) -> usize {
        self.n
    }

    fn panel(&self, p: usize) -> &[f32] {
        &self.panels[p * self.k * NR..(p + 1) * self.k * NR]
    }
}

/// Computes `c = a · b + bias` where `a` is row-major `m × k`, `c` row-major `m × n` and
/// `bias` (if any) has `n` entries added to every row. Panics on mismatched lengths.
pub fn gemm(a: &[f32], m: usize, b: &PackedB, bias: Option<&[f32]>, c: &mut [f32]) {
    let (k, n) = (b.k, b.n);
    check_lengths(a.len(), m, k, n, bias, c);
    gemm_strided(a, k, m, b, bias, c, n);
}

/// Like [`gemm`] for the columns of panels `panels` alone: `rows` holds the `m` rows of the
/// result, each from the first of those columns on and at least as wide as they are
/// ([`panel_columns`]). Panics on mismatched lengths.
pub fn gemm_panels(
    a: &[f32],
    m: usize,
    b: &PackedB,
    bias: Option<&[f32]>,
    panels: Range<usize>,
    rows: &mut [&mut [f32]],
) {
    let (k, n) = (b.k, b.n);
    check_panel_lengths(a.len(), m, k, n, bias, rows, &panel_columns(n, &panels));
    for_each_tile_of(m, panels, n, bias, rows, |row0, count, p| {
        let a_rows: [&[f32]; MR] = std::array::from_fn(|r| if r < count { &a[(row0 + r) * k..][..k] } else { &[] });
        tile(&a_rows[..count], b.panel(p), k)
    });
}

/// The columns of `n` that panels `panels` hold (the last panel may be narrower than [`NR`]).
/// Panics unless the panels are within the `⌈n / NR⌉` there are.
pub fn panel_columns(n: usize, panels: &Range<usize>) -> Range<usize> {
    assert!(panels.start <= panels.end && panels.end <= n.div_ceil(NR), "panels {panels:?} of {n} columns");
    panels.start * NR..n.min(panels.end * NR)
}

/// Like [`gemm`], with row `i` of `a` starting at `a[i * lda]` and row `i` of `c` at
/// `c[i * ldc]` (for products inside larger tensors). Panics if a slice is too short.
pub fn gemm_strided(a: &[f32], lda: usize, m: usize, b: &PackedB, bias: Option<&[f32]>, c: &mut [f32], ldc: usize) {
    let k = b.k;
    for_each_tile(m, b.n, bias, c, ldc, |row0, rows, p| {
        let a_rows: [&[f32]; MR] = std::array::from_fn(|r| if r < rows { &a[(row0 + r) * lda..][..k] } else { &[] });
        tile(&a_rows[..rows], b.panel(p), k)
    });
}

/// Panics unless the activations are `m × k`, the output `m × n` and the bias `n` long.
pub(super) fn check_lengths(a_len: usize, m: usize, k: usize, n: usize, bias: Option<&[f32]>, c: &[f32]) {
    assert_eq!(a_len, m * k, "activations are not {m} x {k}");
    assert_eq!(c.len(), m * n, "output is not {m} x {n}");
    check_bias(bias, n);
}

/// Panics unless the activations are `m × k`, there are `m` rows of output each at least as
/// wide as `columns`, and the bias is `n` long.
pub(super) fn check_panel_lengths(
    a_len: usize,
    m: usize,
    k: usize,
    n: usize,
    bias: Option<&[f32]>,
    rows: &[&mut [f32]],
    columns: &Range<usize>,
) {
    assert_eq!(a_len, m * k, "activations are not {m} x {k}");
    assert_eq!(rows.len(), m, "output is not {m} rows");
    assert!(rows.iter().all(|row| row.len() >= columns.len()), "output rows narrower than {columns:?}");
    check_bias(bias, n);
}

fn check_bias(bias: Option<&[f32]>, n: usize) {
    if let Some(bias) = bias {
        assert_eq!(bias.len(), n, "bias is not {n} long");
    }
}

/// Walks `c` (`m × n`, row `i` at `c[i * ldc]`) in `MR × NR` tiles, in chunks of [`MC`] rows so
/// that those rows stay in cache while every panel passes by. `tile(row0, rows, p)` computes
/// the tile of rows `row0..row0 + rows` (`1 ≤ rows ≤ MR`; rows past them are dropped) and
/// panel `p`; the tile is written to `c` plus `bias` (if any, `n` entries added to every row).
fn for_each_tile(
    m: usize,
    n: usize,
    bias: Option<&[f32]>,
    c: &mut [f32],
    ldc: usize,
    mut tile: impl FnMut(usize, usize, usize) -> [[f32; NR]; MR],
) {
    let zero_bias = [0.0; NR];
    for chunk0 in (0..m).step_by(MC) {
        let chunk_end = m.min(chunk0 + MC);
        for p in 0..n.div_ceil(NR) {
            let col0 = p * NR;
            let width = NR.min(n - col0);
            let bias = bias.map_or(&zero_bias[..width], |bias| &bias[col0..col0 + width]);
            for row0 in (chunk0..chunk_end).step_by(MR) {
                let count = MR.min(chunk_end - row0);
                let tile = tile(row0, count, p);
                for (r, tile_row) in tile.iter().enumerate().take(count) {
                    let out = &mut c[(row0 + r) * ldc + col0..][..width];
                    for ((o, t), b) in out.iter_mut().zip(tile_row).zip(bias) {
                        *o = t + b;
                    }
                }
            }
        }
    }
}

/// [`for_each_tile`] over panels `panels` of an `n`-column product alone, into `rows`: row `i`
/// of the result from the first column of panel `panels.start` on (a part of a product split by
/// columns writes pieces of the result's rows). Kept apart from [`for_each_tile`], which the
/// attention products use: rows held apart cost those many short tiles 2-4% at 512 tokens, and
/// one walk generic over both ways of writing cost the integer products 5-10% in wasm (CPU
/// time in one Node process, 2026-11-28).
pub(super) fn for_each_tile_of(
    m: usize,
    panels: Range<usize>,
    n: usize,
    bias: Option<&[f32]>,
    rows: &mut [&mut [f32]],
    mut tile: impl FnMut(usize, usize, usize) -> [[f32; NR]; MR],
) {
    let zero_bias = [0.0; NR];
    let first_column = panels.start * NR;
    for chunk0 in (0..m).step_by(MC) {
        let chunk_end = m.min(chunk0 + MC);
        for p in panels.clone() {
            let col0 = p * NR;
            let width = NR.min(n - col0);
            let bias = bias.map_or(&zero_bias[..width], |bias| &bias[col0..col0 + width]);
            for row0 in (chunk0..chunk_end).step_by(MR) {
                let count = MR.min(chunk_end - row0);
                let tile = tile(row0, count, p);
                for (tile_row, row) in tile.iter().zip(&mut rows[row0..row0 + count]) {
                    let out = &mut row[col0 - first_column..][..width];
                    for ((o, t), b) in out.iter_mut().zip(tile_row).zip(bias) {
                        *o = t + b;
                    }
                }
            }
        }
    }
}

/// One tile of `a_rows.len()` (1 to [`MR`]) rows: `Σ_k a_rows[r][k] · panel[k][j]`; the rows
/// past them are zeros.
fn tile(a_rows: &[&[f32]], panel: &[f32], k: usize) -> [[f32; NR]; MR] {
    #[cfg(all(target_arch = "wasm32", target_feature = "simd128"))]
    use super::simd128::tile as kernel;
    #[cfg(not(all(target_arch = "wasm32", target_feature = "simd128")))]
    use tile_portable as kernel;
    for_rows!(a_rows.len(), kernel(a_rows, panel, k))
}

/// The tile of the first `R` rows as plain loops; the fixed-size inner loop over `NR` columns
/// vectorises.
#[cfg_attr(all(target_arch = "wasm32", target_feature = "simd128"), allow(dead_code))]
fn tile_portable<const R: usize>(a_rows: &[&[f32]], panel: &[f32], k: usize) -> [[f32; NR]; MR] {
    let mut acc = [[0.0f32; NR]; MR];
    let a_rows: [&[f32]; R] = std::array::from_fn(|r| &a_rows[r][..k]);
    for (kk, b) in panel[..k * NR].chunks_exact(NR).enumerate() {
        for (acc_row, a_row) in acc.iter_mut().zip(&a_rows) {
            let av = a_row[kk];
            for (acc, b) in acc_row.iter_mut().zip(b) {
                *acc += av * b;
            }
        }
    }
    acc
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn empty_inputs_give_empty_or_bias_outputs() {
        let packed = PackedB::pack(&[], 0, 3);
        let mut c = vec![9.0; 6];
        gemm(&[], 2, &packed, Some(&[1.0, 2.0, 3.0]), &mut c);
        assert_eq!(c, [1.0, 2.0, 3.0, 1.0, 2.0, 3.0]);
        gemm(&[], 0, &PackedB::pack(&[], 0, 0), None, &mut []);
    }
}
