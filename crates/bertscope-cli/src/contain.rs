//! A panic anywhere in a command ends it like any other error: one plain line on stderr and exit
//! status 1, not Rust's panic report and status 101. The engine already turns panics while
//! loading or running a model into errors; this also covers the rest (printing, the quantizer).

use std::panic::{self, AssertUnwindSafe};
use std::sync::Mutex;

/// Where the last panic happened, kept by the quiet hook for the message.
static LOCATION: Mutex<Option<String>> = Mutex::new(None);

/// Runs `command` with Rust's panic report silenced; a panic becomes an `Err` in words.
pub fn contain(command: impl FnOnce() -> Result<(), String>) -> Result<(), String> {
    panic::set_hook(Box::new(|info| {
        let location = info.location().map(|l| format!("{}:{}", l.file(), l.line()));
        *LOCATION.lock().unwrap_or_else(|poisoned| poisoned.into_inner()) = location;
    }));
    panic::catch_unwind(AssertUnwindSafe(command)).unwrap_or_else(|payload| {
        let message = bertscope_core::panic_message(&*payload);
        let location = LOCATION.lock().unwrap_or_else(|poisoned| poisoned.into_inner()).take();
        let at = location.map(|l| format!(" at {l}")).unwrap_or_default();
        Err(format!("internal error ({message}{at}); this is a bug in bertscope, please report it"))
    })
}

#[cfg(test)]
mod tests {
    #[test]
    fn a_panic_is_one_line_naming_where() {
        let e = super::contain(|| panic!("boom\nmore")).unwrap_err();
        assert!(e.starts_with("internal error (boom at "), "{e}");
        assert!(e.contains("contain.rs:") && e.ends_with("this is a bug in bertscope, please report it"), "{e}");
        assert_eq!(super::contain(|| Err("plain".into())), Err("plain".to_string()));
    }
}
