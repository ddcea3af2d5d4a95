//! `bertscope`: run a BERT-family ONNX model on sentences and print what it attends to, as JSON.

mod analyze;
mod bench;
mod contain;
mod files;
mod json;
mod limits;
mod mixing;
mod output;
mod quantize;

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use bertscope_core::tokenize::Input;
use bertscope_core::{analysis, Engine, LoadOptions};
use clap::{Args, Parser, Subcommand};

#[derive(Parser)]
#[command(name = "bertscope", version, about = "See what a BERT-family model attends to.")]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

/// A word to follow: its pieces together, and which occurrence of it (`--word bank --nth 2`).
#[derive(Args)]
struct WordChoice {
    /// The word (its word-pieces together: "tokenization" is `token ##ization`); also prints its
    /// row: the mean of its pieces' rows (pieces as queries), and that row summed per word (pieces as keys).
    #[arg(long)]
    word: Option<String>,
    /// Which occurrence of the word, from 1 (the 2nd "bank" of "the bank near the river bank").
    #[arg(long, default_value_t = 1, requires = "word", value_parser = clap::value_parser!(u32).range(1..))]
    nth: u32,
}

/// Where the model and its tokenizer are (every subcommand takes these).
#[derive(Args)]
struct ModelFiles {
    /// The ONNX export: fp32, dynamic int8 or weight-only int8; fill-mask needs a masked-LM head.
    #[arg(long)]
    model: PathBuf,
    /// The tokenizer.json (default: the one beside the model).
    #[arg(long)]
    tokenizer: Option<PathBuf>,
}

/// The inputs of a run: `--text` sentences, then `--pair` pairs, as one padded batch.
#[derive(Args)]
struct Sentences {
    /// A sentence; give several to run them as one padded batch. "A | B" is a sentence pair
    /// (write \| for a bar that is part of a sentence).
    #[arg(long = "text", required_unless_present = "pairs")]
    texts: Vec<String>,
    /// Two sentences read together as a pair ([CLS] A [SEP] B [SEP], token_type_ids 0 then 1),
    /// taken as they are; may be repeated; they follow the --text sentences in the batch.
    #[arg(long = "pair", num_args = 2, value_names = ["A", "B"])]
    pairs: Vec<String>,
}

impl Sentences {
    /// Every input as one line of the `A | B` syntax, `--text` first.
    fn lines(self) -> Result<Vec<String>, String> {
        let pairs = self.pairs.chunks(2).map(|pair| match pair {
            [a, _] if a.trim().is_empty() => Err("--pair: sentence A is empty".to_string()),
            [_, b] if b.trim().is_empty() => Err("--pair: sentence B is empty".to_string()),
            [a, b] => Ok(Input::Pair(a.trim().to_string(), b.trim().to_string()).to_string()),
            _ => Err("--pair takes two sentences".to_string()),
        });
        self.texts.into_iter().map(Ok).chain(pairs).collect()
    }
}

#[derive(Subcommand)]
enum Command {
    /// Print input ids, tokens, every layer's attention and the last hidden state as JSON.
    Attention {
        #[command(flatten)]
        files: ModelFiles,
        #[command(flatten)]
        texts: Sentences,
        /// Also print the top-k fillers of every [MASK] (fill-mask exports only).
        #[arg(long, value_name = "K")]
        fill_mask: Option<usize>,
        #[command(flatten)]
        word: WordChoice,
    },
    /// Print the attention rollout of each sentence, every layer's cumulative product, as JSON.
    Rollout {
        #[command(flatten)]
        files: ModelFiles,
        #[command(flatten)]
        texts: Sentences,
        #[command(flatten)]
        word: WordChoice,
    },
    /// Print how similar a word's hidden vector is in two sentences, at every layer, as JSON.
    Drift {
        #[command(flatten)]
        files: ModelFiles,
        /// The two sentences (give --text twice).
        #[arg(long = "text", required = true)]
        texts: Vec<String>,
        /// The word to follow (its word-pieces together, compared by the mean of their vectors).
        #[arg(long)]
        word: String,
        /// Which occurrence of the word, from 1, in each sentence.
        #[arg(long, default_value_t = 1, value_parser = clap::value_parser!(u32).range(1..))]
        nth: u32,
    },
    /// Print the likeliest fillers of each [MASK] in a sentence, as JSON (fill-mask exports only).
    FillMask {
        #[command(flatten)]
        files: ModelFiles,
        /// A sentence with at least one [MASK].
        #[arg(long)]
        text: String,
        /// How many fillers to print per [MASK].
        #[arg(long, default_value_t = 10)]
        k: usize,
    },
    /// Print what each token takes in, beyond raw attention, as JSON: attention weighted by the
    /// norm of what is moved (per head and per layer), ALTI and ALTI through the layers.
    Mixing {
        #[command(flatten)]
        files: ModelFiles,
        // Each input is measured on its own tokens.
        #[command(flatten)]
        texts: Sentences,
    },
    /// Print each head's shares of attention to [CLS], [SEP], the previous, next and same token and
    /// punctuation, its entropy and its role, as JSON.
    Heads {
        #[command(flatten)]
        files: ModelFiles,
        /// A sentence (give several to average over them).
        #[arg(long = "text")]
        texts: Vec<String>,
        /// A text file with one sentence per line, averaged with the --text sentences.
        #[arg(long)]
        corpus: Option<PathBuf>,
    },
    /// Print the model's layers, heads, sizes and quantization as JSON.
    Info {
        #[command(flatten)]
        files: ModelFiles,
    },
    /// Store an fp32 export's weights as int8 (weight-only, per channel: about 4x smaller, faithful);
    /// prints sizes, tensors, time and the largest attention change on the seed sentences.
    Quantize {
        /// The fp32 ONNX export.
        input: PathBuf,
        /// Where to write the quantized model (written whole, or not at all).
        #[arg(short, long)]
        output: PathBuf,
        /// The tokenizer.json, to compare attention (default: the one beside the input).
        #[arg(long)]
        tokenizer: Option<PathBuf>,
    },
    /// Fold an int8 export's constant DequantizeLinear weights back to f32 initializers.
    Dequantize {
        /// The ONNX export with quantized weights.
        input: PathBuf,
        /// Where to write the f32 model (written whole, or not at all).
        #[arg(short, long)]
        output: PathBuf,
    },
    /// Time load and runs at several lengths (a benchmark: prints numbers, never fails on them).
    Bench {
        #[command(flatten)]
        files: ModelFiles,
        /// Token counts to time.
        #[arg(long, value_delimiter = ',', default_value = "7,32,128,512")]
        lengths: Vec<usize>,
        /// Timed runs per length.
        #[arg(long, default_value_t = 20)]
        runs: usize,
    },
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    match contain::contain(|| run(cli)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(message) => {
            output::say(format_args!("bertscope: {message}"));
            ExitCode::FAILURE
        }
    }
}

