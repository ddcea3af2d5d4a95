//! The numbers of weight-only int8: asymmetric uint8 codes with one scale and zero point per
//! slice (per output column of a MatMul weight, per row of an embedding table), computed in f32
//! exactly as `../shared/models/make_weights_int8.py` computes them with numpy:
//!
//! ```text
//! mn = min(min(slice), 0)      mx = max(max(slice), 0)
//! s  = (mx - mn) / 255         (1 where that is 0)
//! zp = clip(round(-mn / s), 0, 255)
//! q  = clip(round(w / s) + zp, 0, 255)      round: half to even
//! ```
//!
//! so that `(q - zp) · s`, what `DequantizeLinear` computes, is within half a step of `w`.

use serde::Serialize;

/// Which slices share a scale and zero point.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "tsify", derive(tsify::Tsify))]
pub enum Axis {
    /// One per row (axis 0): embedding tables, looked up row by row.
    Rows,
    /// One per column (axis 1): MatMul weights `[K, N]`, one per output.
    Columns,
}

impl Axis {
    /// The ONNX `axis` attribute of the matching `DequantizeLinear`.
    pub fn onnx_axis(self) -> i64 {
        match self {
            Self::Rows => 0,
            Self::Columns => 1,
        }
    }
}

/// A quantized `rows × cols` matrix.
#[derive(Debug, Clone, PartialEq)]
pub struct Codes {
    /// Row-major codes.
    pub codes: Vec<u8>,
    /// One scale per slice.
    pub scales: Vec<f32>,
    /// One zero point per slice.
    pub zero_points: Vec<u8>,
}

/// Quantizes the row-major `rows × cols` matrix `w` with one scale per slice along `axis`.
/// `None` if a value is not finite or a slice's range overflows f32 (no scale represents it).
pub fn quantize(w: &[f32], rows: usize, cols: usize, axis: Axis) -> Option<Codes> {
    assert_eq!(w.len(), rows * cols, "weights are not {rows} x {cols}");
    if w.iter().any(|v| !v.is_finite()) {
        return None;
    }
    let slices = match axis {
        Axis::Rows => rows,
        Axis::Columns => cols,
    };
    let slice_of = |at: usize| match axis {
        Axis::Rows => at / cols.max(1),
        Axis::Columns => at % cols.max(1),
    };
    // Ranges, with 0 always inside (numpy: minimum(min, 0), maximum(max, 0)).
    let (mut mn, mut mx) = (vec![0.0f32; slices], vec![0.0f32; slices]);
    for (at, &v) in w.iter().enumerate() {
        let s = slice_of(at);
        mn[s] = mn[s].min(v);
        mx[s] = mx[s].max(v);
    }
    let mut scales = Vec::with_capacity(slices);
    let mut zero_points = Vec::with_capacity(slices);
    for (&lo, &hi) in mn.iter().zip(&mx) {
        let (s, zp) = scale_and_zero_point(lo, hi)?;
        scales.push(s);
        zero_points.push(zp);
    }
    let codes = w.iter().enumerate().map(|(at, &v)| code(v, scales[slice_of(at)], zero_points[slice_of(at)])).collect();
    Some(Codes { codes, scales, zero_points })
}

/// The scale and zero point of a slice whose range (0 included) is `mn..=mx`.
fn scale_and_zero_point(mn: f32, mx: f32) -> Option<(f32, u8)> {
    let s = (mx - mn) / 255.0;
    if !s.is_finite() {
        return None;
    }
    let s = if s == 0.0 { 1.0 } else { s };
    Some((s, clip_to_u8((-mn / s).round_ties_even())))
}

/// The code of `w`: `clip(round(w / s) + zp)`.
fn code(w: f32, s: f32, zp: u8) -> u8 {
    clip_to_u8((w / s).round_ties_even() + f32::from(zp))
}

/// numpy's `clip(x, 0, 255).astype(uint8)` for a whole number `x`.
fn clip_to_u8(x: f32) -> u8 {
    x.clamp(0.0, 255.0) as u8
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn columns_and_rows_get_their_own_scale() {
        // Column 0 spans -1..1, column 1 is all positive (0 is kept in range), column 2 all zero.
        let w = [-1.0, 0.5, 0.0, 1.0, 2.0, 0.0];
        let q = quantize(&w, 2, 3, Axis::Columns).unwrap();
        assert_eq!(q.scales, [2.0 / 255.0, 2.0 / 255.0, 1.0]);
        // 1 / fl(2/255) is 127.49999 in f32, not 127.5: zero point 127, and 1.0 gets code 254
        // (numpy agrees, values checked with make_weights_int8.py's function).
        assert_eq!(q.zero_points, [127, 0, 0]);
        assert_eq!(q.codes, [0, 64, 0, 254, 255, 0]); // 0.5 / (2/255) = 63.75 -> 64
        let q = quantize(&w, 2, 3, Axis::Rows).unwrap();
        assert_eq!(q.scales, [1.5 / 255.0, 2.0 / 255.0]);
        assert_eq!(q.zero_points, [170, 0]);
        assert_eq!(q.codes, [0, 255, 170, 127, 255, 0]);
    }

    #[test]
    fn rounds_half_to_even_like_numpy() {
        // A column spanning 0..255 has step exactly 1: 0.5 -> 0, 1.5 -> 2, 2.5 -> 2.
        let w = [255.0, 0.5, 1.5, 2.5];
        let q = quantize(&w, 4, 1, Axis::Columns).unwrap();
        assert_eq!(q.scales, [1.0]);
        assert_eq!(q.codes, [255, 0, 2, 2]);
    }

    #[test]
    fn dequantized_values_are_within_half_a_step() {
        let w: Vec<f32> = (0..64 * 5).map(|i| ((i * 7919 % 1000) as f32 / 500.0 - 0.7) * 0.05).collect();
        let q = quantize(&w, 64, 5, Axis::Columns).unwrap();
        for (at, &v) in w.iter().enumerate() {
            let j = at % 5;
            let back = (f32::from(q.codes[at]) - f32::from(q.zero_points[j])) * q.scales[j];
            assert!((back - v).abs() <= q.scales[j] * 0.5 * 1.0001, "{v} -> {back}");
        }
    }

    #[test]
    fn refuses_values_it_cannot_represent() {
        assert!(quantize(&[0.0, f32::NAN], 1, 2, Axis::Rows).is_none());
        assert!(quantize(&[f32::MAX, -f32::MAX], 2, 1, Axis::Columns).is_none(), "the range overflows");
    }
}
