"""An independent reference for bertscope's context-mixing measures and head roles (issue 14),
run in the venv that scripts/lib/common.sh ensure_python_refs makes (onnxruntime 1.32.0,
onnx 1.23.2, numpy 2.4.6). Read by crates/bertscope-core/tests/mixing.rs,
crates/bertscope-cli/tests/mixing.rs and (over HTTP) crates/bertscope-wasm/tests/browser.rs.

  mixing_reference.py generate MODELS_DIR OUT_DIR
      Writes OUT_DIR/<name>.json for each model of MODELS below.

Independent of bertscope on purpose: the tensors are found by the exporters' node names (not by
walking the graph as bertscope does), the values are computed here from the layer input and
W_V, b_V (bertscope reads them from the run), and every measure is computed naively in float64
exactly as the issue defines it, materialising every z_ij. Token ids and tokens come from the
shared reference files (made by the `tokenizers` library, not bertscope's tokenizer).

Per layer, with x the layer input, alpha the Softmax output (both from onnxruntime), values
v = x W_V + b_V split into heads, f_h(x_j) = v^h_j W_O[h, :]:
  norm_head[h][i][j]  = alpha^h_ij |f_h(x_j)|_2
  norm_layer[i][j]    = |sum_h alpha^h_ij f_h(x_j)|_2
  z_ij = sum_h alpha^h_ij f_h(x_j) + delta_ij x_j
  T_i(x_j) = gamma * (z_ij - mean(z_ij)) / s_i, s_i = sqrt(var(pre_i) + eps), pre_i = onnxruntime's
  residual sum entering the LayerNorm; y_i = LayerNorm(pre_i)
  c_ij = max(0, |y_i|_1 - |y_i - T_i(x_j)|_1), alti[i][j] = c_ij / sum_k c_ik
  alti_rollout: R^1 = C^1, R^l = C^l R^(l-1)
Self-checks, each failing the run when broken: sum_j z_ij + b_O against onnxruntime's residual sum
(recorded as reconstruction_error), LayerNorm(pre) against onnxruntime's LayerNorm output, the
values computed here against onnxruntime's, and rows of C and R summing to 1.

Head roles per sentence over its n tokens, per layer and head: cls = mean_i alpha_i0,
sep = mean_i sum_{j [SEP]} alpha_ij, prev = mean_{i>=1} alpha_i,i-1, next = mean_{i<=n-2}
alpha_i,i+1, self = mean_i alpha_ii, punct = mean_i sum_{j punctuation} alpha_ij, entropy =
mean_i -sum_j alpha_ij ln alpha_ij; averaged over sentences; role = the largest share (first in
that order on ties) if >= 0.5, else "broad" if entropy >= 0.9 * mean over sentences of ln n,
else "mixed".
"""

import json
import re
import sys
import unicodedata
from pathlib import Path

# (name, ONNX file, shared reference giving the sentences' ids and tokens), relative to MODELS_DIR.
MODELS = [
    ("minilm-l6.weights_int8", "minilm-l6/model_weights_int8.onnx", "references/minilm-l6.weights_int8.ort.json"),
    ("distilbert-tiny-random.fp32", "distilbert-tiny-random/model.onnx",
     "references/distilbert-tiny-random.fp32.ort.json"),
    ("distilbert-tiny-random-mlm.fp32", "distilbert-tiny-random-mlm/model.onnx",
     "references/distilbert-tiny-random-mlm.fp32.ort.json"),
    ("distilbert-base-random.weights_int8", "distilbert-base-random/model_weights_int8.onnx",
     "references/distilbert-base-random.weights_int8.ort.json"),
]

# Sentences longer than this are left out (materialising z is n^2 * hidden doubles).
MAX_TOKENS = 64
# Copies of "The quick brown fox jumps over the lazy dog. " in the medium-length sentence made from
# the shared 512-token one: 10 word pieces each, so [CLS] + 60 + [SEP] = 62 tokens.
FOX_COPIES = 6

# Self-check bounds (onnxruntime's float32 arithmetic against float64 here), relative to the
# largest magnitude of the tensor compared (at least 1). Measured on the four models: values
# 3.6e-7, residual sums (sum_j z_ij + b_O) 1.2e-7, LayerNorm outputs 1.8e-7.
VALUES_TOL = 1e-5
RECONSTRUCTION_TOL = 1e-5
LAYER_NORM_TOL = 1e-5
ROWS_TOL = 1e-9

ROLE_SHARE = 0.5
BROAD_ENTROPY = 0.9
SHARES = ["cls", "sep", "prev", "next", "self", "punct"]


