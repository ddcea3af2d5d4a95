//! A product split into bands of rows (kernels::split) against one call of the whole kernel: the
//! same bits, for both kernels, on odd and model-sized shapes. With `--features threads` the bands
//! run on rayon's threads (the page's threaded wasm splits its products this way).

use bertscope_core::kernels::split::{bands_for, gemm_in_bands, gemm_in_threads, threads};
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

#[test]
fn bands_give_the_bits_of_one_call() {
    for (case, &(m, k, n)) in SHAPES.iter().enumerate() {
        let seed = case as u32 * 5;
        let a = gemm_values(m * k, seed + 1);
        let bias = gemm_values(n, seed + 2);
        for weights in weights_of_both_kinds(k, n, seed + 3) {
            for bias in [None, Some(bias.as_slice())] {
                let want = whole(&weights, &a, m, bias);
                for bands in 1..=5 {
                    let mut got = vec![f32::NAN; m * n];
                    gemm_in_bands(&weights, &a, m, bias, &mut got, bands);
                    let differ = got.iter().zip(&want).position(|(g, w)| g.to_bits() != w.to_bits());
                    assert_eq!(differ, None, "{m}×{k}×{n}, {bands} bands, bias {}", bias.is_some());
                }
            }
        }
    }
}

#[test]
fn a_split_product_refuses_mismatched_lengths_as_the_kernel_does() {
    let [weights, _] = weights_of_both_kinds(8, 8, 1);
    let result = std::panic::catch_unwind(|| gemm_in_bands(&weights, &[1.0; 63], 8, None, &mut [0.0; 64], 2));
    assert!(result.is_err());
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
