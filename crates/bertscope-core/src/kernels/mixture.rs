//! The inner loop of ALTI (`analysis::mixing`): how far each row's target vector is, in L1, from
//! a weighted sum of a few shared vectors. For one key token the shared vectors are its heads'
//! contributions and the rows are the queries, so this runs `n` times per layer on `n × parts × d`
//! multiply-adds: most of ALTI's time.
//!
//! In wasm with simd128, four rows are done at once in `f32x4` lanes of four columns, so each
//! vector load serves four rows; elsewhere a plain loop.

/// Rows done together by the simd128 path.
#[cfg(all(target_arch = "wasm32", target_feature = "simd128"))]
const ROWS: usize = 4;

/// `out[i] = Σ_d |targets[i][d] − Σ_p weights[i][p] · vectors[p][d]|` for every row `i`.
///
/// `targets` is `rows × width`, `weights` `rows × parts`, `vectors` `parts × width`, all
/// row-major, and `out` has `rows` entries.
///
/// # Panics
/// If the lengths do not agree.
pub fn l1_from_mixtures(
    targets: &[f32],
    weights: &[f32],
    vectors: &[f32],
    width: usize,
    parts: usize,
    out: &mut [f32],
) {
    let rows = out.len();
    assert!(
        targets.len() == rows * width && weights.len() == rows * parts && vectors.len() == parts * width,
        "l1_from_mixtures: {} targets, {} weights, {} vectors for {rows} rows × {parts} parts × {width}",
        targets.len(),
        weights.len(),
        vectors.len()
    );
    let done = simd_blocks(targets, weights, vectors, width, parts, out);
    for row in done..rows {
        out[row] =
            l1_row(&targets[row * width..(row + 1) * width], &weights[row * parts..(row + 1) * parts], vectors, width);
    }
}

/// The rows done four at a time by the simd128 path (all but the last `rows % 4`): how many.
#[cfg(all(target_arch = "wasm32", target_feature = "simd128"))]
fn simd_blocks(
    targets: &[f32],
    weights: &[f32],
    vectors: &[f32],
    width: usize,
    parts: usize,
    out: &mut [f32],
) -> usize {
    if !width.is_multiple_of(4) {
        return 0;
    }
    let blocks = out.len() / ROWS;
    for (b, out) in out.chunks_exact_mut(ROWS).enumerate() {
        let rows = b * ROWS..(b + 1) * ROWS;
        let targets = &targets[rows.start * width..rows.end * width];
        let weights = &weights[rows.start * parts..rows.end * parts];
        out.copy_from_slice(&super::simd128::l1_from_mixtures_block(targets, weights, vectors, width, parts));
    }
    blocks * ROWS
}

/// Without simd128 every row takes the plain loop.
#[cfg(not(all(target_arch = "wasm32", target_feature = "simd128")))]
fn simd_blocks(_: &[f32], _: &[f32], _: &[f32], _: usize, _: usize, _: &mut [f32]) -> usize {
    0
}

/// One row, plainly.
fn l1_row(target: &[f32], weights: &[f32], vectors: &[f32], width: usize) -> f32 {
    let mut rest = target.to_vec();
    for (w, vector) in weights.iter().zip(vectors.chunks_exact(width)) {
        if *w != 0.0 {
            rest.iter_mut().zip(vector).for_each(|(r, v)| *r -= w * v);
        }
    }
    rest.iter().map(|r| r.abs()).sum()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn matches_the_definition() {
        // 6 rows (a block of four and a tail), 3 parts, width 8.
        let (rows, parts, width) = (6, 3, 8);
        let value = |i: usize, salt: usize| ((i * 7 + salt * 13) % 11) as f32 / 4.0 - 1.2;
        let targets: Vec<f32> = (0..rows * width).map(|i| value(i, 1)).collect();
        let weights: Vec<f32> = (0..rows * parts).map(|i| value(i, 2)).collect();
        let vectors: Vec<f32> = (0..parts * width).map(|i| value(i, 3)).collect();
        let mut out = vec![0.0; rows];
        l1_from_mixtures(&targets, &weights, &vectors, width, parts, &mut out);
        for i in 0..rows {
            let want: f64 = (0..width)
                .map(|d| {
                    let mix: f64 =
                        (0..parts).map(|p| weights[i * parts + p] as f64 * vectors[p * width + d] as f64).sum();
                    (targets[i * width + d] as f64 - mix).abs()
                })
                .sum();
            assert!((out[i] as f64 - want).abs() < 1e-5, "row {i}: {} vs {want}", out[i]);
        }
    }
}
