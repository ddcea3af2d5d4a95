//! Fixtures shared by the fuzz targets: the tiny DistilBERT files from the models folder.

/// Reads a file of the models folder (`$BERTSCOPE_MODELS`, else `../shared/models`); the fuzz
/// run cannot start without it.
pub fn read(relative: &str) -> Vec<u8> {
    let path = bertscope_testkit::models_dir().join(relative);
    std::fs::read(&path).unwrap_or_else(|e| panic!("{}: {e} (set BERTSCOPE_MODELS)", path.display()))
}
