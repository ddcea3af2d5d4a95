// engine-threads.js's worker: the threaded build on `threads` threads (itself and a pool of
// pool-thread.js workers sharing its memory), then one run as the page does it (tokenize, run with every layer's
// attention, copy the attention out).
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

function runOnce(text) {
  const result = engine.run([text]);
  try {
    return result.attention(0);
  } finally {
    result.free();
  }
}

const methods = {
  async load({ model, tokenizer, threads }) {
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
    return { compile_ms: compileMs, load_ms: performance.now() - t, memory_bytes: memory.buffer.byteLength, threads: poolThreads() };
  },

  tokenize: (text) => Array.from(engine.tokenize([text]).sentences[0].input_ids),

  time: (text, runs, warmup, warmupMs) => timeCalls(runOnce, text, runs, warmup, warmupMs),

  memory: () => memory?.buffer.byteLength ?? 0,
};

self.addEventListener('message', async ({ data: { id, method, args } }) => {
  try {
    self.postMessage({ id, result: await methods[method](...args) });
  } catch (e) {
    self.postMessage({ id, error: e instanceof Error ? e.message : String(e) });
  }
});
