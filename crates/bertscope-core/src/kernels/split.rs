//! One product split over threads: the rows of the activations and of the result are cut into
//! bands, and each band is multiplied by the unchanged kernel ([`Weights::gemm`]). A row's result
//! depends on that row alone (the integer kernel scales each row's blocks on their own), so bands
//! give exactly what one call gives. A product of few rows is cut into parts of whole column
//! panels instead ([`gemm_in_columns`]), which compute each element as one call does too.
//!
//! With the `threads` feature the calling thread multiplies the first part itself while rayon's
//! pool (in wasm, one Web Worker per thread sharing the memory) takes the others, so a product
//! wakes only the pool's threads; without the feature, [`gemm_in_threads`] is one call of the
//! kernel. [`in_parts`] is the same split for any work that writes disjoint parts of one
//! buffer (the attention products, `ops::batched_matmul`).

use super::gemm::{MR, NR};
use super::Weights;

/// Fewest multiply-adds per band worth handing to another thread: waking a thread and joining it
/// costs tens of microseconds in wasm, the time of about this much work.
pub const MIN_BAND_WORK: usize = 1 << 18;

/// Whether rayon's global pool was made on purpose ([`global_pool_made`]). In wasm, asking rayon
/// about its global pool before that would make a default one, of the calling thread alone (a
/// wasm instance cannot spawn threads), and the real pool could then never be made: the page
/// loads a model, and restores a kept one, before it starts the pool.
#[cfg(feature = "threads")]
static GLOBAL_POOL: std::sync::atomic::AtomicBool = std::sync::atomic::AtomicBool::new(false);

/// Records that rayon's global pool exists (the wasm build calls it once it has made the pool).
pub fn global_pool_made() {
    #[cfg(feature = "threads")]
    GLOBAL_POOL.store(true, std::sync::atomic::Ordering::Release);
}

/// How many threads the products may use: with the `threads` feature, rayon's pool plus the
/// calling thread when it is not one of the pool's (in wasm, 1 until the global pool is made);
/// else 1.
pub fn threads() -> usize {
    #[cfg(feature = "threads")]
    {
        if rayon::current_thread_index().is_some() {
            return rayon::current_num_threads();
        }
        if cfg!(target_arch = "wasm32") && !GLOBAL_POOL.load(std::sync::atomic::Ordering::Acquire) {
            return 1;
        }
        rayon::current_num_threads() + 1
    }
    #[cfg(not(feature = "threads"))]
    {
        1
    }
}

/// Runs `work` with the other threads of the caller's pool kept awake: each waits for parts by
/// looking for them (`rayon::yield_now`) instead of going to sleep, until `work` returns. A run
/// hands the pool dozens of small splits a few tens of microseconds apart, and a thread asleep
/// takes longer than that to wake in a browser; onnxruntime-web's threads wait the same way.
/// Without the `threads` feature, or outside a pool of two threads or more, just `work()`.
pub fn with_pool_awake<R>(work: impl FnOnce() -> R) -> R {
    #[cfg(feature = "threads")]
    let _awake = Awake::start();
    work()
}

/// The other threads of the caller's pool, looking for work until this is dropped.
#[cfg(feature = "threads")]
struct Awake(std::sync::Arc<AwakeState>);

#[cfg(feature = "threads")]
struct AwakeState {
    /// Cleared when the run is over.
    running: std::sync::atomic::AtomicBool,
    /// How many of the other threads are looking for work.
    started: std::sync::atomic::AtomicUsize,
}

#[cfg(feature = "threads")]
impl Awake {
    fn start() -> Option<Self> {
        use std::sync::atomic::Ordering;
        // Only from inside a pool: the page's engine worker is its pool's first thread. Elsewhere
        // (native callers outside the pool) the pool's threads sleep between splits as before.
        let caller = rayon::current_thread_index()?;
        let others = rayon::current_num_threads().checked_sub(1).filter(|&n| n > 0)?;
        let state = std::sync::Arc::new(AwakeState {
            running: std::sync::atomic::AtomicBool::new(true),
            started: std::sync::atomic::AtomicUsize::new(0),
        });
        let shared = state.clone();
        rayon::spawn_broadcast(move |thread| {
            if thread.index() == caller {
                return;
            }
            shared.started.fetch_add(1, Ordering::AcqRel);
            while shared.running.load(Ordering::Acquire) {
                if rayon::yield_now() != Some(rayon::Yield::Executed) {
                    std::hint::spin_loop();
                }
            }
        });
        // Nothing of the run may be handed out before every other thread is in this loop. A thread
        // that took a part first would find the loop among its jobs while it waits inside that part
        // (for a nested split's half), and the loop, which only the run's end stops, would never
        // let the part finish.
        while state.started.load(Ordering::Acquire) < others {
            std::hint::spin_loop();
        }
        Some(Self(state))
    }
}

#[cfg(feature = "threads")]
impl Drop for Awake {
    fn drop(&mut self) {
        self.0.running.store(false, std::sync::atomic::Ordering::Release);
    }
}

/// How many bands `m` rows of a `k × n` product are cut into for `threads` threads: at most one
/// per thread, at least [`MR`] rows and [`MIN_BAND_WORK`] multiply-adds each.
pub fn bands_for(m: usize, k: usize, n: usize, threads: usize) -> usize {
    parts_for(m.div_ceil(MR), m * k * n, threads)
}

