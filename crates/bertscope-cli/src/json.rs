//! Streams a batch run as JSON with nested arrays (`[batch][layer][head][query][key]`),
//! without building the whole document in memory first.

use std::io::{self, BufWriter, Write};

use bertscope_core::analysis::{MaskPrediction, Mixing, Rollout};
use bertscope_core::BatchRun;

/// Writes `{"input_ids", "attention_mask", "token_type_ids", "sentence_b_start", "tokens", "offsets", "truncated",
/// "attentions", "last_hidden_state"[, "fill_mask"][, "word"]}` (`sentence_b_start`: null for a single sentence).
pub fn write_batch_run(
    out: &mut impl Write,
    batch_run: &BatchRun,
    fill_mask: Option<Vec<Vec<MaskPrediction>>>,
    word_rows: Option<&serde_json::Value>,
) -> io::Result<()> {
    let mut w = BufWriter::new(out);
    let sentences = &batch_run.batch.sentences;
    write!(w, "{{\"input_ids\":")?;
    serde_json::to_writer(&mut w, &sentences.iter().map(|e| &e.input_ids).collect::<Vec<_>>())?;
    write!(w, ",\"attention_mask\":")?;
    serde_json::to_writer(&mut w, &sentences.iter().map(|e| &e.attention_mask).collect::<Vec<_>>())?;
    write!(w, ",\"token_type_ids\":")?;
    serde_json::to_writer(&mut w, &sentences.iter().map(|e| &e.token_type_ids).collect::<Vec<_>>())?;
    write!(w, ",\"sentence_b_start\":")?;
    serde_json::to_writer(&mut w, &sentences.iter().map(|e| e.sentence_b_start).collect::<Vec<_>>())?;
    write!(w, ",\"tokens\":")?;
    serde_json::to_writer(&mut w, &sentences.iter().map(|e| &e.tokens).collect::<Vec<_>>())?;
    write!(w, ",\"offsets\":")?;
    serde_json::to_writer(&mut w, &sentences.iter().map(|e| &e.offsets).collect::<Vec<_>>())?;
    write!(w, ",\"truncated\":")?;
    serde_json::to_writer(&mut w, &sentences.iter().map(|e| e.truncated).collect::<Vec<_>>())?;
    write!(w, ",\"attentions\":[")?;
    for (i, run) in batch_run.runs.iter().enumerate() {
        let [l, h, n, _] = run.attention.shape();
        if i > 0 {
            write!(w, ",")?;
        }
        nested(&mut w, run.attention.as_slice(), &[l, h, n, n])?;
    }
    write!(w, "],\"last_hidden_state\":[")?;
    for (i, run) in batch_run.runs.iter().enumerate() {
        let [_, n, d] = run.hidden.shape();
        if i > 0 {
            write!(w, ",")?;
        }
        nested(&mut w, run.hidden.last(), &[n, d])?;
    }
    write!(w, "]")?;
    if let Some(masks) = fill_mask {
        write!(w, ",\"fill_mask\":")?;
        serde_json::to_writer(&mut w, &masks)?;
    }
    if let Some(rows) = word_rows {
        write!(w, ",\"word\":")?;
        serde_json::to_writer(&mut w, rows)?;
    }
    writeln!(w, "}}")?;
    w.flush()
}

/// Writes `{"tokens": [batch][n], "rollout": [batch][layer][n][n][, "word"]}`.
pub fn write_rollout(
    out: &mut impl Write,
    batch_run: &BatchRun,
    rollouts: &[Rollout],
    word_rows: Option<&serde_json::Value>,
) -> io::Result<()> {
    let mut w = BufWriter::new(out);
    write!(w, "{{\"tokens\":")?;
    serde_json::to_writer(&mut w, &batch_run.batch.sentences.iter().map(|e| &e.tokens).collect::<Vec<_>>())?;
    write!(w, ",\"rollout\":[")?;
    for (i, rollout) in rollouts.iter().enumerate() {
        if i > 0 {
            write!(w, ",")?;
        }
        nested(&mut w, rollout.as_slice(), &rollout.shape())?;
    }
    write!(w, "]")?;
    if let Some(rows) = word_rows {
        write!(w, ",\"word\":")?;
        serde_json::to_writer(&mut w, rows)?;
    }
    writeln!(w, "}}")?;
    w.flush()
}

/// Writes `{"tokens", "input_ids", "norm_head": [sentence][layer][head][i][j], "norm_layer",
/// "alti", "alti_rollout": [sentence][layer][i][j], "reconstruction_error": [sentence][layer]}`,
/// each sentence over its own (unpadded) tokens.
pub fn write_mixing(out: &mut impl Write, batch_run: &BatchRun, measures: &[Mixing]) -> io::Result<()> {
    let mut w = BufWriter::new(out);
    let sentences = &batch_run.batch.sentences;
    write!(w, "{{\"tokens\":")?;
    serde_json::to_writer(&mut w, &sentences.iter().map(|e| &e.tokens[..e.len]).collect::<Vec<_>>())?;
    write!(w, ",\"input_ids\":")?;
    serde_json::to_writer(&mut w, &sentences.iter().map(|e| &e.input_ids[..e.len]).collect::<Vec<_>>())?;
    type Field = fn(&Mixing) -> &[f32];
    let fields: [(&str, Field, bool); 4] = [
        ("norm_head", Mixing::norm_head, true),
        ("norm_layer", Mixing::norm_layer, false),
        ("alti", Mixing::alti, false),
        ("alti_rollout", Mixing::alti_rollout, false),
    ];
    for (name, field, per_head) in fields {
        write!(w, ",\"{name}\":[")?;
        for (i, m) in measures.iter().enumerate() {
            let [l, h, n] = m.shape();
            if i > 0 {
                write!(w, ",")?;
            }
            let shape: &[usize] = if per_head { &[l, h, n, n] } else { &[l, n, n] };
            nested(&mut w, field(m), shape)?;
        }
        write!(w, "]")?;
    }
    write!(w, ",\"reconstruction_error\":")?;
    serde_json::to_writer(&mut w, &measures.iter().map(Mixing::reconstruction_error).collect::<Vec<_>>())?;
    writeln!(w, "}}")?;
    w.flush()
}

/// Writes a flat row-major buffer as nested JSON arrays of the given shape.
fn nested(w: &mut impl Write, data: &[f32], shape: &[usize]) -> io::Result<()> {
    match shape {
        [] => Ok(()),
        [_] => {
            write!(w, "[")?;
            for (i, v) in data.iter().enumerate() {
                if i > 0 {
                    write!(w, ",")?;
                }
                // Non-finite values are not JSON; a model that produces them is broken, say null.
                if v.is_finite() {
                    write!(w, "{v}")?;
                } else {
                    write!(w, "null")?;
                }
            }
            write!(w, "]")
        }
        [outer, inner @ ..] => {
            let stride: usize = inner.iter().product();
            write!(w, "[")?;
            for i in 0..*outer {
                if i > 0 {
                    write!(w, ",")?;
                }
                nested(w, &data[i * stride..(i + 1) * stride], inner)?;
            }
            write!(w, "]")
        }
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn nested_shapes_round_trip() {
        let mut out = Vec::new();
        super::nested(&mut out, &[1.0, 2.0, 3.0, 4.5, 5.0, f32::NAN], &[2, 3]).unwrap();
        assert_eq!(String::from_utf8(out).unwrap(), "[[1,2,3],[4.5,5,null]]");
    }
}
