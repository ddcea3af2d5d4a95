//! The GEMM micro-kernels with wasm simd128: a tile of `R ≤ MR` rows and `NR` columns held in
//! `R × 2` accumulators (at most 8 of V8's 16 vector registers), one broadcast of `A` per row and
//! two loads of the packed panel per step: `f32x4` for one value of `k` ([`tile`]), `i32x4.dot_i16x8_s` for two
//! ([`qtile`], on byte codes widened to `i16` minus their zero point by [`widen`]).

use core::arch::wasm32::{
    f32x4_abs, f32x4_add, f32x4_convert_i32x4, f32x4_extract_lane, f32x4_max, f32x4_mul, f32x4_nearest, f32x4_splat,
    f32x4_sub, i16x8, i16x8_narrow_i32x4, i16x8_sub, i32x4_add, i32x4_dot_i16x8, i32x4_splat, i32x4_trunc_sat_f32x4,
    u16x8_extend_high_u8x16, u16x8_extend_low_u8x16, v128, v128_load, v128_load32_splat, v128_store,
};

use super::gemm::{MR, NR};
use super::qgemm::{RowBlocks, KB};

const _: () = assert!(NR == 8, "the kernel holds a row of the tile in two f32x4");

/// The tile of `C` for the first `R` rows of `a_rows` (the rows past them are zeros); see
/// [`super::gemm`]. Panics unless there are `R` rows, each `a_rows[r].len() >= k`, and
/// `panel.len() >= k * NR`.
pub(crate) fn tile<const R: usize>(a_rows: &[&[f32]], panel: &[f32], k: usize) -> [[f32; NR]; MR] {
    let a_rows: [&[f32]; R] = std::array::from_fn(|r| &a_rows[r][..k]);
    let zero = f32x4_splat(0.0);
    let mut lo = [zero; R];
    let mut hi = [zero; R];
    let b_ptr = panel[..k * NR].as_ptr();
    // Indexed loops: this is the form measured at ~55 GFLOP/s in Chrome; a zipped-iterator
    // form (tried together with MR = 6) was 5x slower.
    #[allow(clippy::needless_range_loop)]
    for kk in 0..k {
        // SAFETY: kk < k and the panel holds k * NR floats (sliced above), so both 4-float
        // loads read inside it; v128_load has no alignment requirement.
        let (b_lo, b_hi) = unsafe {
            let at = b_ptr.add(kk * NR);
            (v128_load(at as *const v128), v128_load(at.add(4) as *const v128))
        };
        for r in 0..R {
            let a = f32x4_splat(a_rows[r][kk]);
            lo[r] = f32x4_add(lo[r], f32x4_mul(a, b_lo));
            hi[r] = f32x4_add(hi[r], f32x4_mul(a, b_hi));
        }
    }
    tile_from(&lo, &hi)
}

