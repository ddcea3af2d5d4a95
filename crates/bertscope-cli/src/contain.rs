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
        let message = payload
            .downcast_ref::<&str>()
            .map(|s| s.to_string())
            .or_else(|| payload.downcast_ref::<String>().cloned())
            .unwrap_or_else(|| "no message".into());
        // The first line: with RUST_BACKTRACE set, an unwrapped error carries its backtrace.
        let message = message.lines().next().unwrap_or_default().to_string();
        let location = LOCATION.lock().unwrap_or_else(|poisoned| poisoned.into_inner()).take();
        let at = location.map(|l| format!(" at {l}")).unwrap_or_default();
        Err(format!("internal error ({message}{at}); this is a bug in bertscope, please report it"))
    })
}