def layer_names(nodes, layer):
    """The node names of one layer for the BERT and DistilBERT exporters (any name prefix, e.g. /m)."""
    bert = [n for n in nodes if re.fullmatch(rf".*/encoder/layer\.{layer}/attention/self/Softmax", n)]
    distil = [n for n in nodes if re.fullmatch(rf".*/transformer/layer\.{layer}/attention/Softmax", n)]
    if bert:
        attention = bert[0][: -len("/self/Softmax")]
        return {
            "softmax": bert[0],
            "value": attention + "/self/value",
            "output": attention + "/output/dense",
            "layer_norm": attention + "/output/LayerNorm",
        }
    if distil:
        attention = distil[0][: -len("/Softmax")]
        return {
            "softmax": distil[0],
            "value": attention + "/v_lin",
            "output": attention + "/out_lin",
            "layer_norm": attention[: -len("/attention")] + "/sa_layer_norm",
        }
    return None


class Graph:
    """Nodes by name and constants (initializers, Identity/Constant, DequantizeLinear) as float64."""

    def __init__(self, model):
        import onnx.numpy_helper as nh

        self.nodes = {n.name: n for n in model.graph.node}
        self.producer = {o: n for n in model.graph.node for o in n.output}
        self.initializers = {t.name: nh.to_array(t) for t in model.graph.initializer}
        self.nh = nh

    def node(self, name, op_type):
        node = self.nodes.get(name)
        if node is None or node.op_type != op_type:
            sys.exit(f"no {op_type} node named {name}")
        return node

    def constant(self, name):
        import numpy as np

        if name in self.initializers:
            return self.initializers[name]
        node = self.producer.get(name)
        if node is None:
            return None
        if node.op_type == "Identity":
            return self.constant(node.input[0])
        if node.op_type == "Constant":
            value = next(a for a in node.attribute if a.name == "value")
            return self.nh.to_array(value.t)
        if node.op_type == "DequantizeLinear":
            q, scale = self.constant(node.input[0]), self.constant(node.input[1])
            zero = self.constant(node.input[2]) if len(node.input) > 2 and node.input[2] else None
            if q is None or scale is None:
                return None
            axis = next((a.i for a in node.attribute if a.name == "axis"), 1)
            shape = [1] * q.ndim
            if scale.ndim == 1:
                shape[axis] = scale.size
            zero = np.zeros_like(scale) if zero is None else zero
            q = q.astype(np.float64)
            return (q - zero.astype(np.float64).reshape(shape)) * scale.astype(np.float64).reshape(shape)
        return None

    def split(self, node):
        """(constant value, the other input's name) of a two-input node with one constant input."""
        a, b = node.input
        ca, cb = self.constant(a), self.constant(b)
        if (ca is None) == (cb is None):
            sys.exit(f"{node.name}: expected exactly one constant input")
        return (cb, a) if ca is None else (ca, b)


def find_layers(graph):
    """Per layer: tensor names to read from onnxruntime and the constants, all by node name."""
    import numpy as np

    layers = []
    while (names := layer_names(graph.nodes, len(layers))) is not None:
        softmax = graph.node(names["softmax"], "Softmax")
        w_v, x = graph.split(graph.node(names["value"] + "/MatMul", "MatMul"))
        b_v, _ = graph.split(graph.node(names["value"] + "/Add", "Add"))
        value_out = graph.node(names["value"] + "/Add", "Add").output[0]
        w_o, _ = graph.split(graph.node(names["output"] + "/MatMul", "MatMul"))
        b_o, _ = graph.split(graph.node(names["output"] + "/Add", "Add"))
        ln = names["layer_norm"]
        pre = graph.node(ln + "/ReduceMean", "ReduceMean").input[0]
        eps, _ = graph.split(graph.node(ln + "/Add", "Add"))
        gamma, _ = graph.split(graph.node(ln + "/Mul", "Mul"))
        beta_node = graph.node(ln + "/Add_1", "Add")
        beta, _ = graph.split(beta_node)
        f64 = lambda a: np.asarray(a, dtype=np.float64)
        layers.append({
            "names": {"x": x, "attention": softmax.output[0], "values": value_out, "residual": pre,
                      "layer_norm": beta_node.output[0]},
            "w_v": f64(w_v), "b_v": f64(b_v), "w_o": f64(w_o), "b_o": f64(b_o),
            "gamma": f64(gamma), "beta": f64(beta), "eps": float(f64(eps).reshape(-1)[0]),
        })
    if not layers:
        sys.exit("no layer found by the BERT or DistilBERT exporters' node names")
    return layers


def session(model, names):
    """onnxruntime on an in-memory copy whose outputs are `names`: CPU, ORT_DISABLE_ALL, 1 thread."""
    import onnx
    import onnxruntime as ort

    del model.graph.output[:]
    for name in names:
        model.graph.output.append(onnx.helper.make_tensor_value_info(name, onnx.TensorProto.FLOAT, None))
    options = ort.SessionOptions()
    options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_DISABLE_ALL
    options.intra_op_num_threads = 1
    options.inter_op_num_threads = 1
    return ort.InferenceSession(model.SerializeToString(), options, providers=["CPUExecutionProvider"])


