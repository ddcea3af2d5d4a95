//! One product split over threads: the rows of the activations and of the result are cut into
//! bands, and each band is multiplied by the unchanged kernel ([`Weights::gemm`]). A row's result
//! depends on that row alone (the integer kernel scales each row's blocks on their own), so bands
//! give exactly what one call gives.
//!
//! With the `threads` feature the calling thread multiplies the first band itself while rayon's
//! pool (in wasm, one Web Worker per thread sharing the memory) takes the others, so a product
//! wakes only the pool's threads; without the feature, [`gemm_in_threads`] is one call of the
//! kernel.

use super::gemm::MR;
use super::Weights;

/// Fewest multiply-adds per band worth handing to another thread: waking a thread and joining it
/// costs tens of microseconds in wasm, the time of about this much work.
pub const MIN_BAND_WORK: usize = 1 << 18;

/// How many threads the products may use: with the `threads` feature, rayon's pool plus the
/// calling thread when it is not one of the pool's; else 1.
pub fn threads() -> usize {
    #[cfg(feature = "threads")]
    {
        rayon::current_num_threads() + usize::from(rayon::current_thread_index().is_none())
    }
    #[cfg(not(feature = "threads"))]
    {
        1
    }
}

/// How many bands `m` rows of a `k × n` product are cut into for `threads` threads: at most one
/// per thread, at least [`MR`] rows and [`MIN_BAND_WORK`] multiply-adds each.
pub fn bands_for(m: usize, k: usize, n: usize, threads: usize) -> usize {
    let by_rows = m.div_ceil(MR);
    let by_work = (m * k * n / MIN_BAND_WORK).max(1);
    threads.min(by_rows).min(by_work).max(1)
}

/// `c = a · W + bias` ([`Weights::gemm`]), split over the pool's threads when the product is big
/// enough (see [`bands_for`]).
pub fn gemm_in_threads(weights: &Weights, a: &[f32], m: usize, bias: Option<&[f32]>, c: &mut [f32]) {
    let bands = bands_for(m, weights.k(), weights.n(), threads());
    gemm_in_bands(weights, a, m, bias, c, bands);
}

/// `c = a · W + bias` computed as `bands` bands of whole rows (a multiple of [`MR`] each, the
/// last one shorter), in parallel with the `threads` feature. Panics on mismatched lengths, as
/// [`Weights::gemm`] does.
pub fn gemm_in_bands(weights: &Weights, a: &[f32], m: usize, bias: Option<&[f32]>, c: &mut [f32], bands: usize) {
    let (k, n) = (weights.k(), weights.n());
    if bands <= 1 || k == 0 || n == 0 || a.len() != m * k || c.len() != m * n {
        // One call, which also refuses mismatched lengths in its own words.
        return weights.gemm(a, m, bias, c);
    }
    let rows = m.div_ceil(bands).next_multiple_of(MR);
    let band = |(a, c): (&[f32], &mut [f32])| weights.gemm(a, a.len() / k, bias, c);
    let pieces = a.chunks(rows * k).zip(c.chunks_mut(rows * n));
    #[cfg(feature = "threads")]
    rayon::in_place_scope(|scope| {
        let mut pieces = pieces;
        let first = pieces.next();
        for piece in pieces {
            scope.spawn(move |_| band(piece));
        }
        if let Some(first) = first {
            band(first);
        }
    });
    #[cfg(not(feature = "threads"))]
    pieces.for_each(band);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bands_need_rows_and_work() {
        // 7 tokens of a 384 × 384 product: 1M multiply-adds, two bands of 4 and 3 rows.
        assert_eq!(bands_for(7, 384, 384, 2), 2);
        assert_eq!(bands_for(7, 384, 384, 8), 2);
        assert_eq!(bands_for(512, 384, 1536, 4), 4);
        // Too little work to share, and one thread.
        assert_eq!(bands_for(4, 16, 16, 4), 1);
        assert_eq!(bands_for(512, 384, 384, 1), 1);
        assert_eq!(bands_for(0, 384, 384, 4), 1);
    }
}
