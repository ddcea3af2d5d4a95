//! Rollout, flow, drift, PCA and token finding: hand-computed cases, reference computations,
//! and one real run of the default model.

mod common;

use bertscope_core::analysis::{self, FlowError, MAX_FLOW_TOKENS};
use bertscope_core::Attention;
use bertscope_testkit::DEFAULT_CASE;

fn close(got: &[f32], want: &[f64], tol: f64) -> bool {
    got.len() == want.len() && got.iter().zip(want).all(|(&g, &w)| (g as f64 - w).abs() <= tol)
}

/// Deterministic pseudo-random numbers in `[0, 1)` (xorshift64).
fn uniform(seed: &mut u64) -> f64 {
    *seed ^= *seed << 13;
    *seed ^= *seed >> 7;
    *seed ^= *seed << 17;
    (*seed >> 11) as f64 / (1u64 << 53) as f64
}

/// Softmax rows of random logits, `[layers][heads][n][n]`.
fn random_attention(layers: usize, heads: usize, n: usize, seed: u64) -> Attention {
    let mut seed = seed;
    let mut data = Vec::with_capacity(layers * heads * n * n);
    for _ in 0..layers * heads * n {
        let row: Vec<f64> = (0..n).map(|_| (uniform(&mut seed) * 6.0).exp()).collect();
        let sum: f64 = row.iter().sum();
        data.extend(row.iter().map(|x| (x / sum) as f32));
    }
    Attention::from_vec(data, layers, heads, n).unwrap()
}

/// Every query of a head attends to one key: `keys[q]`.
fn one_hot(keys: [usize; 3]) -> Vec<f32> {
    keys.iter().flat_map(|&k| (0..3).map(move |j| if j == k { 1.0 } else { 0.0 })).collect()
}

/// 3 tokens, 2 layers, 2 heads.
///
/// Layer 0: head 0 sends every query to token 0, head 1 sends queries 0,1 to token 1 and query 2
/// to itself. Mean A₀ = [[.5,.5,0],[.5,.5,0],[.5,0,.5]]; Â₀ = ½A₀ + ½I =
/// [[.75,.25,0],[.25,.75,0],[.25,0,.75]] (rows already sum to 1).
/// Layer 1: both heads send every query to token 2. A₁ = [[0,0,1]]×3; Â₁ = [[.5,0,.5],[0,.5,.5],[0,0,1]].
fn two_layers() -> Attention {
    let data = [one_hot([0, 0, 0]), one_hot([1, 1, 2]), one_hot([2, 2, 2]), one_hot([2, 2, 2])].concat();
    Attention::from_vec(data, 2, 2, 3).unwrap()
}

#[test]
fn rollout_of_a_hand_built_two_layer_tensor() {
    let r = analysis::rollout(&two_layers());
    assert_eq!(r.shape(), [2, 3, 3]);
    // Layer 0 is Â₀ itself.
    assert!(close(r.layer(0), &[0.75, 0.25, 0.0, 0.25, 0.75, 0.0, 0.25, 0.0, 0.75], 1e-7));
    // Layer 1 = Â₁·Â₀:
    //   row 0 = .5·[.75,.25,0] + .5·[.25,0,.75] = [.5, .125, .375]
    //   row 1 = .5·[.25,.75,0] + .5·[.25,0,.75] = [.25, .375, .375]
    //   row 2 = 1·[.25,0,.75]                   = [.25, 0, .75]
    assert!(close(r.layer(1), &[0.5, 0.125, 0.375, 0.25, 0.375, 0.375, 0.25, 0.0, 0.75], 1e-7));
    assert_eq!(r.row(1, 2), &[0.25, 0.0, 0.75]);
}

#[test]
fn flow_of_a_hand_built_two_layer_tensor() {
    let mut calls = Vec::new();
    let f = analysis::flow(&two_layers(), 3, |done, total| calls.push((done, total))).unwrap();
    assert_eq!(calls, [(1, 3), (2, 3), (3, 3)]);
    // With two layers every path is top q → middle m → input j, and paths through different
    // middle tokens share no edge, so flow(q, j) = Σ_m min(Â₁[q][m], Â₀[m][j]).
    //   q=0 (Â₁ row [.5,0,.5]):  j=0: min(.5,.75)+min(.5,.25) = .75;  j=1: min(.5,.25) = .25;  j=2: min(.5,.75) = .5
    //   q=1 (Â₁ row [0,.5,.5]):  j=0: min(.5,.25)+min(.5,.25) = .5;   j=1: min(.5,.75) = .5;   j=2: min(.5,.75) = .5
    //   q=2 (Â₁ row [0,0,1]):    j=0: min(1,.25) = .25;               j=1: 0;                  j=2: min(1,.75) = .75
    assert!(close(f.as_slice(), &[0.75, 0.25, 0.5, 0.5, 0.5, 0.5, 0.25, 0.0, 0.75], 1e-7), "{:?}", f.as_slice());
    // The paper's plots divide each row by its sum.
    assert!(close(&f.normalized()[..3], &[0.5, 1.0 / 6.0, 1.0 / 3.0], 1e-7));
}