fn run(cli: Cli) -> Result<(), String> {
    match cli.command {
        Command::Attention { files, texts, fill_mask, word } => {
            let texts = texts.lines()?;
            let engine = load(
                &files.model,
                files.tokenizer.as_deref(),
                LoadOptions { logits: fill_mask.is_some(), batch_size: texts.len(), ..Default::default() },
            )?;
            limits::check_batch(&engine, &texts)?;
            let batch_run = engine.run(&texts).map_err(|e| e.to_string())?;
            let masks = fill_mask
                .map(|k| (0..texts.len()).map(|i| analysis::fill_mask(&batch_run, engine.tokenizer(), i, k)).collect());
            let rows = match &word.word {
                Some(w) => Some(analyze::attention_word_rows(&batch_run, &texts, w, word.nth as usize)?),
                None => None,
            };
            json::write_batch_run(&mut std::io::stdout().lock(), &batch_run, masks, rows.as_ref())
                .map_err(output::write_error)
        }
        Command::Rollout { files, texts, word } => analyze::rollout(
            &files.model,
            files.tokenizer.as_deref(),
            &texts.lines()?,
            word.word.as_deref(),
            word.nth as usize,
        ),
        Command::Drift { files, texts, word, nth } => {
            analyze::drift(&files.model, files.tokenizer.as_deref(), &texts, &word, nth as usize)
        }
        Command::FillMask { files, text, k } => analyze::fill_mask(&files.model, files.tokenizer.as_deref(), &text, k),
        Command::Mixing { files, texts } => mixing::mixing(&files.model, files.tokenizer.as_deref(), &texts.lines()?),
        Command::Heads { files, texts, corpus } => {
            mixing::heads(&files.model, files.tokenizer.as_deref(), &texts, corpus.as_deref())
        }
        Command::Info { files } => {
            let engine = load(&files.model, files.tokenizer.as_deref(), LoadOptions::default())?;
            output::print(serde_json::to_string_pretty(engine.info()).map_err(|e| e.to_string())?)
        }
        Command::Quantize { input, output, tokenizer } => quantize::quantize(&input, &output, tokenizer.as_deref()),
        Command::Dequantize { input, output } => quantize::dequantize(&input, &output),
        Command::Bench { files, lengths, runs } => {
            bench::run(&files.model, &tokenizer_path(&files.model, files.tokenizer.as_deref()), &lengths, runs)
        }
    }
}

pub(crate) fn tokenizer_path(model: &Path, tokenizer: Option<&Path>) -> PathBuf {
    tokenizer.map(Path::to_path_buf).unwrap_or_else(|| model.with_file_name("tokenizer.json"))
}

/// Reads both files and builds the engine, with file names in every message.
pub(crate) fn load(model: &Path, tokenizer: Option<&Path>, options: LoadOptions) -> Result<Engine, String> {
    let tokenizer = tokenizer_path(model, tokenizer);
    let model_bytes = read_model(model)?;
    let tokenizer_bytes = read_tokenizer(&tokenizer)?;
    Engine::from_owned(model_bytes, &tokenizer_bytes, options).map_err(|e| format!("{}: {e}", model.display()))
}

/// Reads a model file, refusing what cannot be one (see [`files::read_file`]).
pub(crate) fn read_model(path: &Path) -> Result<Vec<u8>, String> {
    files::read_file(path, "model", files::MAX_MODEL_BYTES)
}

/// Reads a tokenizer.json, refusing what cannot be one (see [`files::read_file`]).
pub(crate) fn read_tokenizer(path: &Path) -> Result<Vec<u8>, String> {
    files::read_file(path, "tokenizer", files::MAX_TOKENIZER_BYTES)
}
