//! A product split into bands of rows or parts of columns (kernels::split) against one call of the
//! whole kernel: the same bits, for both kernels, on odd and model-sized shapes. With `--features threads` the bands
//! run on rayon's threads (the page's threaded wasm splits its products this way), and a run keeps
//! the pool's threads awake without ever stopping them from finishing a part.

use bertscope_core::kernels::split::{bands_for, gemm_in_bands, gemm_in_columns, gemm_in_threads, threads};
use bertscope_core::kernels::Weights;
use bertscope_testkit::{gemm_values, step_weights};

/// `(m, k, n)`: rows that are and are not multiples of the kernels' 4-row tiles, widths that are
/// and are not multiples of their 8-column panels, and MiniLM's and DistilBERT-base's shapes.
const SHAPES: &[(usize, usize, usize)] =
    &[(1, 17, 9), (3, 33, 15), (7, 384, 384), (9, 100, 23), (33, 385, 387), (128, 384, 1536), (61, 768, 768)];

fn weights_of_both_kinds(k: usize, n: usize, seed: u32) -> [Weights; 2] {
    let float = Weights::prepare(&gemm_values(k * n, seed), k, n);
    let steps = Weights::prepare(&step_weights(k, n, seed), k, n);
    assert!(matches!(float, Weights::Float(_)) && matches!(steps, Weights::Quantized(_)));
    [float, steps]
}

fn whole(weights: &Weights, a: &[f32], m: usize, bias: Option<&[f32]>) -> Vec<f32> {
    let mut c = vec![f32::NAN; m * weights.n()];
    weights.gemm(a, m, bias, &mut c);
    c
}

/// Checks that `split(weights, a, m, bias, c, parts)` gives the bits of one call on every shape,
/// for both kernels, with and without a bias, cut into 1 to 5 parts (more than the narrowest
/// shape has row tiles or panels). `what` names the parts in a failure.
fn assert_split_gives_the_bits_of_one_call(
    what: &str,
    seed_step: u32,
    split: impl Fn(&Weights, &[f32], usize, Option<&[f32]>, &mut [f32], usize),
) {
    for (case, &(m, k, n)) in SHAPES.iter().enumerate() {
        let seed = case as u32 * seed_step;
        let a = gemm_values(m * k, seed + 1);
        let bias = gemm_values(n, seed + 2);
        for weights in weights_of_both_kinds(k, n, seed + 3) {
            for bias in [None, Some(bias.as_slice())] {
                let want = whole(&weights, &a, m, bias);
                for parts in 1..=5 {
                    let mut got = vec![f32::NAN; m * n];
                    split(&weights, &a, m, bias, &mut got, parts);
                    let differ = got.iter().zip(&want).position(|(g, w)| g.to_bits() != w.to_bits());
                    assert_eq!(differ, None, "{m}×{k}×{n}, {parts} {what}, bias {}", bias.is_some());
                }
            }
        }
    }
}

#[test]
fn bands_give_the_bits_of_one_call() {
    assert_split_gives_the_bits_of_one_call("bands", 5, gemm_in_bands);
}

#[test]
fn column_parts_give_the_bits_of_one_call() {
    assert_split_gives_the_bits_of_one_call("column parts", 7, gemm_in_columns);
}

#[test]
fn a_split_product_refuses_mismatched_lengths_as_the_kernel_does() {
    let [weights, _] = weights_of_both_kinds(8, 8, 1);
    let result = std::panic::catch_unwind(|| gemm_in_bands(&weights, &[1.0; 63], 8, None, &mut [0.0; 64], 2));
    assert!(result.is_err());
    for weights in weights_of_both_kinds(8, 16, 1) {
        let result = std::panic::catch_unwind(|| gemm_in_columns(&weights, &[1.0; 63], 8, None, &mut [0.0; 128], 2));
        assert!(result.is_err());
    }
}