/// 3 tokens, 3 layers, 1 head; layer l sends every query to token l.
/// Â₀ = [[1,0,0],[.5,.5,0],[.5,0,.5]], Â₁ = [[.5,.5,0],[0,1,0],[0,.5,.5]], Â₂ = [[.5,0,.5],[0,.5,.5],[0,0,1]].
#[test]
fn flow_is_bounded_by_shared_edges_where_rollout_is_not() {
    let att =
        Attention::from_vec([one_hot([0, 0, 0]), one_hot([1, 1, 1]), one_hot([2, 2, 2])].concat(), 3, 1, 3).unwrap();
    let f = analysis::flow(&att, 3, |_, _| {}).unwrap();
    // From the top token 0 (edges .5 to level-2 tokens 0 and 2):
    //  to input 0: level 2 token 0 → level 1 token 0 (.5) → input 0 (1): .5; level 2 token 2 → level 1
    //    token 1 (.5) → input 0 (.5): .5. The source has only 1 to give: 1.
    //  to input 1: every path ends with level 1 token 1 → input 1, capacity .5: .5.
    //  to input 2: only via level 2 token 2 (.5) → level 1 token 2 (.5) → input 2 (.5): .5.
    assert!(close(f.row(0), &[1.0, 0.5, 0.5], 1e-7), "{:?}", f.row(0));
    // Rollout row 0 at the top: [.5,0,.5]·Â₁ = [.25,.5,.25]; ·Â₀ = [.625,.25,.125].
    assert!(close(analysis::rollout(&att).row(2, 0), &[0.625, 0.25, 0.125], 1e-7));
}

#[test]
fn one_layer_flow_is_the_mixed_attention() {
    let att = random_attention(1, 3, 5, 11);
    let f = analysis::flow(&att, 5, |_, _| {}).unwrap();
    let r = analysis::rollout(&att);
    let want: Vec<f64> = r.layer(0).iter().map(|&x| x as f64).collect();
    assert!(close(f.as_slice(), &want, 1e-6));
}

/// Token 2 is padding: the model gives it zero weight as a key.
#[test]
fn padding_stays_out_of_rollout_and_flow() {
    let real = random_attention(2, 2, 2, 5);
    let mut padded = Vec::new();
    for l in 0..2 {
        for h in 0..2 {
            for q in 0..3 {
                // Pad query rows attend the real tokens too; no row attends the pad key.
                let row = real.row(l, h, q.min(1));
                padded.extend([row[0], row[1], 0.0]);
            }
        }
    }
    let padded = Attention::from_vec(padded, 2, 2, 3).unwrap();
    let r = analysis::rollout(&padded);
    let r_real = analysis::rollout(&real);
    for l in 0..2 {
        for q in 0..2 {
            assert_eq!(r.row(l, q)[2], 0.0, "a real query gets nothing from padding");
            assert!(close(&r.row(l, q)[..2], &r_real.row(l, q).iter().map(|&x| x as f64).collect::<Vec<_>>(), 1e-6));
        }
        for q in 0..3 {
            assert!((r.row(l, q).iter().sum::<f32>() - 1.0).abs() < 1e-6, "rows sum to 1");
        }
    }
    let f = analysis::flow(&padded, 3, |_, _| {}).unwrap();
    let f_cropped = analysis::flow(&padded, 2, |_, _| {}).unwrap();
    let f_real = analysis::flow(&real, 2, |_, _| {}).unwrap();
    assert_eq!(f_cropped, f_real);
    assert_eq!([f.row(0)[2], f.row(1)[2]], [0.0, 0.0]);
    assert!(close(&f.row(1)[..2], &f_real.row(1).iter().map(|&x| x as f64).collect::<Vec<_>>(), 1e-6));
}

