"""Independent references for bertscope's quantizer, from the ONNX tools themselves (run in the
venv that scripts/lib/common.sh ensure_python_refs makes: onnxruntime 1.32.0, onnx 1.23.2,
numpy 2.4.6). Used by crates/bertscope-core/tests/onnxruntime.rs.

  onnx_reference.py attentions MODEL INPUTS_JSON OUT_JSON
      Checks MODEL with onnx.checker (full_check), runs it as written in an onnxruntime session
      with default options (the file must load and give finite outputs), then, like the shared
      references (../shared/models/make_models.py), on an in-memory copy whose graph outputs are
      extended with every Softmax output (graph order = layer order): CPU provider,
      ORT_DISABLE_ALL, 1 thread. INPUTS_JSON is a list of input-id lists; each runs alone
      (batch 1, attention mask all ones, token_type_ids all zeros where the model takes them).
      Writes {"onnxruntime", "onnx", "opset", "softmax_outputs", "attentions": [[L][H][n][n]]}.

  onnx_reference.py make-weights-int8 MODELS_DIR SRC DST
      Quantizes SRC with weight_only_int8 of MODELS_DIR/make_weights_int8.py, the script that made
      the shared weight-only int8 files (its own code, imported, not a copy), and writes DST.
"""

import importlib.util
import json
import sys
import types


def attentions(model_path, inputs_json, out_json):
    import numpy as np
    import onnx
    import onnxruntime as ort

    model = onnx.load(model_path)
    onnx.checker.check_model(model, full_check=True)
    with open(inputs_json) as f:
        inputs = json.load(f)

    def feeds(session, ids):
        ids = np.array([ids], dtype=np.int64)
        every = {"input_ids": ids, "attention_mask": np.ones_like(ids), "token_type_ids": np.zeros_like(ids)}
        return {i.name: every[i.name] for i in session.get_inputs()}

    plain = ort.InferenceSession(model_path, providers=["CPUExecutionProvider"])
    for out in plain.run(None, feeds(plain, inputs[0])):
        assert np.isfinite(out).all(), "the file as written gives non-finite outputs"

    softmax = [n.output[0] for n in model.graph.node if n.op_type == "Softmax"]
    for name in softmax:
        model.graph.output.append(onnx.helper.make_tensor_value_info(name, onnx.TensorProto.FLOAT, None))
    options = ort.SessionOptions()
    options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_DISABLE_ALL
    options.intra_op_num_threads = 1
    session = ort.InferenceSession(model.SerializeToString(), options, providers=["CPUExecutionProvider"])
    result = []
    for ids in inputs:
        outs = session.run(softmax, feeds(session, ids))
        result.append(np.stack([o[0] for o in outs]).tolist())  # [L, H, n, n]
    opset = max(o.version for o in model.opset_import if o.domain in ("", "ai.onnx"))
    with open(out_json, "w") as f:
        json.dump({"onnxruntime": ort.__version__, "onnx": onnx.__version__, "opset": opset,
                   "softmax_outputs": softmax, "attentions": result}, f)


def make_weights_int8(models_dir, src, dst):
    from pathlib import Path

    # The script imports make_models (torch, transformers) for its reference runs only;
    # weight_only_int8 needs onnx and numpy alone.
    sys.modules.setdefault("make_models", types.ModuleType("make_models"))
    spec = importlib.util.spec_from_file_location("make_weights_int8", Path(models_dir) / "make_weights_int8.py")
    script = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(script)
    print(json.dumps({"quantized_tensors": script.weight_only_int8(Path(src), Path(dst))}))


if __name__ == "__main__":
    command, *args = sys.argv[1:]
    if command == "attentions":
        attentions(*args)
    elif command == "make-weights-int8":
        make_weights_int8(*args)
    else:
        sys.exit(f"unknown command {command}")