def relative_error(ours, theirs):
    import numpy as np

    return float(np.abs(ours - theirs).max() / max(1.0, float(np.abs(theirs).max())))


def layer_measures(layer, x, alpha, values, pre, y_model):
    """One layer of one sentence, naively in float64. x, values, pre, y_model: [n, D]; alpha: [H, n, n]."""
    import numpy as np

    heads, n, _ = alpha.shape
    width = x.shape[1]
    head_dim = width // heads
    v = x @ layer["w_v"] + layer["b_v"]
    values_error = relative_error(v, values)
    v_heads = v.reshape(n, heads, head_dim).transpose(1, 0, 2)  # [H, n, dh]
    w_o_heads = layer["w_o"].reshape(heads, head_dim, width)  # rows of head h
    f = np.einsum("hjd,hde->hje", v_heads, w_o_heads)  # f_h(x_j): [H, n, D]
    norm_head = alpha * np.linalg.norm(f, axis=2)[:, None, :]  # [H, i, j]
    mixed = np.einsum("hij,hje->ije", alpha, f)  # sum_h alpha^h_ij f_h(x_j): [i, j, D]
    norm_layer = np.linalg.norm(mixed, axis=2)
    z = mixed.copy()
    z[np.arange(n), np.arange(n)] += x
    reconstructed = z.sum(axis=1) + layer["b_o"]
    reconstruction_error = float(np.abs(reconstructed - pre).max())
    mean = pre.mean(axis=1, keepdims=True)
    s = np.sqrt(((pre - mean) ** 2).mean(axis=1) + layer["eps"])  # [n]
    y = layer["gamma"] * (pre - mean) / s[:, None] + layer["beta"]
    layer_norm_error = relative_error(y, y_model)
    t = layer["gamma"] * (z - z.mean(axis=2, keepdims=True)) / s[:, None, None]  # T_i(x_j): [i, j, D]
    c = np.maximum(0.0, np.abs(y).sum(axis=1)[:, None] - np.abs(y[:, None, :] - t).sum(axis=2))
    totals = c.sum(axis=1, keepdims=True)
    assert (totals > 0).all(), "a token takes in nothing"
    checks = {"values": values_error, "reconstruction": reconstruction_error / max(1.0, float(np.abs(pre).max())),
              "layer_norm": layer_norm_error}
    return norm_head, norm_layer, c / totals, reconstruction_error, checks


def is_punctuation(token):
    """Every character of the token (a word piece without its ## marker) is Unicode punctuation."""
    text = token[2:] if token.startswith("##") else token
    return bool(text) and all(unicodedata.category(ch).startswith("P") for ch in text)


def head_stats(alpha, tokens):
    """Per-sentence shares and entropy of every head of one layer: {name: [H]} over n query tokens."""
    import numpy as np

    heads, n, _ = alpha.shape
    sep = np.array([t == "[SEP]" for t in tokens])
    punct = np.array([is_punctuation(t) for t in tokens])
    i = np.arange(n)
    with np.errstate(divide="ignore", invalid="ignore"):
        plogp = np.where(alpha > 0, alpha * np.log(alpha), 0.0)
    return {
        "cls": alpha[:, :, 0].mean(axis=1),
        "sep": alpha[:, :, sep].sum(axis=2).mean(axis=1),
        "prev": alpha[:, i[1:], i[1:] - 1].mean(axis=1),
        "next": alpha[:, i[:-1], i[:-1] + 1].mean(axis=1),
        "self": alpha[:, i, i].mean(axis=1),
        "punct": alpha[:, :, punct].sum(axis=2).mean(axis=1),
        "entropy": (-plogp.sum(axis=2)).mean(axis=1),
    }


def with_roles(sums, count, mean_log_n):
    """[L][H] of {shares, entropy, role} from per-head sums over `count` sentences."""
    out = []
    for layer in sums:
        row = []
        for head in range(len(layer["cls"])):
            stats = {k: float(layer[k][head] / count) for k in SHARES + ["entropy"]}
            top = max(SHARES, key=lambda k: (stats[k], -SHARES.index(k)))
            if stats[top] >= ROLE_SHARE:
                stats["role"] = top
            elif stats["entropy"] >= BROAD_ENTROPY * mean_log_n:
                stats["role"] = "broad"
            else:
                stats["role"] = "mixed"
            row.append(stats)
        out.append(row)
    return out