#[test]
fn the_products_use_the_pool_they_run_in() {
    let pool = rayon::ThreadPoolBuilder::new().num_threads(3).build().unwrap();
    let (m, k, n) = (128, 384, 1536);
    let a = gemm_values(m * k, 11);
    let [weights, _] = weights_of_both_kinds(k, n, 12);
    let want = whole(&weights, &a, m, None);
    let (pool_threads, got) = pool.install(|| {
        let mut c = vec![f32::NAN; m * n];
        gemm_in_threads(&weights, &a, m, None, &mut c);
        (threads(), c)
    });
    // Without the feature the products ignore rayon and run on one thread.
    assert_eq!(pool_threads, if cfg!(feature = "threads") { 3 } else { 1 });
    assert_eq!(bands_for(m, k, n, pool_threads), pool_threads);
    assert!(got.iter().zip(&want).all(|(g, w)| g.to_bits() == w.to_bits()));
}

/// The scheduler's state letter of each thread of this process named `name` ('R' runnable, 'S'
/// asleep), from /proc.
#[cfg(all(feature = "threads", target_os = "linux"))]
fn thread_states(name: &str) -> Vec<char> {
    let mut states = Vec::new();
    for task in std::fs::read_dir("/proc/self/task").unwrap().flatten() {
        let comm = std::fs::read_to_string(task.path().join("comm")).unwrap_or_default();
        if comm.trim_end() == name {
            let stat = std::fs::read_to_string(task.path().join("stat")).unwrap_or_default();
            // The state follows the name, which is in parentheses.
            if let Some(state) = stat.rsplit_once(") ").and_then(|(_, rest)| rest.chars().next()) {
                states.push(state);
            }
        }
    }
    states
}

#[test]
#[cfg(all(feature = "threads", target_os = "linux"))]
fn a_run_keeps_the_pool_awake_and_lets_it_sleep_after() {
    use bertscope_core::kernels::split::with_pool_awake;
    use std::time::{Duration, Instant};

    let name = "awake-test";
    // As in the page: the calling thread is the pool's first thread.
    let pool = rayon::ThreadPoolBuilder::new()
        .num_threads(2)
        .use_current_thread()
        .thread_name(move |_| name.into())
        .build()
        .unwrap();
    let wait_for = |want: char| {
        let start = Instant::now();
        while thread_states(name) != [want] {
            assert!(
                start.elapsed() < Duration::from_secs(20),
                "the pool's thread is {:?}, not {want}",
                thread_states(name)
            );
            std::thread::sleep(Duration::from_millis(5));
        }
    };
    wait_for('S');
    let (m, k, n) = (33, 385, 387);
    let a = gemm_values(m * k, 21);
    for weights in weights_of_both_kinds(k, n, 22) {
        let want = whole(&weights, &a, m, None);
        let got = pool.install(|| {
            with_pool_awake(|| {
                // Between splits the other thread stays runnable, looking for work.
                wait_for('R');
                let mut c = vec![f32::NAN; m * n];
                gemm_in_bands(&weights, &a, m, None, &mut c, 2);
                wait_for('R');
                c
            })
        });
        assert!(got.iter().zip(&want).all(|(g, w)| g.to_bits() == w.to_bits()));
        // Once the run is over it goes back to sleep.
        wait_for('S');
    }
    // A run that panics lets it sleep too.
    let panicked = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        pool.install(|| with_pool_awake(|| panic!("a run that fails")))
    }));
    assert!(panicked.is_err());
    wait_for('S');
}

#[test]
#[cfg(feature = "threads")]
fn runs_of_nested_splits_with_the_pool_awake_all_finish() {
    use bertscope_core::kernels::split::with_pool_awake;
    use rayon::prelude::*;

    // tract's row-wise ops split by halving (rayon's `join`), so a thread that took a half waits
    // inside it for the quarter it handed out. Back to back, as the page runs sentences. A hang
    // fails the test rather than stopping it.
    let (done, finished) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let pool = rayon::ThreadPoolBuilder::new().num_threads(3).use_current_thread().build().unwrap();
        let values: Vec<u64> = (0..4096).collect();
        for run in 0..1000u64 {
            let sum =
                pool.install(|| with_pool_awake(|| values.par_iter().with_max_len(16).map(|v| v * run).sum::<u64>()));
            assert_eq!(sum, run * 4095 * 4096 / 2);
        }
        done.send(()).unwrap();
    });
    finished.recv_timeout(std::time::Duration::from_secs(120)).expect("1000 runs did not finish within 2 minutes");
}
