// scripts/bench's driver: bertscope against onnxruntime(-web) on the same ids, in one Chromium
// session and natively; writes OUT_DIR/report.json and prints a table. Never fails on a number,
// only on a broken setup (missing files, ids that differ, a page that errors).
//
// Environment (scripts/bench sets it): MODELS, MODEL, TOKENIZER (relative to MODELS), BERTSCOPE
// (release binary), PYTHON (with onnxruntime and onnx), DIST (built page), OUT_DIR; optional
// RUNS (20), ROUNDS (4), COLD_RUNS (3), LENGTHS (7,32,128,512), BASE (1; 0 skips the
// DistilBERT-base-size comparison, which also skips itself when its files are missing), THREADS
// (the cores, at most 4; below 2 skips the threaded comparison, which also skips itself when
// www/pkg-threads has no build).
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { serve } from '../../scripts/serve.mjs';
import { launchChromium, repoRoot as root } from '../lib/environment.mjs';
import { browserBench } from './browser.mjs';
import { coldStart, returningResult, returningVisits } from './coldstart.mjs';
import { benchmarkInputs, nativeLatency } from './native.mjs';
import { buildReport, formatReport } from './report.mjs';
import { sizes } from './sizes.mjs';
import { threadedBench } from './threads.mjs';

const env = (name, fallback) => {
  const value = process.env[name] ?? fallback;
  if (value === undefined) throw new Error(`${name} is not set (run scripts/bench)`);
  return value;
};
const log = (message) => process.stderr.write(`    ${message}\n`);

const models = env('MODELS');
const model = env('MODEL');
const tokenizer = env('TOKENIZER');
const peer = 'minilm-l6/model_quantized.onnx';
const reference = 'references/minilm-l6.torch.json';
const outDir = env('OUT_DIR');
const python = env('PYTHON');
const dist = env('DIST');
const runs = Number(env('RUNS', '20'));
const rounds = Number(env('ROUNDS', '4'));
const coldRuns = Number(env('COLD_RUNS', '3'));
const lengths = env('LENGTHS', '7,32,128,512').split(',').map(Number);

for (const file of [model, tokenizer, peer, reference]) {
  if (!existsSync(path.join(models, file))) throw new Error(`${path.join(models, file)} is missing: this benchmark needs the MiniLM models of ../shared/models`);
}
if (!existsSync(path.join(dist, 'index.html'))) throw new Error(`${dist} has no built page`);

/** DistilBERT-base size (random weights): bertscope's kind of file against the usual dynamic-int8 export. */
const BASE = {
  model: 'distilbert-base-random/model_weights_int8.onnx',
  peer: 'distilbert-base-random/model_quantized.onnx',
  tokenizer: 'distilbert-base-random/tokenizer.json',
  reference: 'references/distilbert-base-random.weights_int8.ort.json',
};
const baseMissing = Object.values(BASE).filter((file) => !existsSync(path.join(models, file)));
const withBase = env('BASE', '1') !== '0' && baseMissing.length === 0;
if (env('BASE', '1') !== '0' && !withBase) log(`DistilBERT-base comparison skipped: ${baseMissing.join(', ')} missing`);
/** The threaded comparison: bertscope's threaded build (www/pkg-threads) and onnxruntime-web on as many threads. */
const threadCount = Number(env('THREADS', String(Math.min(os.cpus().length, 4))));
const withThreads = threadCount > 1 && existsSync(path.join(root, 'www/pkg-threads/bertscope_wasm_bg.wasm'));
if (threadCount > 1 && !withThreads) log('threaded comparison skipped: www/pkg-threads has no build (scripts/lib/common.sh build_wasm_threads)');
const started = performance.now();
const loadAtStart = os.loadavg();
await mkdir(path.join(outDir, 'models'), { recursive: true });

/** Copies of both files with every attention Softmax exposed, for onnxruntime-web's fidelity. */
async function softmaxCopies() {
  const copies = {};
  for (const [name, file] of [['ort_web_int8', peer], ['ort_web_same_file', model]]) {
    const out = path.join(outDir, 'models', path.basename(file).replace(/\.onnx$/, '.softmax.onnx'));
    const { stdout } = await promisify(execFile)(python, [path.join(root, 'tests/bench/ort_native.py'), 'softmax-copy', path.join(models, file), out]);
    copies[name] = { url: `/bench-models/${path.basename(out)}`, softmax: JSON.parse(stdout).softmax };
  }
  return copies;
}

