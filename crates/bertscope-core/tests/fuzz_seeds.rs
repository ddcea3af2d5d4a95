//! Every fuzz seed (`fuzz/seeds/<target>`, where past findings are kept too) replayed through
//! its target's check, natively: a finding that comes back fails `cargo test` without an
//! instrumented build. Fuzzing for new findings is `scripts/fuzz`.
use std::path::{Path, PathBuf};

#[path = "../../../fuzz/checks/mod.rs"]
mod checks;

/// The seeds of one target, in name order.
fn seeds(target: &str) -> Vec<PathBuf> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../fuzz/seeds").join(target);
    let mut paths: Vec<PathBuf> = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .map(|e| e.unwrap().path())
        .collect();
    paths.sort();
    assert!(!paths.is_empty(), "{} holds no seeds", dir.display());
    paths
}

/// Runs `check` on each seed of `target`, naming the seed if it panics.
fn replay(target: &str, check: fn(&[u8])) {
    for path in seeds(target) {
        let bytes = std::fs::read(&path).unwrap();
        if std::panic::catch_unwind(|| check(&bytes)).is_err() {
            panic!("fuzz seed {} is a finding again", path.display());
        }
    }
}

#[test]
fn text_seeds() {
    replay("text", checks::text::check);
}

#[test]
fn model_bytes_seeds() {
    replay("model_bytes", checks::model_bytes::check);
}

#[test]
fn tokenizer_json_seeds() {
    replay("tokenizer_json", checks::tokenizer_json::check);
}

#[test]
fn mutated_model_seeds() {
    replay("mutated_model", checks::mutated_model::check);
}

#[test]
fn onnx_attributes_seeds() {
    replay("onnx_attributes", checks::onnx_attributes::check);
}
