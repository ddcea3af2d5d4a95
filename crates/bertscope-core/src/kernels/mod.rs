//! Hand-written compute kernels for the hot spots tract leaves slow in wasm.
//!
//! [`gemm`] multiplies activations by a constant weight matrix packed once at load; the model
//! loader plugs it into tract's graph in place of constant-weight matrix products.

pub mod bench;
pub mod gemm;
#[cfg(all(target_arch = "wasm32", target_feature = "simd128"))]
mod simd128;
