// onnxruntime-web (wasm backend, SIMD, 1 thread, or `?threads=N` on a cross-origin isolated page)
// in a page, driven by tests/bench/browser.mjs through `window.bench`. Times the plain model (last_hidden_state only); fidelity runs a copy of
// the file whose attention Softmax outputs were made graph outputs (tests/bench/ort_native.py).
import { wasmMemories } from './memory-probe.js';
import { AbsDiff, fullSentences, largestMemory } from './common.js';
import * as ort from '/node_modules/onnxruntime-web/dist/ort.wasm.min.mjs';

// 1 thread unless asked: a blog page cannot get cross-origin isolation for threads.
ort.env.wasm.numThreads = Number(new URLSearchParams(location.search).get('threads') ?? '1');
ort.env.wasm.proxy = false;
ort.env.wasm.wasmPaths = '/node_modules/onnxruntime-web/dist/';

const OPTIONS = { executionProviders: ['wasm'], graphOptimizationLevel: 'all' };

let session = null;

/** int64 feeds for one sentence of `ids` (all tokens real, one segment). */
function feeds(forSession, ids) {
  const n = ids.length;
  const tensor = (values) => new ort.Tensor('int64', BigInt64Array.from(values, BigInt), [1, n]);
  const all = { input_ids: tensor(ids), attention_mask: tensor(ids.map(() => 1)), token_type_ids: tensor(ids.map(() => 0)) };
  return Object.fromEntries(forSession.inputNames.map((name) => [name, all[name]]));
}

window.bench = {
  version: ort.env.versions?.web ?? null,

  async load({ model }) {
    const bytes = new Uint8Array(await (await fetch(model)).arrayBuffer());
    const t = performance.now();
    session = await ort.InferenceSession.create(bytes, OPTIONS);
    return { load_ms: performance.now() - t, memory_bytes: largestMemory(wasmMemories()), outputs: session.outputNames };
  },

  /** `runs` timed runs after at least `warmup` untimed ones lasting at least `warmupMs` in all. */
  async time(ids, runs, warmup = 1, warmupMs = 0) {
    const input = feeds(session, ids);
    const until = performance.now() + warmupMs;
    for (let i = 0; i < warmup || performance.now() < until; i++) await session.run(input);
    const times = [];
    for (let i = 0; i < runs; i++) {
      const start = performance.now();
      await session.run(input);
      times.push(performance.now() - start);
    }
    return times;
  },

  memory: () => largestMemory(wasmMemories()),

  /**
   * Max / mean |attention - reference| over the reference's short sentences, from `copyUrl` (the
   * same file with every Softmax output exposed, in layer order). Also how far the copy's
   * last_hidden_state is from the timed session's, to show the copy computes the same thing.
   */
  async fidelity(referenceUrl, copyUrl, softmaxNames) {
    const reference = await (await fetch(referenceUrl)).json();
    const bytes = new Uint8Array(await (await fetch(copyUrl)).arrayBuffer());
    const copy = await ort.InferenceSession.create(bytes, OPTIONS);
    const all = new AbsDiff();
    const hidden = new AbsDiff();
    const sentences = [];
    try {
      for (const s of fullSentences(reference)) {
        const out = await copy.run(feeds(copy, s.input_ids));
        const n = s.input_ids.length;
        const heads = out[softmaxNames[0]].dims[1];
        const flat = new Float32Array(softmaxNames.length * heads * n * n);
        softmaxNames.forEach((name, layer) => flat.set(out[name].data, layer * heads * n * n));
        all.add(flat, s.attentions);
        sentences.push({ text: s.text, n_tokens: n, ...new AbsDiff().add(flat, s.attentions).result() });
        const plain = await session.run(feeds(session, s.input_ids));
        const copyHidden = out.last_hidden_state.data;
        hidden.add(plain.last_hidden_state.data, Array.from(copyHidden));
      }
    } finally {
      await copy.release();
    }
    return { ...all.result(), sentences, copy_vs_plain_hidden_max: hidden.result().max };
  },
};