const say = (m) => process.stderr.write(`\x1b[1m==> ${m}\x1b[0m\n`);
say('token ids (bertscope tokenizer) and onnxruntime copies with Softmax outputs');
const inputsFile = path.join(outDir, 'inputs.json');
const ids = await benchmarkInputs({ bertscope: env('BERTSCOPE'), model: path.join(models, model), tokenizer: path.join(models, tokenizer), lengths, outFile: inputsFile });
const copies = await softmaxCopies();
const baseIds = withBase
  ? await benchmarkInputs({ bertscope: env('BERTSCOPE'), model: path.join(models, BASE.model), tokenizer: path.join(models, BASE.tokenizer), lengths, outFile: path.join(outDir, 'inputs-distilbert-base.json') })
  : null;
const bytes = await sizes({
  dist, ortDist: path.join(root, 'node_modules/onnxruntime-web/dist'),
  models: { [path.basename(model)]: path.join(models, model), [path.basename(peer)]: path.join(models, peer) },
});

say('native: bertscope vs Python onnxruntime');
const native = await nativeLatency({
  bertscope: env('BERTSCOPE'), python, model: path.join(models, model), tokenizer: path.join(models, tokenizer),
  peers: { ort_int8: path.join(models, peer), ort_same_file: path.join(models, model) },
  inputsFile, lengths, runs, rounds, log,
});

say('headless Chromium: cold start, then bertscope vs onnxruntime-web');
const browser = await launchChromium();
const chromium = `headless Chromium ${browser.version()}`;
let cold;
let inBrowser;
let base = null;
let threaded = null;
try {
  cold = await coldStart(browser, { dist, trials: coldRuns, log });
  cold.returning = returningResult([await returningVisits(dist, { visits: coldRuns, log })]);
  cold.returning_isolated = returningResult([await returningVisits(dist, { visits: coldRuns, isolated: true, log })]);
  const mounts = { '/models': models, '/bench': path.join(root, 'tests/bench'), '/bench-models': path.join(outDir, 'models'), '/node_modules': path.join(root, 'node_modules') };
  const server = await serve(path.join(root, 'www'), { mounts });
  try {
    inBrowser = await browserBench(browser, {
      baseUrl: server.url,
      configs: [
        { name: 'bertscope', kind: 'bertscope', model: `/models/${model}`, tokenizer: `/models/${tokenizer}` },
        { name: 'bertscope_norm', kind: 'bertscope', measure: 'norm', model: `/models/${model}`, tokenizer: `/models/${tokenizer}` },
        { name: 'bertscope_alti', kind: 'bertscope', measure: 'alti', model: `/models/${model}`, tokenizer: `/models/${tokenizer}` },
        { name: 'ort_web_int8', kind: 'ort', model: `/models/${peer}` },
        { name: 'ort_web_same_file', kind: 'ort', model: `/models/${model}` },
      ],
      ids, lengths, runs, rounds, log,
      fidelity: { reference: `/models/${reference}`, copies },
    });
    if (withBase) {
      say('headless Chromium: DistilBERT-base size, bertscope vs onnxruntime-web');
      base = await browserBench(browser, {
        baseUrl: server.url,
        configs: [
          { name: 'bertscope', kind: 'bertscope', model: `/models/${BASE.model}`, tokenizer: `/models/${BASE.tokenizer}` },
          { name: 'ort_web_int8', kind: 'ort', model: `/models/${BASE.peer}` },
        ],
        ids: baseIds, lengths, runs, rounds, log,
        // bertscope's attention against onnxruntime on the same file (random weights: no PyTorch reference).
        fidelity: { reference: `/models/${BASE.reference}` },
      });
    }
  } finally {
    await server.close();
  }
  if (withThreads) {
    say(`headless Chromium, cross-origin isolated: bertscope vs onnxruntime-web on ${threadCount} threads`);
    threaded = await threadedBench(browser, { mounts, model, tokenizer, peer, threads: threadCount, ids, lengths, runs, rounds, log });
  }
} finally {
  await browser.close();
}

