//! Fixtures shared by the fuzz checks: the tiny DistilBERT files from the models folder.

/// Reads a file of the models folder (`$BERTSCOPE_MODELS`, else `../shared/models`); the fuzz
/// run cannot start without it.
pub fn read(relative: &str) -> Vec<u8> {
    let path = bertscope_testkit::models_dir().join(relative);
    std::fs::read(&path).unwrap_or_else(|e| panic!("{}: {e} (set BERTSCOPE_MODELS)", path.display()))
}

/// Load options with the kernels the browser runs (bertscope's packed and batched products, in
/// their portable form), so that fuzzing covers those graph rewrites and kernels too.
pub fn options() -> bertscope_core::LoadOptions {
    bertscope_core::LoadOptions { matmul: bertscope_core::MatMulKernel::Packed, ..Default::default() }
}

/// The value of an engine result; `Error::Internal` (a panic the engine caught natively, which
/// aborts the engine in wasm) is a finding and panics here. Other errors are `None`. Under
/// libFuzzer the panic hook aborts first; this is what makes the seed replay in `cargo test` see it.
pub fn unless_internal<T>(result: bertscope_core::Result<T>) -> Option<T> {
    match result {
        Err(bertscope_core::Error::Internal(message)) => panic!("the engine caught a panic: {message}"),
        other => other.ok(),
    }
}
