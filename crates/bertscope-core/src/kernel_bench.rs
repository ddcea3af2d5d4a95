//! Micro-benchmark of the GEMM kernels against tract's own matrix product on the same shapes.
//! It judges nothing: callers (an example, a browser test) print its table.

use tract_onnx::prelude::*;
use tract_onnx::tract_core::internal::bail;
use tract_onnx::tract_core::ops::einsum::EinSum;

use crate::kernels::gemm::{gemm, PackedB};
use crate::kernels::qgemm::{qgemm, QuantizedB};

/// `(m, k, n)` of the products in a MiniLM-sized layer (hidden 384, intermediate 1536) at 7,
/// 32, 128 and 512 tokens.
pub const MODEL_SHAPES: [(usize, usize, usize); 12] = {
    let mut shapes = [(0, 0, 0); 12];
    let (rows, weights) = ([7, 32, 128, 512], [(384, 384), (384, 1536), (1536, 384)]);
    let mut i = 0;
    while i < 12 {
        shapes[i] = (rows[i / 3], weights[i % 3].0, weights[i % 3].1);
        i += 1;
    }
    shapes
};

/// Timings of one shape `[m, k] · [k, n]`, mean milliseconds per product.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct GemmTiming {
    /// Rows of the activations.
    pub m: usize,
    /// Inner dimension.
    pub k: usize,
    /// Output width.
    pub n: usize,
    /// tract's optimised plan for the same product.
    pub tract_ms: f64,
    /// [`gemm`] with the weights packed beforehand.
    pub ours_ms: f64,
    /// [`qgemm`] on the same weights (whole steps of 0.02), packed beforehand.
    pub int_ms: f64,
    /// Largest absolute difference between tract's result and [`gemm`]'s.
    pub max_diff: f32,
    /// Largest absolute difference between tract's result and [`qgemm`]'s.
    pub int_max_diff: f32,
}

impl GemmTiming {
    /// Column titles of [`GemmTiming::row`].
    pub const HEADER: &'static str =
        "   m     k     n   tract ms     f32 ms   int16 ms  tract GF    f32 GF  int16 GF  f32/tract  int16/tract";

    /// Multiply-adds counted as two operations, per second, in billions.
    pub fn gflops(&self, ms: f64) -> f64 {
        2.0 * (self.m * self.k * self.n) as f64 / (ms * 1e6)
    }

    /// One line of the table: times, GFLOP/s and ratios to tract.
    pub fn row(&self) -> String {
        format!(
            "{:>4} {:>5} {:>5} {:>10.3} {:>10.3} {:>10.3} {:>9.1} {:>9.1} {:>9.1} {:>10.2} {:>12.2}",
            self.m,
            self.k,
            self.n,
            self.tract_ms,
            self.ours_ms,
            self.int_ms,
            self.gflops(self.tract_ms),
            self.gflops(self.ours_ms),
            self.gflops(self.int_ms),
            self.ours_ms / self.tract_ms,
            self.int_ms / self.tract_ms
        )
    }
}

/// Times both products for about `budget_ms` each. `now` is a clock in milliseconds
/// (`Instant` natively, `performance.now()` in a browser).
pub fn compare(m: usize, k: usize, n: usize, budget_ms: f64, now: &dyn Fn() -> f64) -> TractResult<GemmTiming> {
    let a: Vec<f32> = (0..m * k).map(|i| ((i * 7 % 13) as f32 - 6.0) / 6.0).collect();
    let b: Vec<f32> = (0..k * n).map(|i| ((i * 5 % 11) as f32 - 5.0) / 50.0).collect();

    let mut model = TypedModel::default();
    let source = model.add_source("a", TypedFact::shape::<f32, _>(&[m, k]))?;
    let weights = model.add_const("b", Tensor::from_shape(&[k, n], &b)?)?;
    let product = model.wire_node("mm", EinSum::new("mk,kn->mn".parse()?, f32::datum_type()), &[source, weights])?;
    model.select_output_outlets(&product)?;
    let plan = model.into_optimized()?.into_runnable()?;
    let input = Tensor::from_shape(&[m, k], &a)?;
    let run_tract = || plan.run(tvec![input.clone().into_tvalue()]);
    let tract_out = run_tract()?;
    let tract_ms = time(budget_ms, now, || {
        let _ = run_tract();
    });

    let packed = PackedB::pack(&b, k, n);
    let mut c = vec![0.0; m * n];
    gemm(&a, m, &packed, None, &mut c);
    let ours_ms = time(budget_ms, now, || gemm(&a, m, &packed, None, &mut c));

    let Some(quantized) = QuantizedB::detect(&b, k, n) else { bail!("the weights are not whole steps") };
    let mut c_int = vec![0.0; m * n];
    qgemm(&a, m, &quantized, None, &mut c_int);
    let int_ms = time(budget_ms, now, || qgemm(&a, m, &quantized, None, &mut c_int));

    let tract_c = tract_out[0].to_plain_array_view::<f32>()?;
    let diff = |c: &[f32]| tract_c.iter().zip(c).map(|(x, y)| (x - y).abs()).fold(0.0, f32::max);
    let (max_diff, int_max_diff) = (diff(&c), diff(&c_int));
    Ok(GemmTiming { m, k, n, tract_ms, ours_ms, int_ms, max_diff, int_max_diff })
}

/// Mean milliseconds of `f` over as many runs as fit in `budget_ms` (at least three).
fn time(budget_ms: f64, now: &dyn Fn() -> f64, mut f: impl FnMut()) -> f64 {
    let start = now();
    let mut runs = 0u32;
    while runs < 3 || now() - start < budget_ms {
        f();
        runs += 1;
    }
    (now() - start) / runs as f64
}
