//! Input files with limits: what is not a regular file (`/dev/zero`, a FIFO) or is larger than a
//! model or tokenizer can be is refused in words without being read, and a corpus line without
//! end is cut at 1 MiB. Each used to be read without limit.

mod common;
use common::bertscope;

use std::path::PathBuf;
use std::process::{Command, Output};

fn model(relative: &str) -> String {
    bertscope_testkit::models_dir().join(relative).to_str().unwrap().to_string()
}

fn scratch(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("bertscope-files-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// Exit status 1, one plain line containing `expected`, nothing on stdout.
fn refused(out: &Output, expected: &str) {
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    assert_eq!(stderr.lines().count(), 1, "{stderr}");
    assert!(stderr.starts_with("bertscope: ") && stderr.contains(expected), "{stderr}");
    assert!(out.stdout.is_empty());
}

#[test]
fn devices_are_refused_as_model_or_tokenizer_without_reading_them() {
    let tokenizer = model("distilbert-tiny-random/tokenizer.json");
    for device in ["/dev/zero", "/dev/urandom"] {
        refused(
            &bertscope(&["info", "--model", device, "--tokenizer", &tokenizer]),
            &format!(
                "cannot read model {device}: it is a character device, not a regular file; give the model as a file"
            ),
        );
        refused(
            &bertscope(&["info", "--model", &model("distilbert-tiny-random/model.onnx"), "--tokenizer", device]),
            &format!("cannot read tokenizer {device}: it is a character device, not a regular file"),
        );
    }
    refused(&bertscope(&["quantize", "/dev/zero", "-o", "/dev/null", "--tokenizer", &tokenizer]), "character device");
    refused(&bertscope(&["info", "--model", "/tmp", "--tokenizer", &tokenizer]), "it is a directory");
}

#[test]
fn a_fifo_is_refused_without_waiting_for_its_writer() {
    let dir = scratch("fifo");
    let fifo = dir.join("model.onnx");
    let made = Command::new("mkfifo").arg(&fifo).status().expect("mkfifo runs");
    assert!(made.success());
    // A writer that would feed the FIFO without end, once a reader opens it.
    let path = fifo.clone();
    let writer = std::thread::spawn(move || {
        use std::io::Write;
        let mut file = std::fs::OpenOptions::new().write(true).open(&path).unwrap();
        let zeros = vec![0u8; 1 << 16];
        while file.write_all(&zeros).is_ok() {}
    });
    let out = bertscope(&[
        "info",
        "--model",
        fifo.to_str().unwrap(),
        "--tokenizer",
        &model("distilbert-tiny-random/tokenizer.json"),
    ]);
    refused(&out, "it is a FIFO (named pipe), not a regular file; give the model as a file");
    // Let the writer go: open the FIFO, then close it, so its next write fails.
    drop(std::fs::File::open(&fifo).unwrap());
    writer.join().unwrap();
}

#[test]
fn files_larger_than_the_caps_are_refused_from_their_size() {
    let dir = scratch("huge");
    // Sparse files: their size is read from the file system, no byte of them is.
    let huge_model = dir.join("model.onnx");
    std::fs::File::create(&huge_model).unwrap().set_len((2 << 30) + 1).unwrap();
    let huge_tokenizer = dir.join("tokenizer.json");
    std::fs::File::create(&huge_tokenizer).unwrap().set_len((64 << 20) + 1).unwrap();
    let out = bertscope(&["info", "--model", huge_model.to_str().unwrap()]);
    refused(&out, "model.onnx: it is larger than the 2 GiB bertscope reads for a model");
    let out = bertscope(&[
        "info",
        "--model",
        &model("distilbert-tiny-random/model.onnx"),
        "--tokenizer",
        huge_tokenizer.to_str().unwrap(),
    ]);
    refused(&out, "tokenizer.json: it is larger than the 64 MiB bertscope reads for a tokenizer");
}

#[test]
fn a_corpus_line_without_end_is_cut_at_1_mib() {
    let out = bertscope(&["heads", "--model", &model("distilbert-tiny-random/model.onnx"), "--corpus", "/dev/zero"]);
    refused(&out, "reading corpus /dev/zero: line 1 is longer than 1 MiB; give one sentence per line");
    let dir = scratch("corpus");
    let corpus = dir.join("corpus.txt");
    std::fs::write(&corpus, b"Apple is huge\n\xff\xfe\n").unwrap();
    let out = bertscope(&[
        "heads",
        "--model",
        &model("distilbert-tiny-random/model.onnx"),
        "--corpus",
        corpus.to_str().unwrap(),
    ]);
    refused(&out, "line 2 is not UTF-8 text");
}
