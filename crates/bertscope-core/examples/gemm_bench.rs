//! Native micro-benchmark: tract's f32 matrix product against bertscope's f32 and int16 GEMMs at the model's
//! shapes. Prints numbers, judges nothing. `cargo run --release -p bertscope-core --features bench --example gemm_bench`
//! (needs `--features bench`; the same comparison runs in the browser: `gemm_speed` in crates/bertscope-wasm/tests/browser.rs).

use std::time::Instant;

use bertscope_core::kernel_bench::{compare, GemmTiming, MODEL_SHAPES};

fn main() {
    let start = Instant::now();
    let now = move || start.elapsed().as_secs_f64() * 1e3;
    println!("{}  max diff f32 / int16", GemmTiming::HEADER);
    for (m, k, n) in MODEL_SHAPES {
        let t = compare(m, k, n, 300.0, &now).expect("benchmark runs");
        println!("{}  {:.1e} / {:.1e}", t.row(), t.max_diff, t.int_max_diff);
    }
}
