use bertscope_core::{analysis, Engine, LoadOptions};
fn main() {
    let dir = std::env::var("M").unwrap_or("/work/shared/models/minilm-l6".into());
    let file = std::env::var("F").unwrap_or("model_weights_int8.onnx".into());
    let engine = Engine::new(
        &std::fs::read(format!("{dir}/{file}")).unwrap(),
        &std::fs::read(format!("{dir}/tokenizer.json")).unwrap(),
        LoadOptions::default(),
    )
    .unwrap();
    let run = engine.run_with_mixing(&["Apple is huge enterprise", "I am eating an apple"]).unwrap();
    let layers = engine.mixing_layers().unwrap();
    for (s, r) in run.runs.iter().enumerate() {
        let n = run.batch.sentences[s].len;
        let t = std::time::Instant::now();
        let m = analysis::mixing(
            analysis::MixingInput {
                attention: &r.attention,
                hidden: &r.hidden,
                taps: r.mixing.as_ref().unwrap(),
                tokens: n,
            },
            layers,
            |_, _| {},
        );
        println!("sentence {s} n={n} took {:?} recon {:?}", t.elapsed(), m.reconstruction_error());
        let [l, h, _] = m.shape();
        for layer in 0..l {
            let nl = &m.norm_layer()[layer * n * n..(layer + 1) * n * n];
            let cls_share: f32 =
                (0..n).map(|i| nl[i * n] / nl[i * n..(i + 1) * n].iter().sum::<f32>()).sum::<f32>() / n as f32;
            let raw_cls: f32 =
                (0..n).map(|i| (0..h).map(|hh| r.attention.row(layer, hh, i)[0]).sum::<f32>() / h as f32).sum::<f32>()
                    / n as f32;
            let alti = &m.alti()[layer * n * n..(layer + 1) * n * n];
            let selfk: f32 = (0..n).map(|i| alti[i * n + i]).sum::<f32>() / n as f32;
            let rows: Vec<f32> = alti.chunks(n).map(|r| r.iter().sum()).collect();
            println!(
                "  layer {layer}: raw cls {raw_cls:.3} norm cls share {cls_share:.3} alti self {selfk:.3} rows {:?}",
                &rows[..2]
            );
        }
    }
}
