"""Python onnxruntime helpers for scripts/bench (run inside its venv).

  ort_native.py time MODEL INPUTS_JSON RUNS
      CPU provider, 1 thread, default graph optimisation (ORT_ENABLE_ALL), plain last_hidden_state.
      INPUTS_JSON is {"7": [ids...], ...}. Prints {"version", "load_ms", "lengths": {"7": {"times_ms": [...]}}}.
  ort_native.py softmax-copy MODEL OUT
      Writes a copy of MODEL whose Softmax outputs (graph order = layer order) are graph outputs too,
      after last_hidden_state. Prints {"softmax": [names]}.
"""

import json
import sys
import time


def time_model(model, inputs_json, runs):
    import numpy as np
    import onnxruntime as ort

    options = ort.SessionOptions()
    options.intra_op_num_threads = 1
    options.inter_op_num_threads = 1
    options.execution_mode = ort.ExecutionMode.ORT_SEQUENTIAL
    started = time.perf_counter()
    session = ort.InferenceSession(model, options, providers=["CPUExecutionProvider"])
    load_ms = (time.perf_counter() - started) * 1e3
    names = [i.name for i in session.get_inputs()]
    with open(inputs_json) as f:
        inputs = json.load(f)
    lengths = {}
    for n, ids in inputs.items():
        ids = np.array([ids], dtype=np.int64)
        every = {"input_ids": ids, "attention_mask": np.ones_like(ids), "token_type_ids": np.zeros_like(ids)}
        feeds = {name: every[name] for name in names}
        session.run(["last_hidden_state"], feeds)
        times = []
        for _ in range(runs):
            t = time.perf_counter()
            session.run(["last_hidden_state"], feeds)
            times.append((time.perf_counter() - t) * 1e3)
        lengths[n] = {"times_ms": times}
    print(json.dumps({"version": ort.__version__, "load_ms": load_ms, "lengths": lengths}))


def softmax_copy(model, out):
    import onnx

    graph_model = onnx.load(model)
    names = [node.output[0] for node in graph_model.graph.node if node.op_type == "Softmax"]
    for name in names:
        graph_model.graph.output.append(onnx.helper.make_empty_tensor_value_info(name))
    onnx.save(graph_model, out)
    print(json.dumps({"softmax": names}))


if __name__ == "__main__":
    command, *args = sys.argv[1:]
    if command == "time":
        time_model(args[0], args[1], int(args[2]))
    elif command == "softmax-copy":
        softmax_copy(*args)
    else:
        sys.exit(f"unknown command {command}")