#[test]
fn flow_refuses_long_sentences_with_a_typed_error() {
    let att = Attention::zeros(1, 1, MAX_FLOW_TOKENS + 1);
    let err = analysis::flow(&att, MAX_FLOW_TOKENS + 1, |_, _| {}).unwrap_err();
    assert_eq!(err, FlowError::TooManyTokens { tokens: 65, max: 64 });
    assert!(err.to_string().contains("at most 64 tokens"));
    assert_eq!(
        analysis::flow(&Attention::zeros(1, 1, 3), 4, |_, _| {}).unwrap_err(),
        FlowError::OutOfRange { tokens: 4, available: 3 }
    );
    assert_eq!(analysis::flow(&att, 0, |_, _| {}).unwrap().as_slice(), &[] as &[f32]);
}

#[test]
fn flow_is_fast_enough_for_64_tokens() {
    for layers in [6, 12] {
        let att = random_attention(layers, 12, 64, 7);
        let t = std::time::Instant::now();
        let mut reports = 0;
        let f = analysis::flow(&att, 64, |_, _| reports += 1).unwrap();
        println!("flow, 64 tokens, {layers} layers: {:.2} s", t.elapsed().as_secs_f64());
        assert_eq!(reports, 64);
        assert!(f.as_slice().iter().all(|&x| (0.0..=1.0 + 1e-5).contains(&x)));
    }
}

#[test]
fn pca_of_points_on_a_line() {
    // p = a + t·d in 4-D; one direction holds all the variance.
    let (a, d) = ([1.0f32, -2.0, 0.5, 3.0], [0.0f32, -3.0, 4.0, 0.0]);
    let ts = [-2.0f32, -1.0, 0.5, 1.0, 4.0];
    let points: Vec<Vec<f32>> = ts.iter().map(|&t| a.iter().zip(&d).map(|(a, d)| a + t * d).collect()).collect();
    let p = analysis::pca(&points);
    assert!((p.explained_variance_ratio[0] - 1.0).abs() < 1e-6, "{:?}", p.explained_variance_ratio);
    assert!(p.explained_variance_ratio[1].abs() < 1e-6);
    // The direction is ±d/|d| = ±[0,-.6,.8,0]; the larger |coordinate| (.8) is made positive.
    assert!(close(&p.components[0], &[0.0, -0.6, 0.8, 0.0], 1e-6), "{:?}", p.components[0]);
    // Coordinates: (t - mean t)·|d| with mean t = 0.5, |d| = 5.
    let first: Vec<f32> = p.points.iter().map(|x| x[0]).collect();
    assert!(close(&first, &[-12.5, -7.5, 0.0, 2.5, 17.5], 1e-4), "{first:?}");
    assert!(p.points.iter().all(|x| x[1].abs() < 1e-4));
}

/// Eigen-decomposition of a symmetric matrix by cyclic Jacobi rotations: (values, vectors as columns).
fn jacobi(mut a: Vec<Vec<f64>>) -> (Vec<f64>, Vec<Vec<f64>>) {
    let n = a.len();
    let mut v: Vec<Vec<f64>> = (0..n).map(|i| (0..n).map(|j| (i == j) as u8 as f64).collect()).collect();
    for _ in 0..100 {
        for p in 0..n {
            for q in p + 1..n {
                if a[p][q].abs() < 1e-300 {
                    continue;
                }
                let theta = (a[q][q] - a[p][p]) / (2.0 * a[p][q]);
                let t = theta.signum() / (theta.abs() + (theta * theta + 1.0).sqrt());
                let t = if theta == 0.0 { 1.0 } else { t };
                let (c, s) = (1.0 / (t * t + 1.0).sqrt(), t / (t * t + 1.0).sqrt());
                for row in a.iter_mut() {
                    let (x, y) = (row[p], row[q]);
                    row[p] = c * x - s * y;
                    row[q] = s * x + c * y;
                }
                let (upper, lower) = a.split_at_mut(q);
                for (x, y) in upper[p].iter_mut().zip(lower[0].iter_mut()) {
                    (*x, *y) = (c * *x - s * *y, s * *x + c * *y);
                }
                for row in v.iter_mut() {
                    let (x, y) = (row[p], row[q]);
                    row[p] = c * x - s * y;
                    row[q] = s * x + c * y;
                }
            }
        }
    }
    ((0..n).map(|i| a[i][i]).collect(), v)
}