const cpu = (await readFile('/proc/cpuinfo', 'utf8').catch(() => '')).match(/model name\s*:\s*(.*)/)?.[1] ?? os.cpus()[0]?.model;
const report = buildReport({
  lengths, native, browser: inBrowser, base, threaded: threaded && { ...threaded, threads: threadCount }, cold, bytes,
  meta: {
    date: new Date().toISOString().slice(0, 10),
    machine: `${os.cpus().length} cores, ${cpu}, 1-minute load average ${loadAtStart[0].toFixed(1)} at the start, ${os.loadavg()[0].toFixed(1)} at the end`,
    chromium,
    ort_web_version: inBrowser.ort_web_version,
    ort_version: native.ort_version,
    runs: Math.max(1, Math.ceil(runs / rounds)) * rounds,
    rounds,
    bertscope_file: path.basename(model),
    peer_file: path.basename(peer),
    distilbert_base_files: withBase ? { bertscope: BASE.model, peer: BASE.peer, fidelity_reference: BASE.reference } : null,
    fidelity_reference: reference,
    fidelity_method: 'onnxruntime-web runs a copy of each file with every Softmax output added to the graph outputs',
    notes: [
      'bertscope_ms: tokenize the text, run with every layer\'s attention extracted, copy the attention out to JS (as the page does); peers get the ids and return last_hidden_state only.',
      'chromium_distilbert_base: as chromium, at DistilBERT-base size (random weights) in the same Chromium session after the MiniLM pages closed: bertscope on distilbert-base-random/model_weights_int8.onnx, onnxruntime-web on its model_quantized.onnx, alternating; its fidelity is bertscope\'s attention against onnxruntime on the same file (no PyTorch reference for random weights).',
      'chromium_threads: as chromium, on a cross-origin isolated page in the same Chromium session: bertscope\'s threaded build (www/pkg-threads, products split over a pool of `threads` workers, engine in a worker) against onnxruntime-web with ort.env.wasm.numThreads = threads, alternating.',
      'chromium_mixing: the same run through the mixing plan (runWithMixing) plus the measures, copied out to JS: norm = attention x value norm per head and per layer; alti = those and ALTI with ALTI rollout; ratio = that run / the plain run (bertscope_ms), timed alternating in the same session.',
      'onnxruntime(-web): 1 thread, default graph optimisation (all); onnxruntime-web wasm backend (SIMD build), not proxied; native onnxruntime from PyPI, CPU provider.',
      'fidelity: max / mean over every attention value of the reference sentences that carry full attentions (the short public ones), ids checked against the reference. details.fidelity.*.copy_vs_plain_hidden_max is how far the Softmax-exposed copy\'s last_hidden_state is from the timed file\'s.',
      'cold start: performance.now() when data-testid="status" first reads "ready" (the heatmaps are drawn just before), from navigation start; cached/first: medians of fresh (off-the-record) contexts, which keep no compiled code between visits, on a plain host (one thread).',
      'cold_start_returning_ms: the same moment for a returning visitor, in a browser profile kept on disk (HTTP cache and compiled-code cache persist, as in a user\'s browser), median of new pages after one first visit; _isolated: the page served cross-origin isolated (the threaded build), as scripts/run serves it.',
      'peak_wasm_memory_bytes: WebAssembly.Memory buffer.byteLength of the bertscope instance (wasm-bindgen memory export) after loading and all runs incl. 512 tokens; linear memory never shrinks, so it is the peak. onnxruntime-web\'s: the Memory objects its wasm creates or exports (tests/bench/memory-probe.js).',
      'bytes: gzip level 9 of www/dist/assets (*.wasm; *.js = page + worker) and of onnxruntime-web\'s ort.wasm.min.mjs + ort-wasm-simd-threaded.{mjs,wasm}.',
    ],
    seconds: null,
  },
});
report.details.seconds = Math.round((performance.now() - started) / 1000);
/** Five significant digits are plenty for timings, ratios and differences. */
const rounded = (_, v) => (typeof v === 'number' && !Number.isInteger(v) ? Number(v.toPrecision(5)) : v);
await writeFile(path.join(outDir, 'report.json'), `${JSON.stringify(report, rounded, 1)}\n`);
console.log(formatReport(report, lengths));
console.log(`\nwrote ${path.relative(process.cwd(), path.join(outDir, 'report.json'))} in ${report.details.seconds} s`);
