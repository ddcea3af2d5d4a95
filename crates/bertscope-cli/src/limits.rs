//! What the command line refuses before it runs: batches too large to fit in memory and absurd
//! counts. Each refusal states the limit.

use bertscope_core::Engine;

/// The most tokens run as one batch: sentences × the longest sentence's tokens (the batch is
/// padded to its longest sentence), e.g. 16 sentences of 512 tokens. Attention alone takes
/// layers × heads × tokens² floats per sentence, 75 MB at 512 tokens for DistilBERT-base.
pub const MAX_BATCH_TOKENS: usize = 8192;

/// The most timed runs per length `bench` makes.
pub const MAX_BENCH_RUNS: usize = 100_000;

/// Refuses a batch whose padded size is more than [`MAX_BATCH_TOKENS`], before it runs.
pub fn check_batch<S: AsRef<str>>(engine: &Engine, texts: &[S]) -> Result<(), String> {
    let batch = engine.tokenizer().encode_batch(texts).map_err(|e| e.to_string())?;
    let longest = batch.seq_len;
    let tokens = texts.len().saturating_mul(longest);
    if tokens > MAX_BATCH_TOKENS {
        return Err(format!(
            "the batch is too large: {} sentences padded to {longest} tokens make {tokens} tokens, and bertscope \
             runs at most {MAX_BATCH_TOKENS} tokens at once (sentences × tokens of the longest); give fewer or \
             shorter sentences",
            texts.len()
        ));
    }
    Ok(())
}

/// Refuses `bench` counts that cannot be meant: more than [`MAX_BENCH_RUNS`] runs, or lengths
/// beyond what the model takes.
pub fn check_bench(runs: usize, lengths: &[usize], max_tokens: usize) -> Result<(), String> {
    if runs > MAX_BENCH_RUNS {
        return Err(format!("--runs {runs} is too many: bench makes at most {MAX_BENCH_RUNS} runs per length"));
    }
    match lengths.iter().find(|&&n| n > max_tokens) {
        Some(n) => Err(format!("--lengths {n} is longer than the model takes: at most {max_tokens} tokens")),
        None => Ok(()),
    }
}