#[test]
fn pca_matches_a_brute_force_covariance_eigen_solution() {
    let mut seed = 42u64;
    let x: Vec<Vec<f32>> = (0..5).map(|_| (0..4).map(|_| (uniform(&mut seed) * 4.0 - 2.0) as f32).collect()).collect();
    let p = analysis::pca(&x);
    // Reference: covariance of the centred data, all eigenpairs by Jacobi, sorted by value.
    let mean: Vec<f64> = (0..4).map(|j| x.iter().map(|r| r[j] as f64).sum::<f64>() / 5.0).collect();
    let c: Vec<Vec<f64>> = x.iter().map(|r| r.iter().zip(&mean).map(|(&v, m)| v as f64 - m).collect()).collect();
    let cov: Vec<Vec<f64>> =
        (0..4).map(|i| (0..4).map(|j| c.iter().map(|r| r[i] * r[j]).sum::<f64>() / 4.0).collect()).collect();
    let (values, vectors) = jacobi(cov);
    let mut order: Vec<usize> = (0..4).collect();
    order.sort_by(|&a, &b| values[b].total_cmp(&values[a]));
    let total: f64 = values.iter().sum();
    for (k, &i) in order[..2].iter().enumerate() {
        let ratio = values[i] / total;
        assert!((p.explained_variance_ratio[k] as f64 - ratio).abs() < 1e-6, "component {k}: ratio {ratio}");
        let mut v: Vec<f64> = vectors.iter().map(|row| row[i]).collect();
        let largest = (0..4).fold(0, |b, j| if v[j].abs() > v[b].abs() { j } else { b });
        if v[largest] < 0.0 {
            v.iter_mut().for_each(|x| *x = -*x);
        }
        assert!(close(&p.components[k], &v, 1e-5), "component {k}: {:?} vs {v:?}", p.components[k]);
        let coords: Vec<f64> = c.iter().map(|r| r.iter().zip(&v).map(|(a, b)| a * b).sum()).collect();
        let got: Vec<f32> = p.points.iter().map(|pt| pt[k]).collect();
        assert!(close(&got, &coords, 1e-5));
    }
    println!("PCA 5×4: explained variance {:?}", p.explained_variance_ratio);
}

#[test]
fn pca_of_degenerate_sets() {
    let same = analysis::pca(&[[1.0f32, 2.0], [1.0, 2.0]]);
    assert_eq!(same.points, [[0.0, 0.0], [0.0, 0.0]]);
    assert_eq!(same.explained_variance_ratio, [0.0, 0.0]);
    assert!(analysis::pca::<Vec<f32>>(&[]).points.is_empty());
}

/// The classic demo: "apple" the company against "apple" the fruit, layer by layer.
#[test]
fn apple_drifts_between_senses_in_the_default_model() {
    let engine = common::engine(&DEFAULT_CASE);
    let run = engine.run(&["Apple is huge enterprise", "I am eating an apple"]).unwrap();
    let [a, b] = [0, 1].map(|i| analysis::find_token(&run.batch.sentences[i], "apple").unwrap());
    assert_eq!((a, b), (1, 5));
    let across = analysis::drift(&run.runs[0].hidden, a, &run.runs[1].hidden, b);
    let same_run = engine.run(&["I am eating an apple", "I am eating an apple"]).unwrap();
    let same = analysis::drift(&same_run.runs[0].hidden, b, &same_run.runs[1].hidden, b);
    assert_eq!(across.len(), 7, "embeddings + 6 layers");
    println!("cos(apple | Apple is huge enterprise, apple | I am eating an apple) per level (0 = embeddings):");
    for (level, (x, s)) in across.iter().zip(&same).enumerate() {
        println!("  level {level}: {x:.6}   (identical sentences: {s:.6})");
    }
    assert!(same.iter().all(|&s| (s - 1.0).abs() < 1e-6), "identical sentences: {same:?}");
    assert!(across.iter().zip(&same).all(|(x, s)| x < s));
    assert!(*across.last().unwrap() < 1.0 - 1e-3);
}

