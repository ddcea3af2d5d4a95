//! Where the output goes and how much is asked for: a full disk or a closed pipe on stdout ends
//! every subcommand with one plain line on stderr and exit status 1 (never a panic, status 101),
//! and absurd counts and batches are refused in words.

use std::path::PathBuf;
use std::process::{Command, Output, Stdio};

fn model(relative: &str) -> String {
    bertscope_testkit::models_dir().join(relative).to_str().unwrap().to_string()
}

fn scratch(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("bertscope-output-{}-{name}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// Every subcommand that writes to stdout, with arguments that succeed.
fn commands(dir: &std::path::Path) -> Vec<Vec<String>> {
    let tiny = model("distilbert-tiny-random/model.onnx");
    let mlm = model("distilbert-tiny-random-mlm/model.onnx");
    let quantized = dir.join("quantized.onnx").to_str().unwrap().to_string();
    let text = |t: &str| ["--text".to_string(), t.to_string()];
    let with = |head: &[&str], tail: &[[String; 2]]| {
        head.iter().map(|s| s.to_string()).chain(tail.iter().flatten().cloned()).collect::<Vec<_>>()
    };
    vec![
        with(&["info", "--model", &tiny], &[]),
        with(&["attention", "--model", &tiny], &[text("Apple is huge enterprise")]),
        with(&["attention", "--model", &mlm, "--fill-mask", "3"], &[text("Apple is huge [MASK]")]),
        with(&["rollout", "--model", &tiny], &[text("Apple is huge enterprise")]),
        with(&["drift", "--model", &tiny, "--word", "apple"], &[text("Apple is huge"), text("I ate an apple")]),
        with(&["fill-mask", "--model", &mlm], &[text("Apple is huge [MASK]")]),
        with(&["mixing", "--model", &tiny], &[text("Apple is huge enterprise")]),
        with(&["heads", "--model", &tiny], &[text("Apple is huge enterprise")]),
        with(&["bench", "--model", &tiny, "--lengths", "7", "--runs", "1"], &[]),
        with(
            &["quantize", &tiny, "-o", &quantized, "--tokenizer", &model("distilbert-tiny-random/tokenizer.json")],
            &[],
        ),
    ]
}

fn bertscope(args: &[String], stdout: Stdio) -> std::process::Child {
    Command::new(env!("CARGO_BIN_EXE_bertscope"))
        .args(args)
        .stdout(stdout)
        .stderr(Stdio::piped())
        .spawn()
        .expect("bertscope starts")
}

/// Exit status 1 and one line on stderr, `bertscope: ` then a message containing `expected`.
fn one_line_failure(args: &[String], out: &Output, expected: &str) {
    let stderr = String::from_utf8_lossy(&out.stderr);
    let args = &args[..2];
    assert_eq!(out.status.code(), Some(1), "{args:?}: {stderr}");
    assert_eq!(stderr.lines().count(), 1, "{args:?}: {stderr}");
    assert!(stderr.starts_with("bertscope: ") && stderr.contains(expected), "{args:?}: {stderr}");
    assert!(!stderr.contains("panicked"), "{args:?}: {stderr}");
}

#[test]
fn a_full_disk_on_stdout_is_a_message_and_status_1() {
    let dir = scratch("full");
    for args in commands(&dir) {
        let full = std::fs::OpenOptions::new().write(true).open("/dev/full").expect("/dev/full exists");
        let out = bertscope(&args, Stdio::from(full)).wait_with_output().unwrap();
        one_line_failure(&args, &out, "cannot write the output: No space left on device");
    }
    assert!(!dir.join("quantized.onnx").exists(), "quantize stops before writing its file");
}

#[test]
fn a_closed_pipe_on_stdout_is_a_message_and_status_1() {
    let dir = scratch("pipe");
    for args in commands(&dir) {
        let mut child = bertscope(&args, Stdio::piped());
        // The reader goes away before bertscope has loaded the model, as `| true` does.
        drop(child.stdout.take());
        let out = child.wait_with_output().unwrap();
        one_line_failure(&args, &out, "cannot write the output: it was closed before the end (broken pipe)");
    }
}

fn run(args: &[&str]) -> (Vec<String>, Output) {
    let args: Vec<String> = args.iter().map(|s| s.to_string()).collect();
    let out = bertscope(&args, Stdio::piped()).wait_with_output().unwrap();
    (args, out)
}

#[test]
fn absurd_bench_counts_are_refused_in_words() {
    let tiny = model("distilbert-tiny-random/model.onnx");
    let (args, out) = run(&["bench", "--model", &tiny, "--lengths", "7", "--runs", "18446744073709551615"]);
    one_line_failure(&args, &out, "--runs 18446744073709551615 is too many: bench makes at most 100000 runs");
    let (args, out) = run(&["bench", "--model", &tiny, "--lengths", "7,4000000000", "--runs", "1"]);
    one_line_failure(&args, &out, "--lengths 4000000000 is longer than the model takes: at most 512 tokens");
    assert!(out.stdout.is_empty());
}

#[test]
fn a_batch_beyond_the_token_cap_is_refused_before_it_runs() {
    let tiny = model("distilbert-tiny-random/model.onnx");
    // 17 sentences of 512 tokens (cut from 600 words): 8704 tokens, over the 8192 cap.
    let long = vec!["apple"; 600].join(" ");
    let texts: Vec<&str> = std::iter::repeat_n(["--text", long.as_str()], 17).flatten().collect();
    for command in ["attention", "rollout", "mixing"] {
        let args: Vec<&str> = [command, "--model", &tiny].into_iter().chain(texts.iter().copied()).collect();
        let (args, out) = run(&args);
        one_line_failure(
            &args,
            &out,
            "the batch is too large: 17 sentences padded to 512 tokens make 8704 tokens, and bertscope runs at most \
             8192 tokens at once",
        );
        assert!(out.stdout.is_empty());
    }
}
