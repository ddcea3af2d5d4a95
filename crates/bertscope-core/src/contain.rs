//! The last line of defence natively: a panic inside tract or tokenizers while a model loads or
//! runs becomes [`Error::Internal`] instead of ending the program. Every panic bertscope knows of
//! is refused earlier, in words; this catches the ones nobody has found yet. In wasm a panic
//! aborts (there is no unwinding), so there the page restarts the worker instead.

use std::any::Any;
use std::panic::{catch_unwind, AssertUnwindSafe};

use crate::error::{Error, Result};

/// Runs `f`, turning a panic into [`Error::Internal`] naming `doing` ("loading the model").
///
/// The engine's state stays usable after a caught panic: its locks recover from poisoning and a
/// failed load leaves nothing behind.
pub(crate) fn contain<T>(doing: &str, f: impl FnOnce() -> Result<T>) -> Result<T> {
    catch_unwind(AssertUnwindSafe(f))
        .unwrap_or_else(|payload| Err(Error::Internal(format!("{doing} ({})", panic_message(&*payload)))))
}

/// The first line of a caught panic's message (with `RUST_BACKTRACE` set, an unwrapped error
/// carries its backtrace on the lines after), or "no message".
pub fn panic_message(payload: &(dyn Any + Send)) -> String {
    let message =
        payload.downcast_ref::<&str>().copied().or_else(|| payload.downcast_ref::<String>().map(String::as_str));
    message.and_then(|m| m.lines().next()).unwrap_or("no message").to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_panic_becomes_an_internal_error_in_words() {
        let e = contain("loading the model", || -> Result<()> { panic!("index out of bounds: {}", 7) }).unwrap_err();
        assert!(matches!(e, Error::Internal(_)));
        assert_eq!(
            e.to_string(),
            "the engine stopped on an internal error while loading the model (index out of bounds: 7); the model \
             file may be corrupt, or this is a bug in bertscope"
        );
        let e = contain("running", || -> Result<()> { panic!("first line\n\nStack backtrace:\n 0: x") }).unwrap_err();
        assert!(e.to_string().contains("while running (first line);"), "{e}");
        let e = contain("running", || -> Result<()> { std::panic::panic_any(3u8) }).unwrap_err();
        assert!(e.to_string().contains("while running (no message)"), "{e}");
    }

    #[test]
    fn results_pass_through() {
        assert_eq!(contain("running", || Ok(5)).unwrap(), 5);
        assert!(matches!(contain("running", || -> Result<()> { Err(Error::NoSentences) }), Err(Error::NoSentences)));
    }
}
