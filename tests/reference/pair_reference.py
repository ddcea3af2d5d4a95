"""An independent reference for sentence pairs (issue 16, item 3), run in the venv that
scripts/lib/common.sh ensure_python_refs makes (tokenizers 0.22.2, onnxruntime 1.32.0, onnx 1.23.2,
numpy 2.4.6). Read by crates/bertscope-core/tests/pairs.rs, crates/bertscope-cli/tests/pairs.rs,
(over HTTP) crates/bertscope-wasm/tests/browser.rs and tests/e2e/pairs.test.mjs.

  pair_reference.py generate MODELS_DIR OUT_DIR
      Writes OUT_DIR/pairs.json.

Independent of bertscope on purpose: the ids, token_type_ids and tokens come from the Python
`tokenizers` library's own pair encoding, `Tokenizer.encode(a, b)` on the model folder's
tokenizer.json (padding off, truncation to 512 tokens longest first, special tokens added: the
tokenizer's pair template), and the attentions from onnxruntime on the ONNX file, its Softmax
outputs made graph outputs (CPU, ORT_DISABLE_ALL, 1 thread), fed token_type_ids where the model
takes them (MiniLM) and not where it has no such input (DistilBERT).

Per model: each short pair run alone (ids, type ids, tokens, attentions [L][H][n][n]); a padded
batch of two pairs around a single sentence (the padded ids, type ids, mask, and each entry's
attentions over the padded length); and pairs longer than 512 tokens, tokenized only (which side
loses tokens under longest-first truncation).
"""

import json
import sys
import time
from pathlib import Path

# (name, ONNX file, tokenizer), relative to MODELS_DIR.
MODELS = [
    ("minilm-l6.weights_int8", "minilm-l6/model_weights_int8.onnx", "minilm-l6/tokenizer.json"),
    ("distilbert-tiny-random.fp32", "distilbert-tiny-random/model.onnx", "distilbert-tiny-random/tokenizer.json"),
]

MAX_TOKENS = 512

PAIRS = [
    ["The cat sat on the mat.", "It was tired."],
    ["Where is the bank?", "The bank near the river bank flooded."],
    ["Tokenization splits words.", "Strawberries are red | and sweet."],
]

# Entries of the padded batch: a pair is [A, B], a single sentence [text].
BATCH = [PAIRS[1], ["I am eating an apple"], PAIRS[0]]

FOX = "The quick brown fox jumps over the lazy dog. "
# Longer than 512 tokens together: only A is cut (B is short), and both are cut (both long).
LONG_PAIRS = [
    [FOX * 60, "Is the dog lazy?"],
    [FOX * 40, FOX * 30],
]


def tokenizer(path):
    from tokenizers import Tokenizer

    tok = Tokenizer.from_file(path)
    tok.no_padding()
    tok.enable_truncation(MAX_TOKENS, strategy="longest_first")
    return tok


def encoded(tok, entry):
    enc = tok.encode(*entry)
    return {
        "input": entry,
        "input_ids": enc.ids,
        "token_type_ids": enc.type_ids,
        "tokens": enc.tokens,
        "truncated": len(enc.overflowing) > 0,
        # Where sentence B starts (None for a single sentence).
        "sentence_b_start": next((i for i, s in enumerate(enc.sequence_ids) if s == 1), None),
    }


def session(model_path):
    import onnx
    import onnxruntime as ort

    model = onnx.load(model_path)
    softmax = [n.output[0] for n in model.graph.node if n.op_type == "Softmax"]
    for name in softmax:
        model.graph.output.append(onnx.helper.make_tensor_value_info(name, onnx.TensorProto.FLOAT, None))
    options = ort.SessionOptions()
    options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_DISABLE_ALL
    options.intra_op_num_threads = 1
    options.inter_op_num_threads = 1
    return ort.InferenceSession(model.SerializeToString(), options, providers=["CPUExecutionProvider"]), softmax


def run(sess, softmax, ids, type_ids, mask):
    """Attentions [batch][L][H][n][n] of padded rows."""
    import numpy as np

    every = {
        "input_ids": np.array(ids, dtype=np.int64),
        "attention_mask": np.array(mask, dtype=np.int64),
        "token_type_ids": np.array(type_ids, dtype=np.int64),
    }
    feeds = {i.name: every[i.name] for i in sess.get_inputs()}
    outs = sess.run(softmax, feeds)
    return np.stack(outs, axis=1)  # [batch, L, H, n, n]


def rounded(array):
    """[batch][L][H][n][n] as lists, 6 decimals."""
    return [[[[[round(float(v), 6) for v in row] for row in head] for head in layer] for layer in entry]
            for entry in array]


def reference(models_dir, model, tok_path):
    import numpy as np

    tok = tokenizer(str(Path(models_dir) / tok_path))
    sess, softmax = session(str(Path(models_dir) / model))
    takes_type_ids = any(i.name == "token_type_ids" for i in sess.get_inputs())
    pairs = []
    for entry in PAIRS:
        e = encoded(tok, entry)
        att = run(sess, softmax, [e["input_ids"]], [e["token_type_ids"]], [[1] * len(e["input_ids"])])
        sums = att.sum(axis=-1)
        assert np.allclose(sums, 1, atol=1e-5), "attention rows sum to 1"
        e["attentions"] = rounded(att)[0]
        pairs.append(e)
    entries = [encoded(tok, entry) for entry in BATCH]
    n = max(len(e["input_ids"]) for e in entries)
    pad = tok.token_to_id("[PAD]")
    ids = [e["input_ids"] + [pad] * (n - len(e["input_ids"])) for e in entries]
    type_ids = [e["token_type_ids"] + [0] * (n - len(e["token_type_ids"])) for e in entries]
    mask = [[1] * len(e["input_ids"]) + [0] * (n - len(e["input_ids"])) for e in entries]
    batch = {
        "inputs": BATCH,
        "input_ids": ids,
        "token_type_ids": type_ids,
        "attention_mask": mask,
        "attentions": rounded(run(sess, softmax, ids, type_ids, mask)),
    }
    long = [encoded(tok, entry) for entry in LONG_PAIRS]
    tok.no_truncation()
    for e, entry in zip(long, LONG_PAIRS):
        e["lengths_untruncated"] = [len(tok.encode(side, add_special_tokens=False).ids) for side in entry]
    return {"takes_token_type_ids": takes_type_ids, "pairs": pairs, "batch": batch, "long_pairs": long}


def generate(models_dir, out_dir):
    import onnxruntime
    import tokenizers

    start = time.perf_counter()
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    result = {"tokenizers": tokenizers.__version__, "onnxruntime": onnxruntime.__version__, "max_tokens": MAX_TOKENS,
              "models": []}
    for name, model, tok in MODELS:
        result["models"].append({"name": name, "model": model, "tokenizer": tok, **reference(models_dir, model, tok)})
    (out / "pairs.json").write_text(json.dumps(result, separators=(",", ":")))
    print(f"pairs.json: {len(MODELS)} models, {time.perf_counter() - start:.1f} s", file=sys.stderr)


if __name__ == "__main__":
    command, *args = sys.argv[1:]
    if command == "generate":
        generate(*args)
    else:
        sys.exit(f"unknown command {command}")