def sentences_of(reference):
    """(text, ids, tokens) of every shared-reference sentence of at most MAX_TOKENS tokens, and a
    medium-length one cut from the 512-token sentence: FOX_COPIES whole copies of its text."""
    chosen = []
    for s in reference["sentences"]:
        ids, tokens = s["input_ids"], s["tokens"]
        if len(ids) <= MAX_TOKENS:
            chosen.append((s["text"], ids, tokens))
        elif s["text"].startswith("The quick brown fox") and len(ids) == 512:
            copy = "The quick brown fox jumps over the lazy dog. "
            assert s["text"] == copy * (len(s["text"]) // len(copy)), "the long sentence is copies of one"
            pieces = FOX_COPIES * 10
            chosen.append((copy * FOX_COPIES, ids[: pieces + 1] + ids[-1:], tokens[: pieces + 1] + tokens[-1:]))
    return chosen


def rounded(array):
    import numpy as np

    return np.round(np.asarray(array, dtype=np.float64), 10).tolist()


def reference(model_path, reference_path):
    import numpy as np
    import onnx
    import onnxruntime as ort

    model = onnx.load(model_path)
    graph = Graph(model)
    layers = find_layers(graph)
    names = [layer["names"][k] for layer in layers for k in ("x", "attention", "values", "residual", "layer_norm")]
    sess = session(model, names)
    wants = {i.name for i in sess.get_inputs()}
    with open(reference_path) as f:
        shared = json.load(f)
    sentences, worst = [], {"values": 0.0, "reconstruction": 0.0, "layer_norm": 0.0}
    sums, log_n, counted = None, 0.0, 0
    for text, ids, tokens in sentences_of(shared):
        array = np.array([ids], dtype=np.int64)
        every = {"input_ids": array, "attention_mask": np.ones_like(array), "token_type_ids": np.zeros_like(array)}
        outputs = sess.run(names, {k: v for k, v in every.items() if k in wants})
        per = {"norm_head": [], "norm_layer": [], "alti": [], "alti_rollout": [], "reconstruction_error": []}
        stats = []
        for index, layer in enumerate(layers):
            x, alpha, values, pre, y = (o[0].astype(np.float64) for o in outputs[5 * index: 5 * index + 5])
            norm_head, norm_layer, alti, error, checks = layer_measures(layer, x, alpha, values, pre, y)
            for key, value in checks.items():
                worst[key] = max(worst[key], value)
            rollout = alti if index == 0 else alti @ per["alti_rollout"][-1]
            assert np.abs(alti.sum(axis=1) - 1).max() < ROWS_TOL and np.abs(rollout.sum(axis=1) - 1).max() < ROWS_TOL
            per["norm_head"].append(norm_head)
            per["norm_layer"].append(norm_layer)
            per["alti"].append(alti)
            per["alti_rollout"].append(rollout)
            per["reconstruction_error"].append(error)
            stats.append(head_stats(alpha, tokens))
        n = len(ids)
        if n >= 2:
            sums = stats if sums is None else [{k: s[k] + t[k] for k in s} for s, t in zip(sums, stats)]
            log_n += np.log(n)
            counted += 1
        entry = {"text": text, "input_ids": ids, "tokens": tokens}
        entry.update({k: rounded(v) for k, v in per.items()})
        entry["head_stats"] = with_roles(stats, 1, np.log(n))
        sentences.append(entry)
    assert worst["values"] < VALUES_TOL, f"values computed here differ from onnxruntime's: {worst}"
    assert worst["reconstruction"] < RECONSTRUCTION_TOL, f"sum_j z_ij + b_O is not the residual sum: {worst}"
    assert worst["layer_norm"] < LAYER_NORM_TOL, f"LayerNorm(pre) differs from onnxruntime's: {worst}"
    return {
        "onnxruntime": ort.__version__, "onnx": onnx.__version__, "numpy": np.__version__,
        "layers": len(layers), "heads": len(sentences[0]["norm_head"][0]), "hidden": int(layers[0]["w_o"].shape[0]),
        "tensors": [layer["names"] for layer in layers],
        "self_checks": worst,
        "sentences": sentences,
        "head_stats": with_roles(sums, counted, log_n / counted),
    }


def generate(models_dir, out_dir):
    import time

    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    for name, model, shared in MODELS:
        start = time.perf_counter()
        result = reference(str(Path(models_dir) / model), str(Path(models_dir) / shared))
        result = {"model": name, "file": model, "shared_reference": shared, **result}
        (out / f"{name}.json").write_text(json.dumps(result, separators=(",", ":")))
        lengths = [len(s["input_ids"]) for s in result["sentences"]]
        print(f"{name}: {len(lengths)} sentences of {lengths} tokens, self-checks {result['self_checks']}, "
              f"{time.perf_counter() - start:.1f} s", file=sys.stderr)


if __name__ == "__main__":
    command, *args = sys.argv[1:]
    if command == "generate":
        generate(*args)
    else:
        sys.exit(f"unknown command {command}")
