//! Fixtures shared by the fuzz targets: the tiny DistilBERT files from the models folder.

/// Reads a file of the models folder (`$BERTSCOPE_MODELS`, else `../shared/models`); the fuzz
/// run cannot start without it.
pub fn read(relative: &str) -> Vec<u8> {
    let path = bertscope_testkit::models_dir().join(relative);
    std::fs::read(&path).unwrap_or_else(|e| panic!("{}: {e} (set BERTSCOPE_MODELS)", path.display()))
}

/// Load options with the kernels the browser runs (bertscope's packed and batched products, in
/// their portable form), so that fuzzing covers those graph rewrites and kernels too.
#[allow(dead_code)]
pub fn options() -> bertscope_core::LoadOptions {
    bertscope_core::LoadOptions { matmul: bertscope_core::MatMulKernel::Packed, ..Default::default() }
}