/// One tile of [`super::qgemm`] for the first `R` rows of `a_rows` (the rows past them are
/// zeros): per block of [`KB`] values, the integer sums `Σ a·w`, scaled by the block's scale and
/// added up in `f32`. Each row holds `2 · pairs` values and `panel` `pairs · 2 · NR` weights;
/// panics otherwise, or if there are fewer than `R` rows.
pub(crate) fn qtile<const R: usize>(a_rows: &[RowBlocks], panel: &[i16]) -> [[f32; NR]; MR] {
    let pairs = panel.len() / (2 * NR);
    let blocks = pairs.div_ceil(KB / 2);
    let a_ptrs: [*const i16; R] = std::array::from_fn(|r| a_rows[r].values[..2 * pairs].as_ptr());
    let scales: [&[f32]; R] = std::array::from_fn(|r| &a_rows[r].scales[..blocks]);
    let b_ptr = panel[..pairs * 2 * NR].as_ptr();
    let mut out_lo = [f32x4_splat(0.0); R];
    let mut out_hi = [f32x4_splat(0.0); R];
    // Indexed loops, as in `tile`: the block indexes every row's scales at once.
    #[allow(clippy::needless_range_loop)]
    for block in 0..blocks {
        let (start, end) = (block * KB / 2, pairs.min((block + 1) * KB / 2));
        let zero = i32x4_splat(0);
        let mut lo = [zero; R];
        let mut hi = [zero; R];
        for pair in start..end {
            // SAFETY: pair < pairs, the panel holds pairs * 2 * NR values and each row 2 * pairs
            // (sliced above), so every load reads inside them; loads have no alignment
            // requirement.
            let (b_lo, b_hi) = unsafe {
                let at = b_ptr.add(pair * 2 * NR);
                (v128_load(at as *const v128), v128_load(at.add(NR) as *const v128))
            };
            for r in 0..R {
                // Both values of row r at this pair, in every 32-bit lane.
                let a = unsafe { v128_load32_splat(a_ptrs[r].add(2 * pair) as *const u32) };
                lo[r] = i32x4_add(lo[r], i32x4_dot_i16x8(a, b_lo));
                hi[r] = i32x4_add(hi[r], i32x4_dot_i16x8(a, b_hi));
            }
        }
        for r in 0..R {
            let scale = f32x4_splat(scales[r][block]);
            out_lo[r] = f32x4_add(out_lo[r], f32x4_mul(f32x4_convert_i32x4(lo[r]), scale));
            out_hi[r] = f32x4_add(out_hi[r], f32x4_mul(f32x4_convert_i32x4(hi[r]), scale));
        }
    }
    tile_from(&out_lo, &out_hi)
}

/// A panel's byte codes minus their column's zero point, as `i16`: `codes` holds pairs of rows,
/// `2 · NR` codes each (for each column, row `2p` then row `2p + 1`); panics unless `wide` is as
/// long as `codes`, a whole number of pairs.
pub(crate) fn widen(codes: &[u8], zero_points: &[i32; NR], wide: &mut [i16]) {
    assert!(codes.len() == wide.len() && codes.len().is_multiple_of(2 * NR));
    // Each column's zero point twice (its two rows), for columns 0-3 and 4-7.
    let z = zero_points.map(|z| z as i16);
    let zero_lo = i16x8(z[0], z[0], z[1], z[1], z[2], z[2], z[3], z[3]);
    let zero_hi = i16x8(z[4], z[4], z[5], z[5], z[6], z[6], z[7], z[7]);
    for (src, dst) in codes.chunks_exact(2 * NR).zip(wide.chunks_exact_mut(2 * NR)) {
        // SAFETY: `src` holds 16 bytes and `dst` 16 i16 (32 bytes): one load, two stores inside.
        unsafe {
            let v = v128_load(src.as_ptr() as *const v128);
            v128_store(dst.as_mut_ptr() as *mut v128, i16x8_sub(u16x8_extend_low_u8x16(v), zero_lo));
            v128_store(dst.as_mut_ptr().add(NR) as *mut v128, i16x8_sub(u16x8_extend_high_u8x16(v), zero_hi));
        }
    }
}

/// The largest magnitude in `row`, NaN if it holds a NaN.
pub(crate) fn max_abs(row: &[f32]) -> f32 {
    let mut chunks = row.chunks_exact(4);
    let mut largest = f32x4_splat(0.0);
    for chunk in &mut chunks {
        // SAFETY: the chunk holds 4 floats.
        let v = unsafe { v128_load(chunk.as_ptr() as *const v128) };
        // f32x4_max propagates NaN.
        largest = f32x4_max(largest, f32x4_abs(v));
    }
    let lanes = [
        f32x4_extract_lane::<0>(largest),
        f32x4_extract_lane::<1>(largest),
        f32x4_extract_lane::<2>(largest),
        f32x4_extract_lane::<3>(largest),
    ];
    lanes.into_iter().chain(chunks.remainder().iter().map(|v| v.abs())).fold(0.0, |m, v| {
        if v > m || v.is_nan() {
            v
        } else {
            m
        }
    })
}

