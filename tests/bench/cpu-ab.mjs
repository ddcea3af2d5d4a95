// Two builds of the wasm engine against each other in ONE Node process, timed by the process's
// CPU time (user + system), which other processes on a busy machine disturb far less than wall
// time (on a shared 2-core machine wall-clock A/Bs swung by 15-80%). Node runs the same V8 engine
// family as Chromium, without the page: for deciding whether a kernel change pays when the
// machine is loaded; tests/bench/ab.mjs (Chromium, wall time) and scripts/bench are the
// measurements of record on a quiet machine. Prints median and minimum CPU ms and B / A.
//
//   node tests/bench/cpu-ab.mjs PKG_DIR_A PKG_DIR_B [LENGTHS=7,32,128,512] [RUNS=12]
//
// A PKG_DIR is a wasm-pack output folder (a copy of www/pkg). MODEL and TOKENIZER choose the
// files (default: the default model under BERTSCOPE_MODELS, else ../shared/models).
import { readFileSync } from 'node:fs';
import { pathToFileURL } from 'node:url';
import { textOfTokens } from './common.js';

const [dirA, dirB, lengthList = '7,32,128,512', runsArg = '12'] = process.argv.slice(2);
if (!dirA || !dirB) throw new Error('usage: node tests/bench/cpu-ab.mjs PKG_DIR_A PKG_DIR_B [LENGTHS] [RUNS]');
const models = process.env.BERTSCOPE_MODELS ?? new URL('../../../shared/models', import.meta.url).pathname;
const model = process.env.MODEL ?? `${models}/minilm-l6/model_weights_int8.onnx`;
const tokenizer = process.env.TOKENIZER ?? `${models}/minilm-l6/tokenizer.json`;
const lengths = lengthList.split(',').map(Number);
const runs = Number(runsArg);

const engines = [];
for (const dir of [dirA, dirB]) {
  // A query string per build: the same module path would otherwise be imported once.
  const glue = await import(`${pathToFileURL(`${dir}/bertscope_wasm.js`)}?build=${engines.length}`);
  await glue.default({ module_or_path: readFileSync(`${dir}/bertscope_wasm_bg.wasm`) });
  const engine = new glue.Engine(new Uint8Array(readFileSync(model)), new Uint8Array(readFileSync(tokenizer)), false);
  engine.prepare(1);
  engines.push(engine);
}
/** One run as the page makes it: every attention, copied out. */
const runOnce = (engine, text) => {
  const result = engine.run([text]);
  result.attention(0);
  result.free();
};
const cpuMs = () => {
  const { user, system } = process.cpuUsage();
  return (user + system) / 1000;
};
const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
// Until V8's optimising tier has compiled both builds: its background compile threads count in
// the process's CPU time.
for (const engine of engines) {
  const until = performance.now() + 3000;
  while (performance.now() < until) runOnce(engine, textOfTokens(32));
}
console.log('tokens | A median (min) cpu ms | B median (min) cpu ms | B / A median | B / A min');
for (const n of lengths) {
  const text = textOfTokens(n);
  for (const engine of engines) for (let i = 0; i < 3; i++) runOnce(engine, text);
  const times = [[], []];
  for (let i = 0; i < runs; i++) {
    for (const j of i % 2 ? [1, 0] : [0, 1]) {
      const start = cpuMs();
      runOnce(engines[j], text);
      times[j].push(cpuMs() - start);
    }
  }
  const [a, b] = times.map((t) => ({ median: median(t), min: Math.min(...t) }));
  const cell = (s) => `${s.median.toFixed(1)} (${s.min.toFixed(1)})`.padStart(21);
  console.log(`${String(n).padStart(6)} | ${cell(a)} | ${cell(b)} | ${(b.median / a.median).toFixed(3).padStart(12)} | ${(b.min / a.min).toFixed(3)}`);
}
