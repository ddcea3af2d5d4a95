// The bertscope wasm engine in a page, driven by tests/bench/browser.mjs through `window.bench`.
// Runs on the main thread (the real page uses a worker; the engine work is the same).
import { wasmMemories } from './memory-probe.js';
import { AbsDiff, fullSentences, largestMemory, timeCalls } from './common.js';
import init, { Engine } from '/pkg/bertscope_wasm.js';

const bytesOf = async (url) => {
  const response = await fetch(url);
  if (!response.ok) throw new Error(`${url}: ${response.status}`);
  return new Uint8Array(await response.arrayBuffer());
};

let engine = null;
let wasm = null;
/** What each run computes besides attention: nothing (null), 'norm', or 'alti' (norm and ALTI). */
let measure = null;

/** Memory of the engine's wasm instance (wasm-bindgen's `memory` export), else the largest seen. */
const memoryBytes = () => wasm?.memory?.buffer.byteLength ?? largestMemory(wasmMemories());

/**
 * One run as the page does it: tokenize, run with every layer's attention, copy the attention out;
 * with a `measure`, also the context-mixing measures the page asks for (norm-based attention, and
 * ALTI with ALTI rollout), copied out too.
 */
function runOnce(text) {
  const result = measure ? engine.runWithMixing([text]) : engine.run([text]);
  try {
    const attention = result.attention(0);
    if (!measure) return attention;
    const mixing = engine.mixing(result, 0, measure === 'alti', () => {});
    try {
      const out = [attention, mixing.normHead(), mixing.normLayer()];
      if (measure === 'alti') out.push(mixing.alti(), mixing.altiRollout());
      return out;
    } finally {
      mixing.free();
    }
  } finally {
    result.free();
  }
}

window.bench = {
  async load({ model, tokenizer, measure: measured = null }) {
    measure = measured;
    const [modelBytes, tokenizerBytes] = await Promise.all([bytesOf(model), bytesOf(tokenizer)]);
    let t = performance.now();
    wasm = await init({ module_or_path: '/pkg/bertscope_wasm_bg.wasm' });
    const compileMs = performance.now() - t;
    t = performance.now();
    engine = new Engine(modelBytes, tokenizerBytes, false);
    engine.prepare(1);
    return { compile_ms: compileMs, load_ms: performance.now() - t, memory_bytes: memoryBytes() };
  },

  tokenize(text) {
    return Array.from(engine.tokenize([text]).sentences[0].input_ids);
  },

  /** `runs` timed runs after at least `warmup` untimed ones lasting at least `warmupMs` in all. */
  time: (text, runs, warmup = 1, warmupMs = 0) => timeCalls(runOnce, text, runs, warmup, warmupMs),

  memory: () => memoryBytes(),

  /**
   * The attention hand-off, A/B in one page: `runs` times, alternating, a run of `text` whose
   * attention is copied out into a fresh `Float32Array` (`attention`) or into one reused buffer
   * (`copyAttention`, what the page's worker does with the buffers the page gives back). Returns
   * the times of the whole run and of the copy alone, per way.
   */
  handoff(text, runs) {
    let pooled = null;
    const ways = {
      fresh: (result) => result.attention(0),
      pooled: (result) => {
        const size = result.attentionShape().reduce((a, b) => a * b, 1);
        if (pooled?.length !== size) pooled = new Float32Array(size);
        result.copyAttention(0, pooled);
        return pooled;
      },
    };
    const times = { fresh: { run_ms: [], copy_ms: [] }, pooled: { run_ms: [], copy_ms: [] } };
    for (let i = 0; i < runs + 1; i++) {
      for (const way of i % 2 ? ['fresh', 'pooled'] : ['pooled', 'fresh']) {
        const start = performance.now();
        const result = engine.run([text]);
        const copied = performance.now();
        ways[way](result);
        const end = performance.now();
        result.free();
        // The first round warms both ways up.
        if (i > 0) {
          times[way].run_ms.push(end - start);
          times[way].copy_ms.push(end - copied);
        }
      }
    }
    return times;
  },

  /**
   * Runs `texts` in turn `runs` times and samples memory every `every` runs: wasm linear memory
   * and, where Chromium exposes it, the JS heap. For the leak check and its curve.
   */
  soak(texts, runs, every) {
    const heap = () => performance.memory?.usedJSHeapSize ?? null;
    const samples = [];
    for (let i = 0; i < runs; i++) {
      runOnce(texts[i % texts.length]);
      if ((i + 1) % every === 0) samples.push({ runs: i + 1, wasm_bytes: memoryBytes(), js_heap_bytes: heap() });
    }
    return samples;
  },

  /** Max / mean |attention - reference| over the reference's short sentences, ids checked. */
  async fidelity(referenceUrl) {
    const reference = await (await fetch(referenceUrl)).json();
    const all = new AbsDiff();
    const sentences = [];
    for (const s of fullSentences(reference)) {
      const result = engine.run([s.text]);
      try {
        const ids = Array.from(result.batch().sentences[0].input_ids);
        if (ids.join() !== s.input_ids.join()) throw new Error(`"${s.text}" tokenized to ${ids}, the reference has ${s.input_ids}`);
        const attention = result.attention(0);
        all.add(attention, s.attentions);
        sentences.push({ text: s.text, n_tokens: s.n_tokens, ...new AbsDiff().add(attention, s.attentions).result() });
      } finally {
        result.free();
      }
    }
    return { ...all.result(), sentences };
  },
};