#[test]
fn rollout_and_flow_of_the_seed_batch() {
    let engine = common::engine(&DEFAULT_CASE);
    let run = engine.run(&["Apple is huge enterprise", "I am eating an apple"]).unwrap();
    let r = analysis::rollout(&run.runs[0].attention);
    assert_eq!(r.shape(), [6, 7, 7]);
    for l in 0..6 {
        for q in 0..6 {
            assert!((r.row(l, q).iter().sum::<f32>() - 1.0).abs() < 1e-5);
            assert_eq!(r.row(l, q)[6], 0.0, "the [PAD] key");
        }
    }
    let len = run.batch.sentences[0].len;
    let f = analysis::flow(&run.runs[0].attention, len, |_, _| {}).unwrap();
    assert_eq!(f.tokens(), 6);
    assert!(f.as_slice().iter().all(|&x| (0.0..=1.0 + 1e-5).contains(&x)));

    // A real 64-token sentence (62 words + [CLS] + [SEP]).
    let words = ["the", "bank", "raised", "its", "interest", "rates", "and", "we", "ate", "an", "apple"];
    let text = (0..62).map(|i| words[i % words.len()]).collect::<Vec<_>>().join(" ");
    let long = engine.run(&[&text]).unwrap();
    assert_eq!(long.batch.sentences[0].len, 64);
    let t = std::time::Instant::now();
    let f = analysis::flow(&long.runs[0].attention, 64, |_, _| {}).unwrap();
    println!("flow of a real 64-token sentence, 6 layers: {:.2} s", t.elapsed().as_secs_f64());
    assert!(f.as_slice().iter().all(|&x| (0.0..=1.0 + 1e-5).contains(&x)));
}

#[test]
fn word_drift_and_token_map_cover_the_batch() {
    let engine = common::engine(&bertscope_testkit::DEFAULT_CASE);
    let analysis = engine.run(&["Apple is huge enterprise", "I am eating an apple"]).unwrap();
    let drift = bertscope_core::analysis::word_drift(&analysis, 0, 1, "apple").unwrap();
    assert_eq!((drift.token_a, drift.token_b), (1, 5));
    let direct = bertscope_core::analysis::drift(&analysis.runs[0].hidden, 1, &analysis.runs[1].hidden, 5);
    assert_eq!(drift.cosine, direct);
    assert!(bertscope_core::analysis::word_drift(&analysis, 0, 1, "banana").is_none());
    assert!(bertscope_core::analysis::word_drift(&analysis, 0, 7, "apple").is_none(), "no sentence 7");
    let map = bertscope_core::analysis::token_map(&analysis);
    assert_eq!(map.tokens.len(), 13, "6 + 7 real tokens, the [PAD] left out");
    assert_eq!(map.points.len(), 13);
    assert!(map.explained_variance_ratio[0] >= map.explained_variance_ratio[1]);
}

/// The word rule on the default model's own tokenizer: "tokenization" is `token ##ization`, the
/// second "bank" is found by its occurrence, and drift compares a word of pieces by their mean.
#[test]
fn words_of_pieces_and_repeated_words_in_the_default_model() {
    let engine = common::engine(&DEFAULT_CASE);
    let run =
        engine.run(&["Tokenization is fun", "The bank near the river bank flooded", "I like tokenization"]).unwrap();
    let [pieces, banks, later] = [0, 1, 2].map(|i| &run.batch.sentences[i]);
    assert_eq!(pieces.tokens[1..3], ["token", "##ization"]);
    let word = analysis::find_word(pieces, "Tokenization", 1).unwrap();
    assert_eq!((word.start, word.end, word.text.as_str()), (1, 3, "tokenization"));
    assert!(matches!(analysis::find_word(pieces, "token", 1), Err(analysis::WordMiss::Absent { .. })));
    let [first, second] = [1, 2].map(|nth| analysis::find_word(banks, "bank", nth).unwrap().start);
    assert_eq!((first, second), (2, 6));
    assert_eq!(
        analysis::find_word(banks, "bank", 3).unwrap_err().to_string(),
        "“bank” is in this sentence only 2 times, not a 3rd time"
    );

    let drift = analysis::word_drift_at(&run, 0, 2, "tokenization", 1).unwrap();
    let other = analysis::find_word(later, "tokenization", 1).unwrap();
    assert_eq!((drift.token_a, drift.token_b), (1, other.start));
    let mean = |s: usize, w: &bertscope_core::tokenize::Word, level: usize| -> Vec<f32> {
        let hidden = &run.runs[s].hidden;
        let vectors: Vec<&[f32]> = (w.start..w.end).map(|t| hidden.vector(level, t)).collect();
        (0..vectors[0].len()).map(|i| vectors.iter().map(|v| v[i]).sum::<f32>() / vectors.len() as f32).collect()
    };
    for (level, &got) in drift.cosine.iter().enumerate() {
        let want = analysis::cosine(&mean(0, &word, level), &mean(2, &other, level));
        assert!((got - want).abs() < 1e-6, "level {level}: {got} against {want}");
    }
    assert!(analysis::word_drift_at(&run, 1, 1, "bank", 3).is_none(), "no 3rd bank");
}
