//! Writing to stdout and stderr: a closed pipe (`bertscope info … | head -c1`) or a full disk
//! (`> /dev/full`) ends the command with a message and exit status 1, never a panic.

use std::io::{self, Write};

/// Writes `text` and a newline to stdout and flushes it, so that a failed write is seen here.
pub fn print(text: impl std::fmt::Display) -> Result<(), String> {
    let mut out = io::stdout().lock();
    writeln!(out, "{text}").and_then(|()| out.flush()).map_err(write_error)
}

/// A failed write to stdout, in words.
pub fn write_error(e: io::Error) -> String {
    match e.kind() {
        io::ErrorKind::BrokenPipe => "cannot write the output: it was closed before the end (broken pipe)".into(),
        _ => format!("cannot write the output: {e}"),
    }
}

/// Writes a line to stderr; a closed stderr is ignored (there is nowhere left to say anything).
pub fn say(text: impl std::fmt::Display) {
    let _ = writeln!(io::stderr().lock(), "{text}");
}
