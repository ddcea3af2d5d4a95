// The threaded bertscope engine (www/pkg-threads) on `?threads=N` threads, driven by
// tests/bench/browser.mjs through `window.bench` like engine.js. It runs in a worker
// (engine-threads-worker.js), as on the page: a wasm thread may not block on the page's main
// thread. The page must be cross-origin isolated. Times are taken inside the worker, the
// attention handed over as `?handoff=` says (page, the default; copy; fresh: engine-threads-worker.js).
const params = new URLSearchParams(location.search);
const threads = Number(params.get('threads') ?? '2');
const handoff = params.get('handoff') ?? 'page';
const worker = new Worker('./engine-threads-worker.js', { type: 'module' });
const waiting = new Map();
let next = 0;

worker.addEventListener('message', ({ data }) => {
  const waiter = waiting.get(data.id);
  waiting.delete(data.id);
  if (data.error !== undefined) waiter?.reject(new Error(data.error));
  else waiter?.resolve(data.result);
});
worker.addEventListener('error', (event) => console.error(`engine worker: ${event.message}`));

const call = (method, ...args) =>
  new Promise((resolve, reject) => {
    const id = next++;
    waiting.set(id, { resolve, reject });
    worker.postMessage({ id, method, args });
  });

window.bench = {
  threads,
  load: (config) => call('load', { ...config, threads, handoff }),
  tokenize: (text) => call('tokenize', text),
  time: (text, runs, warmup = 1, warmupMs = 0) => call('time', text, runs, warmup, warmupMs),
  memory: () => call('memory'),
  handoff: (text, runs) => call('handoff', text, runs),
};
