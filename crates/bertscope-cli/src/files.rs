//! Reading the model and tokenizer files with limits: what is not a regular file (a FIFO,
//! `/dev/zero`) or is larger than a model or tokenizer can be is refused without being read.

use std::fs::File;
use std::io::{BufRead, Read};
use std::path::Path;

/// The largest model file read: 2 GiB, protobuf's own limit on an ONNX file (larger models
/// keep their weights in external data files, which bertscope does not read).
pub const MAX_MODEL_BYTES: u64 = 2 << 30;

/// The largest tokenizer.json read: 64 MiB (BERT's is under 1 MB, the largest multilingual
/// ones under 20 MB).
pub const MAX_TOKENIZER_BYTES: u64 = 64 << 20;

/// The longest corpus line read: 1 MiB (a sentence is cut at the model's longest input anyway).
pub const MAX_LINE_BYTES: u64 = 1 << 20;

/// Reads a whole file of at most `limit` bytes; `what` names it in messages ("model",
/// "tokenizer"). Refuses, without reading them, what is not a regular file (a FIFO, `/dev/zero`)
/// and files larger than `limit`; a file that grows while it is read is cut at `limit` + 1 bytes
/// and refused too.
pub fn read_file(path: &Path, what: &str, limit: u64) -> Result<Vec<u8>, String> {
    let cannot = |e: std::io::Error| format!("cannot read {what} {}: {e}", path.display());
    // `metadata` does not open the file: opening a FIFO would wait for a writer.
    let metadata = std::fs::metadata(path).map_err(cannot)?;
    check_metadata(path, what, limit, &metadata)?;
    let file = File::open(path).map_err(cannot)?;
    check_metadata(path, what, limit, &file.metadata().map_err(cannot)?)?;
    let mut bytes = Vec::with_capacity(metadata.len().min(limit) as usize);
    file.take(limit + 1).read_to_end(&mut bytes).map_err(cannot)?;
    if bytes.len() as u64 > limit {
        return Err(too_large(path, what, limit));
    }
    Ok(bytes)
}

/// Reads the next line of `reader` into `line` (replacing it, `\n` or `\r\n` removed), reading no more
/// than [`MAX_LINE_BYTES`] + 1 bytes; `Ok(false)` at the end. `Err` in words for a longer line
/// (`/dev/zero` has no newline at all) or one that is not UTF-8.
pub fn next_line(reader: &mut impl BufRead, line: &mut String, number: usize) -> Result<bool, String> {
    let mut bytes = Vec::new();
    let read = reader.take(MAX_LINE_BYTES + 1).read_until(b'\n', &mut bytes).map_err(|e| e.to_string())?;
    if read == 0 {
        return Ok(false);
    }
    if bytes.last() == Some(&b'\n') {
        bytes.pop();
        if bytes.last() == Some(&b'\r') {
            bytes.pop();
        }
    } else if bytes.len() as u64 > MAX_LINE_BYTES {
        return Err(format!("line {number} is longer than {}; give one sentence per line", size(MAX_LINE_BYTES)));
    }
    *line = String::from_utf8(bytes).map_err(|_| format!("line {number} is not UTF-8 text"))?;
    Ok(true)
}

fn check_metadata(path: &Path, what: &str, limit: u64, metadata: &std::fs::Metadata) -> Result<(), String> {
    if !metadata.is_file() {
        return Err(format!(
            "cannot read {what} {}: it is {}, not a regular file; give the {what} as a file",
            path.display(),
            kind_of(metadata)
        ));
    }
    if metadata.len() > limit {
        return Err(too_large(path, what, limit));
    }
    Ok(())
}

fn too_large(path: &Path, what: &str, limit: u64) -> String {
    format!("cannot read {what} {}: it is larger than the {} bertscope reads for a {what}", path.display(), size(limit))
}

/// "2 GiB", "64 MiB": limits in words.
fn size(bytes: u64) -> String {
    match bytes {
        b if b >= 1 << 30 && b % (1 << 30) == 0 => format!("{} GiB", b >> 30),
        b if b >= 1 << 20 && b % (1 << 20) == 0 => format!("{} MiB", b >> 20),
        b => format!("{b} bytes"),
    }
}

#[cfg(unix)]
fn kind_of(metadata: &std::fs::Metadata) -> &'static str {
    use std::os::unix::fs::FileTypeExt;
    let kind = metadata.file_type();
    if metadata.is_dir() {
        "a directory"
    } else if kind.is_fifo() {
        "a FIFO (named pipe)"
    } else if kind.is_char_device() {
        "a character device"
    } else if kind.is_block_device() {
        "a block device"
    } else if kind.is_socket() {
        "a socket"
    } else {
        "something else"
    }
}

#[cfg(not(unix))]
fn kind_of(metadata: &std::fs::Metadata) -> &'static str {
    if metadata.is_dir() {
        "a directory"
    } else {
        "something else"
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn lines_are_read_up_to_the_cap() {
        let text = format!("one\ntwo\r\n{}\n", "x".repeat(super::MAX_LINE_BYTES as usize + 1));
        let mut reader = std::io::Cursor::new(text.into_bytes());
        let mut line = String::new();
        assert_eq!(super::next_line(&mut reader, &mut line, 1), Ok(true));
        assert_eq!(line, "one");
        assert_eq!(super::next_line(&mut reader, &mut line, 2), Ok(true));
        assert_eq!(line, "two");
        let e = super::next_line(&mut reader, &mut line, 3).unwrap_err();
        assert_eq!(e, "line 3 is longer than 1 MiB; give one sentence per line");
        let mut bytes = std::io::Cursor::new(vec![b'a', 0xff, b'\n']);
        assert_eq!(super::next_line(&mut bytes, &mut line, 4).unwrap_err(), "line 4 is not UTF-8 text");
        assert_eq!(super::next_line(&mut std::io::Cursor::new(Vec::new()), &mut line, 5), Ok(false));
    }

    #[test]
    fn sizes_read_in_binary_units() {
        assert_eq!(super::size(super::MAX_MODEL_BYTES), "2 GiB");
        assert_eq!(super::size(super::MAX_TOKENIZER_BYTES), "64 MiB");
        assert_eq!(super::size(1000), "1000 bytes");
    }
}