/// `out[i] = round(row[i] · factor)` (ties to even), saturating to `i16`.
pub(crate) fn round_scaled(row: &[f32], factor: f32, out: &mut [i16]) {
    let factor_v = f32x4_splat(factor);
    let mut rows = row.chunks_exact(8);
    let mut outs = out.chunks_exact_mut(8);
    for (chunk, dst) in (&mut rows).zip(&mut outs) {
        // SAFETY: the chunk holds 8 floats and `dst` 8 i16: two loads, one store, inside them.
        unsafe {
            let lo = v128_load(chunk.as_ptr() as *const v128);
            let hi = v128_load(chunk.as_ptr().add(4) as *const v128);
            let round = |v| i32x4_trunc_sat_f32x4(f32x4_nearest(f32x4_mul(v, factor_v)));
            v128_store(dst.as_mut_ptr() as *mut v128, i16x8_narrow_i32x4(round(lo), round(hi)));
        }
    }
    for (o, v) in outs.into_remainder().iter_mut().zip(rows.remainder()) {
        *o = (v * factor).round_ties_even() as i16;
    }
}

/// Four rows of [`super::mixture::l1_from_mixtures`]: `targets` holds 4 rows of `width` (a
/// multiple of 4) and `weights` 4 rows of `parts`; `vectors` is `parts × width`. Each vector
/// chunk is loaded once for the four rows.
pub(crate) fn l1_from_mixtures_block(
    targets: &[f32],
    weights: &[f32],
    vectors: &[f32],
    width: usize,
    parts: usize,
) -> [f32; 4] {
    assert!(
        width.is_multiple_of(4)
            && targets.len() == 4 * width
            && weights.len() == 4 * parts
            && vectors.len() == parts * width
    );
    let splats: Vec<[v128; 4]> =
        (0..parts).map(|p| [0, 1, 2, 3].map(|r| f32x4_splat(weights[r * parts + p]))).collect();
    let mut sums = [f32x4_splat(0.0); 4];
    let (t_ptr, v_ptr) = (targets.as_ptr(), vectors.as_ptr());
    for d in (0..width).step_by(4) {
        // SAFETY: d + 4 <= width (a multiple of 4), so each 4-float load reads inside row r of
        // `targets` (4 rows of width) and row p of `vectors` (parts rows of width), as asserted.
        unsafe {
            let mut rest = [0, 1, 2, 3].map(|r| v128_load(t_ptr.add(r * width + d) as *const v128));
            for (p, w) in splats.iter().enumerate() {
                let v = v128_load(v_ptr.add(p * width + d) as *const v128);
                for r in 0..4 {
                    rest[r] = f32x4_sub(rest[r], f32x4_mul(w[r], v));
                }
            }
            for r in 0..4 {
                sums[r] = f32x4_add(sums[r], f32x4_abs(rest[r]));
            }
        }
    }
    sums.map(|s| {
        f32x4_extract_lane::<0>(s)
            + f32x4_extract_lane::<1>(s)
            + f32x4_extract_lane::<2>(s)
            + f32x4_extract_lane::<3>(s)
    })
}

/// The tile's first `R` rows, held in `R` pairs of vectors (left and right halves of each row),
/// as an array of 4-byte lanes (`f32` or `i32`) whose rows past them are zeros.
fn tile_from<T: Copy + Default, const R: usize>(lo: &[v128; R], hi: &[v128; R]) -> [[T; NR]; MR] {
    const { assert!(size_of::<T>() == 4, "a lane is 4 bytes") };
    let mut out = [[T::default(); NR]; MR];
    for (row, (lo, hi)) in out.iter_mut().zip(lo.iter().zip(hi)) {
        let ptr = row.as_mut_ptr();
        // SAFETY: `row` holds NR = 8 lanes of 4 bytes, so the two 16-byte stores stay inside
        // it; v128_store has no alignment requirement.
        unsafe {
            v128_store(ptr as *mut v128, *lo);
            v128_store(ptr.add(4) as *mut v128, *hi);
        }
    }
    out
}
