// The threaded comparison (report key chromium_threads): on a cross-origin isolated page,
// bertscope's threaded build (www/pkg-threads; engine-threads.html, the engine in a worker) against
// onnxruntime-web with ort.env.wasm.numThreads at the same count, alternating in one Chromium
// session. main.mjs runs it inside scripts/bench; run alone, it also times both on one thread
// (bertscope: the same build and worker without a pool) for the speed-up, and prints a table:
//
//   node tests/bench/threads.mjs [THREADS=2] [LENGTHS=7,32,128,512] [RUNS=20]
//
// With PKG_A=DIR PKG_B=DIR (copies of www/pkg-threads), an A/B of two threaded builds instead:
// each build served from its own origin, both and onnxruntime-web on THREADS threads, alternating
// in one session; prints B / A and each build's ratio to onnxruntime-web.
//
// Each run is timed in the engine's worker, the attention handed over as the page's worker does it
// (engine-threads-worker.js): lent in place by a build that can (`holdAttention`), else copied into
// a buffer reused from run to run. HANDOFF_A / HANDOFF_B (page, copy, fresh) choose otherwise, e.g.
// the same build twice with HANDOFF_A=copy to time the hand-off alone.
//
// Needs www/pkg (engine.html), www/pkg-threads (build_wasm_threads) and the bertscope release
// binary (for the token ids; BERTSCOPE, else $CARGO_TARGET_DIR/release/bertscope). Models:
// BERTSCOPE_MODELS, else ../shared/models.
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { serve } from '../../scripts/serve.mjs';
import { launchChromium, modelsDir, repoRoot as root } from '../lib/environment.mjs';
import { browserBench } from './browser.mjs';
import { summarize } from './common.js';
import { benchmarkInputs } from './native.mjs';

/**
 * Latency of bertscope's threaded build and onnxruntime-web on `threads` threads each (and, with
 * `oneThread`, of both on one thread too) in `browser`, on a cross-origin isolated server of www
 * with `mounts`; `browserBench`'s result.
 */
export async function threadedBench(browser, { mounts, model, tokenizer, peer, threads, ids, lengths, runs, rounds, log, oneThread = false }) {
  const server = await serve(path.join(root, 'www'), { mounts, isolated: true });
  try {
    const configs = [
      { name: 'bertscope', kind: 'bertscope', page: `engine-threads.html?threads=${threads}`, model: `/models/${model}`, tokenizer: `/models/${tokenizer}` },
      { name: 'ort_web_int8', kind: 'ort', page: `ort.html?threads=${threads}`, model: `/models/${peer}` },
    ];
    if (oneThread) {
      configs.push(
        // The same build in the same kind of worker, without a pool.
        { name: 'bertscope_1_thread', kind: 'bertscope', page: 'engine-threads.html?threads=1', model: `/models/${model}`, tokenizer: `/models/${tokenizer}` },
        { name: 'ort_web_int8_1_thread', kind: 'ort', model: `/models/${peer}` },
      );
    }
    return await browserBench(browser, { baseUrl: server.url, configs, ids, lengths, runs, rounds, log });
  } finally {
    await server.close();
  }
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const [threadsArg = '2', lengthList = '7,32,128,512', runsArg = '20'] = process.argv.slice(2);
  const threads = Number(threadsArg);
  const lengths = lengthList.split(',').map(Number);
  const [model, tokenizer, peer] = ['minilm-l6/model_weights_int8.onnx', 'minilm-l6/tokenizer.json', 'minilm-l6/model_quantized.onnx'];
  const target = process.env.CARGO_TARGET_DIR || path.join(root, 'target');
  const bertscope = process.env.BERTSCOPE || path.join(target, 'release', 'bertscope');
  const log = (message) => process.stderr.write(`    ${message}\n`);
  const ids = await benchmarkInputs({
    bertscope, model: path.join(modelsDir, model), tokenizer: path.join(modelsDir, tokenizer), lengths,
    outFile: path.join(os.tmpdir(), 'bertscope-threads-inputs.json'),
  });
  const mounts = { '/models': modelsDir, '/bench': path.join(root, 'tests/bench'), '/node_modules': path.join(root, 'node_modules') };
  const load = os.loadavg()[0];
  const browser = await launchChromium();
  const { PKG_A: pkgA, PKG_B: pkgB } = process.env;
  const f = (v) => (v == null ? 'n/a' : v.toFixed(1));
  const loads = () => `${os.cpus().length} cores, load average ${load.toFixed(1)} at the start, ${os.loadavg()[0].toFixed(1)} at the end; median ms`;
  if (pkgA && pkgB) {
    const servers = await Promise.all([pkgA, pkgB].map((pkg) => serve(path.join(root, 'www'), { mounts: { ...mounts, '/pkg-threads': pkg }, isolated: true })));
    let result;
    try {
      const engine = (name, server, handoff = 'page') => ({ name, kind: 'bertscope', baseUrl: server.url, page: `engine-threads.html?threads=${threads}&handoff=${handoff}`, model: `/models/${model}`, tokenizer: `/models/${tokenizer}` });
      const configs = [engine('a', servers[0], process.env.HANDOFF_A), engine('b', servers[1], process.env.HANDOFF_B), { name: 'ort', kind: 'ort', page: `ort.html?threads=${threads}`, model: `/models/${peer}` }];
      result = await browserBench(browser, { baseUrl: servers[0].url, configs, ids, lengths, runs: Number(runsArg), rounds: 4, log });
    } finally {
      await browser.close();
      for (const server of servers) await server.close();
    }
    const median = (name, n) => summarize(result.times[name]?.[n]).median_ms;
    console.log(loads());
    console.log(`tokens | A ${threads}t | B ${threads}t | ort-web ${threads}t | B / A | A / ort | B / ort`);
    for (const n of lengths) {
      const [a, b, o] = ['a', 'b', 'ort'].map((name) => median(name, n));
      console.log([n, f(a), f(b), f(o), (b / a).toFixed(2), (a / o).toFixed(2), (b / o).toFixed(2)].join(' | '));
    }
    const mb = (name) => (result.memory[name]?.after_512_bytes / 2 ** 20).toFixed(0);
    console.log(`wasm memory after the runs: A ${mb('a')} MB, B ${mb('b')} MB`);
    process.exit(0);
  }
  let result;
  try {
    result = await threadedBench(browser, { mounts, model, tokenizer, peer, threads, ids, lengths, runs: Number(runsArg), rounds: 4, log, oneThread: true });
  } finally {
    await browser.close();
  }
  const median = (name, n) => summarize(result.times[name]?.[n]).median_ms;
  console.log(loads());
  console.log(`tokens | bertscope ${threads}t | ort-web ${threads}t | ratio | bertscope 1t | ort-web 1t | ratio | bertscope speed-up | ort-web speed-up`);
  for (const n of lengths) {
    const [b, o, b1, o1] = ['bertscope', 'ort_web_int8', 'bertscope_1_thread', 'ort_web_int8_1_thread'].map((name) => median(name, n));
    console.log([n, f(b), f(o), (b / o).toFixed(2), f(b1), f(o1), (b1 / o1).toFixed(2), (b1 / b).toFixed(2), (o1 / o).toFixed(2)].join(' | '));
  }
  console.log(JSON.stringify({ chromium_threads: { threads, ...Object.fromEntries(lengths.map((n) => [n, { bertscope_ms: median('bertscope', n), ort_web_ms: median('ort_web_int8', n), ratio: median('bertscope', n) / median('ort_web_int8', n) }])) } }));
}
