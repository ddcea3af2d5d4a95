// engine-threads.js's worker: the threaded build on `threads` threads (itself and a pool of
// pool-thread.js workers sharing its memory), then one run as the page does it: tokenize, run with
// every layer's attention, and hand the attention over the way `handoff` says (see `takeAttention`).
import init, { Engine, poolThreads, startThreadPool } from '/pkg-threads/bertscope_wasm.js';
import { timeCalls } from './common.js';

let engine = null;
let memory = null;
/** Pool workers, kept referenced while the engine lives. */
const pool = [];

const bytesOf = async (url) => {
  const response = await fetch(url);
  if (!response.ok) throw new Error(`${url}: ${response.status}`);
  return new Uint8Array(await response.arrayBuffer());
};

/** Starts one pool thread on the engine's module and memory; resolves once it runs. */
function startPoolThread(module) {
  const worker = new Worker('./pool-thread.js', { type: 'module' });
  pool.push(worker);
  return new Promise((resolve, reject) => {
    worker.addEventListener('message', ({ data }) => (data.ready ? resolve() : reject(new Error(data.error))));
    worker.addEventListener('error', (event) => reject(new Error(`pool thread: ${event.message}`)));
    worker.postMessage({ module, memory });
  });
}

/** The attention lent by the run before (`HeldAttention`), given back once the next run is done, as the page does. */
let lentBefore = null;
/** The buffer the attention is copied into, from run to run (the page's buffer pool, once the page recycles). */
let reused = null;

/**
 * Sentence 0's attention of `result`, handed over as `handoff` says. 'page' (the default): as the
 * page's engine worker does it in steady state (www/src/engine/serve.ts), lent in place where the
 * build can (`holdAttention`: a view of shared memory, kept until the next run is over), else
 * copied into a buffer reused from run to run. 'copy': copied into the reused buffer whatever the
 * build offers. 'fresh': copied into a fresh array (`attention`, what the page's first run does).
 */
function takeAttention(result, handoff) {
  if (handoff === 'fresh') return result.attention(0);
  if (handoff === 'page' && typeof result.holdAttention === 'function') {
    const held = result.holdAttention(0);
    lentBefore?.free();
    lentBefore = held;
    return held.view();
  }
  const size = Array.from(result.attentionShape()).reduce((a, b) => a * b, 1);
  if (reused?.length !== size) reused = new Float32Array(size);
  result.copyAttention(0, reused);
  return reused;
}

function runOnce(text) {
  const result = engine.run([text]);
  try {
    return takeAttention(result, handoff);
  } finally {
    result.free();
  }
}

/** How the attention is handed over (see `takeAttention`). */
let handoff = 'page';

const methods = {
  async load({ model, tokenizer, threads, handoff: how = 'page' }) {
    if (!['page', 'copy', 'fresh'].includes(how)) throw new Error(`unknown hand-off ${how}`);
    handoff = how;
    if (!self.crossOriginIsolated) throw new Error('the benchmark page is not cross-origin isolated');
    const [modelBytes, tokenizerBytes] = await Promise.all([bytesOf(model), bytesOf(tokenizer)]);
    let t = performance.now();
    const module = await WebAssembly.compileStreaming(fetch('/pkg-threads/bertscope_wasm_bg.wasm'));
    memory = (await init({ module_or_path: module })).memory;
    // This worker and a pool of threads - 1 (none for 1 thread: the same build then runs alone): the
    // pool's workers first (each waits for a thread), then the pool, which waits until they run its threads.
    if (threads > 1) {
      await Promise.all(Array.from({ length: threads - 1 }, () => startPoolThread(module)));
      startThreadPool(threads - 1);
    }
    const compileMs = performance.now() - t;
    t = performance.now();
    engine = new Engine(modelBytes, tokenizerBytes, false);
    engine.prepare(1);
    return { compile_ms: compileMs, load_ms: performance.now() - t, memory_bytes: memory.buffer.byteLength, threads: poolThreads(), handoff };
  },

  tokenize: (text) => Array.from(engine.tokenize([text]).sentences[0].input_ids),

  time: (text, runs, warmup, warmupMs) => timeCalls(runOnce, text, runs, warmup, warmupMs),

  memory: () => memory?.buffer.byteLength ?? 0,

  /**
   * Per way of taking the attention ('fresh', 'copy', 'page': see `takeAttention`), `runs` runs of
   * `text` with the ways taking turns: each run's ms (run and hand-over) and the hand-over's alone.
   */
  handoff(text, runs) {
    const ways = ['fresh', 'copy', 'page'];
    const times = Object.fromEntries(ways.map((way) => [way, { run_ms: [], handoff_ms: [] }]));
    for (let i = 0; i < runs + 1; i++) {
      for (let k = 0; k < ways.length; k++) {
        const way = ways[(i + k) % ways.length];
        const start = performance.now();
        const result = engine.run([text]);
        const ran = performance.now();
        takeAttention(result, way);
        const end = performance.now();
        result.free();
        // The first round warms every way up.
        if (i > 0) {
          times[way].run_ms.push(end - start);
          times[way].handoff_ms.push(end - ran);
        }
      }
    }
    return times;
  },
};

self.addEventListener('message', async ({ data: { id, method, args } }) => {
  try {
    self.postMessage({ id, result: await methods[method](...args) });
  } catch (e) {
    self.postMessage({ id, error: e instanceof Error ? e.message : String(e) });
  }
});
