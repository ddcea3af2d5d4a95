// Where loading the default model goes in wasm: `new Engine` and the first plan (engine.html's
// `bench.load`) under the DevTools sampling profiler, in fresh pages; prints self time by function
// and by crate. A tool for deciding what to make faster, not a benchmark.
//
//   node tests/bench/load-profile.mjs [LOADS=3] [TOP=40]
//
// PKG=DIR profiles a copy of www/pkg instead. Needs a wasm with function names
// (BERTSCOPE_WASM_NAMES=1 when running build_wasm).
import { launchChromium } from '../lib/environment.mjs';
import { engineBenchOptions, Session } from '../lib/session.mjs';

/** The default model, as tests/lib/session.mjs opens it. */
const DEFAULT_MODEL_FILES = { model: '/models/minilm-l6/model_weights_int8.onnx', tokenizer: '/models/minilm-l6/tokenizer.json' };

const [loads = 3, top = 40] = process.argv.slice(2).map(Number);

/** The crate a (demangled) wasm function name belongs to, else the name itself. */
function crateOf(name) {
  const path = name.replace(/^<+/, '').replace(/^(&|mut |dyn )+/, '');
  const match = /^([A-Za-z_][A-Za-z0-9_]*)::/.exec(path);
  return match ? match[1] : name.startsWith('wasm-function') ? '(unnamed wasm)' : name;
}

const browser = await launchChromium();
const session = await new Session({ ...engineBenchOptions({ pkg: process.env.PKG }), browser, onProblem: (p) => console.error(p) }).start();
try {
  const byName = new Map();
  let total = 0;
  const times = [];
  for (let i = 0; i < loads; i++) {
    const page = await session.newPage();
    await page.goto(`${session.url}bench/engine.html`);
    await page.waitForFunction(() => window.bench, null, { timeout: 60_000 });
    const cdp = await page.context().newCDPSession(page);
    await cdp.send('Profiler.enable');
    await cdp.send('Profiler.setSamplingInterval', { interval: 100 });
    await cdp.send('Profiler.start');
    const loaded = await page.evaluate((files) => window.bench.load(files), DEFAULT_MODEL_FILES);
    const { profile } = await cdp.send('Profiler.stop');
    times.push(loaded.load_ms);
    const byId = new Map(profile.nodes.map((node) => [node.id, node]));
    for (const id of profile.samples) {
      const frame = byId.get(id).callFrame;
      const name = frame.functionName || `(${frame.url.split('/').pop() || 'program'})`;
      if (name === '(idle)' || name === '(program)') continue;
      byName.set(name, (byName.get(name) ?? 0) + 1);
      total++;
    }
    await page.close();
  }
  console.log(`${loads} loads (new Engine + prepare(1)), ${times.map((t) => t.toFixed(0)).join(' / ')} ms; ${total} busy samples`);
  const byCrate = new Map();
  for (const [name, n] of byName) byCrate.set(crateOf(name), (byCrate.get(crateOf(name)) ?? 0) + n);
  const show = (map, k) => [...map].sort((a, b) => b[1] - a[1]).slice(0, k)
    .forEach(([name, n]) => console.log(`${((n / total) * 100).toFixed(1).padStart(6)}%  ${name.slice(0, 150)}`));
  console.log('\nself time by crate:');
  show(byCrate, 20);
  console.log('\nself time by function:');
  show(byName, top);
} finally {
  await session.close();
  await browser.close();
}
