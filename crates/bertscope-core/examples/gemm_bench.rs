//! Native micro-benchmark: tract's f32 matrix product against bertscope's GEMM at the model's
//! shapes. Prints numbers, judges nothing. `cargo run --release -p bertscope-core --example gemm_bench`
//! (the same comparison runs in the browser: `gemm_speed` in crates/bertscope-wasm/tests/browser.rs).

use std::time::Instant;

use bertscope_core::kernels::bench::compare;

fn main() {
    let start = Instant::now();
    let now = move || start.elapsed().as_secs_f64() * 1e3;
    println!(
        "{:>4} {:>5} {:>5} {:>10} {:>10} {:>8} {:>8} {:>6} {:>9}",
        "m", "k", "n", "tract ms", "ours ms", "tract GF", "ours GF", "ratio", "max diff"
    );
    for m in [7, 32, 128, 512] {
        for (k, n) in [(384, 384), (384, 1536), (1536, 384)] {
            let t = compare(m, k, n, 300.0, &now).expect("benchmark runs");
            println!(
                "{m:>4} {k:>5} {n:>5} {:>10.3} {:>10.3} {:>8.1} {:>8.1} {:>6.2} {:>9.1e}",
                t.tract_ms,
                t.ours_ms,
                t.gflops(t.tract_ms),
                t.gflops(t.ours_ms),
                t.ours_ms / t.tract_ms,
                t.max_diff
            );
        }
    }
}