/// How many column parts a product of few rows is cut into for `threads` threads: more than one
/// only where cutting its rows would give each thread fewer than [`MIN_TILES_PER_BAND`] row
/// tiles; at most one part per thread and panel, each [`MIN_BAND_WORK`] multiply-adds or more.
pub fn column_parts_for(m: usize, k: usize, n: usize, threads: usize) -> usize {
    if m.div_ceil(MR) >= MIN_TILES_PER_BAND * threads {
        return 1;
    }
    parts_for(n.div_ceil(NR), m * k * n, threads)
}

/// Row tiles per thread below which a product is cut by columns instead of rows. Each band of
/// rows widens every panel of int8 weights to `i16` again (about a quarter of one 4-row tile's
/// work on that panel) and the last band may have fewer rows than the others, where column parts
/// share the rows and widen only their own panels (at 7 tokens on 2 threads: 23 against 29 units
/// of work on the longer thread, by the kernel's instruction counts; measured, 5-13% faster up
/// to 13 tokens and no gain from 20 on: docs/BENCHMARKS.md, "Short inputs").
pub const MIN_TILES_PER_BAND: usize = 4;

/// `c = a · W + bias` ([`Weights::gemm`]), split over the pool's threads when the product is big
/// enough: by columns when it has few rows ([`column_parts_for`]), else by rows ([`bands_for`]).
pub fn gemm_in_threads(weights: &Weights, a: &[f32], m: usize, bias: Option<&[f32]>, c: &mut [f32]) {
    let (k, n, threads) = (weights.k(), weights.n(), threads());
    match column_parts_for(m, k, n, threads) {
        1 => gemm_in_bands(weights, a, m, bias, c, bands_for(m, k, n, threads)),
        parts => gemm_in_columns(weights, a, m, bias, c, parts),
    }
}

/// `c = a · W + bias` computed as `parts` parts of whole column panels (the last one narrower),
/// in parallel with the `threads` feature: the activations are made ready once
/// ([`Weights::activations`]) and each part writes its columns of every row of `c`. The same
/// bits as one call. Panics on mismatched lengths, as [`Weights::gemm`] does.
pub fn gemm_in_columns(weights: &Weights, a: &[f32], m: usize, bias: Option<&[f32]>, c: &mut [f32], parts: usize) {
    let (k, n, panels) = (weights.k(), weights.n(), weights.panels());
    if parts <= 1 || k == 0 || n == 0 || a.len() != m * k || c.len() != m * n {
        // One call, which also refuses mismatched lengths in its own words.
        return weights.gemm(a, m, bias, c);
    }
    let activations = weights.activations(a, m);
    let per_part = panels.div_ceil(parts);
    // Each part's pieces of the rows of `c`: row by row, cut where the parts' columns meet.
    let mut pieces: Vec<Vec<&mut [f32]>> = (0..panels.div_ceil(per_part)).map(|_| Vec::with_capacity(m)).collect();
    for row in c.chunks_exact_mut(n) {
        let mut rest = row;
        for part in &mut pieces {
            let (piece, after) = rest.split_at_mut((per_part * NR).min(rest.len()));
            part.push(piece);
            rest = after;
        }
    }
    in_parts(&mut pieces, 1, 1, |part, rows| {
        let panels = part * per_part..panels.min((part + 1) * per_part);
        weights.gemm_panels(&activations, bias, panels, &mut rows[0]);
    });
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
    in_parts(c, n, rows, |row0, c| weights.gemm(&a[row0 * k..][..c.len() / n * k], c.len() / n, bias, c));
}

/// Cuts `out` into parts of `per_part` units of `unit` elements each (the last one shorter) and
/// calls `work(first unit, part)` on every part: in parallel with the `threads` feature (the
/// calling thread takes the first part, the pool the others), else one after the other. For work
/// whose parts write only their own elements, so the result is the same however it is split.
pub fn in_parts<T: Send>(out: &mut [T], unit: usize, per_part: usize, work: impl Fn(usize, &mut [T]) + Sync) {
    let size = (unit * per_part).max(1);
    let work = &work;
    // One part is done here without asking rayon for a pool (see `GLOBAL_POOL`).
    #[cfg(feature = "threads")]
    let several = out.len() > size;
    let pieces = out.chunks_mut(size).enumerate().map(|(i, part)| (i * per_part, part));
    #[cfg(feature = "threads")]
    if several {
        rayon::in_place_scope(|scope| {
            let mut pieces = pieces;
            let first = pieces.next();
            for (unit0, part) in pieces {
                scope.spawn(move |_| work(unit0, part));
            }
            if let Some((unit0, part)) = first {
                work(unit0, part);
            }
        });
        return;
    }
    pieces.for_each(|(unit0, part)| work(unit0, part));
}

/// How many parts work of `units` independent units, `work` multiply-adds in all, is cut into
/// for `threads` threads: at most one per thread and unit, at least [`MIN_BAND_WORK`]
/// multiply-adds each.
pub fn parts_for(units: usize, work: usize, threads: usize) -> usize {
    threads.min(units).min(work / MIN_BAND_WORK).max(1)
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

    #[test]
    fn few_rows_are_cut_by_columns_and_many_by_rows() {
        // 7 tokens of MiniLM's products: two parts of columns on 2 threads, none on 1.
        assert_eq!(column_parts_for(7, 384, 384, 2), 2);
        assert_eq!(column_parts_for(7, 384, 1536, 4), 4);
        assert_eq!(column_parts_for(7, 384, 384, 1), 1);
        // 32 rows are 8 row tiles, 4 per thread on 2: cut by rows.
        assert_eq!(column_parts_for(32, 384, 384, 2), 1);
        assert_eq!(bands_for(32, 384, 384, 2), 2);
        // Too little work to share: one part either way.
        assert_eq!(column_parts_for(2, 16, 64, 2), 1);
    }
}
