//! Fixtures shared by the fuzz targets: the tiny DistilBERT files from the models folder.
use std::path::PathBuf;

/// `$BERTSCOPE_MODELS`, else `../shared/models` beside the repository.
pub fn models_dir() -> PathBuf {
    std::env::var_os("BERTSCOPE_MODELS")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../shared/models"))
}

/// Reads a file of the models folder (the fuzz run cannot start without it).
pub fn read(relative: &str) -> Vec<u8> {
    let path = models_dir().join(relative);
    std::fs::read(&path).unwrap_or_else(|e| panic!("{}: {e} (set BERTSCOPE_MODELS)", path.display()))
}
