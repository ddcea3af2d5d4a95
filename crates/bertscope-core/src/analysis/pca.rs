//! Principal component analysis down to two dimensions, for plotting hidden vectors.

/// Power iteration stops when a component moves less than this between steps…
const TOLERANCE: f64 = 1e-12;
/// …or after this many steps (slow only when two variances are nearly equal, where the
/// direction within their plane hardly matters for a plot).
const MAX_STEPS: usize = 10_000;

/// A 2-D projection of a set of vectors.
#[derive(Debug, Clone, PartialEq)]
pub struct Pca {
    /// Each input vector's coordinates along the two components, in input order.
    pub points: Vec<[f32; 2]>,
    /// Share of the total variance along each component (0 for a component with none left).
    pub explained_variance_ratio: [f32; 2],
    /// The two components: orthonormal, each with its largest-magnitude coordinate positive
    /// (the first such coordinate on a tie); all zeros when there is no variance left.
    pub components: [Vec<f32>; 2],
    /// The mean vector subtracted before projecting.
    pub mean: Vec<f32>,
}

/// Projects `vectors` (all the same length) on their top two principal components.
///
/// Centres the vectors, then finds each component by power iteration on the covariance
/// `XᵀX` (applied as `Xᵀ(Xv)`, never formed), deflating by keeping the iterate orthogonal to the
/// components already found. Deterministic: a fixed start vector and a sign convention.
///
/// # Panics
/// If the vectors differ in length.
pub fn pca<V: AsRef<[f32]>>(vectors: &[V]) -> Pca {
    let width = vectors.first().map_or(0, |v| v.as_ref().len());
    assert!(vectors.iter().all(|v| v.as_ref().len() == width), "PCA of vectors of different lengths");
    let count = vectors.len().max(1) as f64;
    let mut mean = vec![0.0f64; width];
    for v in vectors {
        mean.iter_mut().zip(v.as_ref()).for_each(|(m, &x)| *m += x as f64 / count);
    }
    let centred: Vec<Vec<f64>> =
        vectors.iter().map(|v| v.as_ref().iter().zip(&mean).map(|(&x, m)| x as f64 - m).collect()).collect();
    let total: f64 = centred.iter().flatten().map(|x| x * x).sum();

    let mut components: Vec<Vec<f64>> = Vec::with_capacity(2);
    let mut variances = [0.0f64; 2];
    for variance in &mut variances {
        let (component, value) = top_component(&centred, width, &components);
        // Whatever is left after the earlier components may be round-off only.
        if value > 1e-12 * total {
            *variance = value;
            components.push(component);
        } else {
            components.push(vec![0.0; width]);
        }
    }
    let points = centred.iter().map(|x| [dot(x, &components[0]) as f32, dot(x, &components[1]) as f32]).collect();
    let ratio = |v: f64| if total > 0.0 { (v / total) as f32 } else { 0.0 };
    let to_f32 = |v: &[f64]| v.iter().map(|&x| x as f32).collect::<Vec<_>>();
    Pca {
        points,
        explained_variance_ratio: variances.map(ratio),
        components: [to_f32(&components[0]), to_f32(&components[1])],
        mean: to_f32(&mean),
    }
}

/// The unit vector `v ⟂ found` maximising `|Xv|²`, with that maximum, by power iteration.
fn top_component(x: &[Vec<f64>], width: usize, found: &[Vec<f64>]) -> (Vec<f64>, f64) {
    // A fixed, irregular start (xorshift), so no data is orthogonal to it by construction.
    let mut seed = 0x9e37_79b9_7f4a_7c15u64;
    let mut v: Vec<f64> = (0..width)
        .map(|_| {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            (seed >> 11) as f64 / (1u64 << 53) as f64 - 0.5
        })
        .collect();
    if !orthonormalise(&mut v, found) {
        return (vec![0.0; width], 0.0);
    }
    for _ in 0..MAX_STEPS {
        // w = Xᵀ(Xv)
        let mut w = vec![0.0; width];
        for row in x {
            let p = dot(row, &v);
            w.iter_mut().zip(row).for_each(|(w, r)| *w += p * r);
        }
        if !orthonormalise(&mut w, found) {
            return (vec![0.0; width], 0.0);
        }
        let moved = w.iter().zip(&v).map(|(a, b)| (a - b) * (a - b)).sum::<f64>().sqrt();
        v = w;
        if moved < TOLERANCE {
            break;
        }
    }
    // Sign convention: the largest-magnitude coordinate (first on a tie) is positive.
    let largest =
        v.iter().enumerate().fold((0, 0.0f64), |best, (i, &c)| if c.abs() > best.1 { (i, c.abs()) } else { best });
    if v.get(largest.0).is_some_and(|&c| c < 0.0) {
        v.iter_mut().for_each(|c| *c = -*c);
    }
    let value = x.iter().map(|row| dot(row, &v).powi(2)).sum();
    (v, value)
}

/// Removes from `v` its parts along the (orthonormal) `found`, then scales it to unit length;
/// false if nothing is left.
fn orthonormalise(v: &mut [f64], found: &[Vec<f64>]) -> bool {
    for f in found {
        let p = dot(v, f);
        v.iter_mut().zip(f).for_each(|(x, f)| *x -= p * f);
    }
    let norm = dot(v, v).sqrt();
    if norm > 1e-300 {
        v.iter_mut().for_each(|x| *x /= norm);
        true
    } else {
        false
    }
}

fn dot(a: &[f64], b: &[f64]) -> f64 {
    a.iter().zip(b).map(|(x, y)| x * y).sum()
}
