//! Numbers derived from a run.

/// Softmax of `logits`, returning the `k` most probable indices with their probabilities.
pub fn top_k_softmax(logits: &[f32], k: usize) -> Vec<(usize, f32)> {
    let max = logits.iter().copied().fold(f32::NEG_INFINITY, f32::max);
    let total: f64 = logits.iter().map(|&x| ((x - max) as f64).exp()).sum();
    let mut order: Vec<usize> = (0..logits.len()).collect();
    order.sort_by(|&a, &b| logits[b].total_cmp(&logits[a]).then(a.cmp(&b)));
    order.truncate(k);
    order.into_iter().map(|i| (i, (((logits[i] - max) as f64).exp() / total) as f32)).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn top_k_is_sorted_and_normalised() {
        let top = top_k_softmax(&[0.0, (2.0f32).ln(), 0.0, (4.0f32).ln()], 2);
        assert_eq!(top.iter().map(|t| t.0).collect::<Vec<_>>(), vec![3, 1]);
        assert!((top[0].1 - 0.5).abs() < 1e-6 && (top[1].1 - 0.25).abs() < 1e-6);
    }
}
