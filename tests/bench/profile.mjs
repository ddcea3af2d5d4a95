// Where the wasm engine's time goes: runs the default model in headless Chromium under the
// DevTools sampling profiler and prints the functions with the most self time. A tool for
// deciding what to optimise, not a benchmark (the profiler slows everything a little).
//
//   node tests/bench/profile.mjs [TOKENS=128] [RUNS=30] [TOP=30]
//
// PKG=DIR profiles a copy of www/pkg instead (as tests/bench/ab.mjs takes them), to compare builds.
// Needs a built wasm with function names (BERTSCOPE_WASM_NAMES=1 when running build_wasm; without
// them the rows read wasm-function[N]) and the models folder (BERTSCOPE_MODELS, else ../shared/models).
import { launchChromium } from '../lib/environment.mjs';
import { openDefaultModel } from './browser.mjs';
import { textOfTokens } from './common.js';

const [tokens = 128, runs = 30, top = 30] = process.argv.slice(2).map(Number);

/** Self time per function name, from a CDP `Profiler.Profile`, largest first. */
function selfTimes(profile) {
  const byId = new Map(profile.nodes.map((node) => [node.id, node]));
  const counts = new Map();
  for (const id of profile.samples) {
    const frame = byId.get(id).callFrame;
    const name = frame.functionName || `(${frame.url.split('/').pop() || 'program'})`;
    counts.set(name, (counts.get(name) ?? 0) + 1);
  }
  const total = profile.samples.length;
  return { total, rows: [...counts].sort((a, b) => b[1] - a[1]).map(([name, n]) => [name, n / total]) };
}

const browser = await launchChromium();
let session;
try {
  let page;
  ({ session, page } = await openDefaultModel(browser, { pkg: process.env.PKG }));
  const text = textOfTokens(tokens);
  await page.evaluate((t) => window.bench.time(t, 0, 3, 1500), text);
  const cdp = await page.context().newCDPSession(page);
  await cdp.send('Profiler.enable');
  await cdp.send('Profiler.setSamplingInterval', { interval: 100 });
  await cdp.send('Profiler.start');
  const times = await page.evaluate(([t, n]) => window.bench.time(t, n), [text, runs]);
  const { profile } = await cdp.send('Profiler.stop');
  const { total, rows } = selfTimes(profile);
  const median = times.sort((a, b) => a - b)[Math.floor(times.length / 2)];
  console.log(`${tokens} tokens, ${runs} runs, median ${median.toFixed(1)} ms, ${total} samples; self time by function:`);
  for (const [name, share] of rows.slice(0, top)) console.log(`${(share * 100).toFixed(1).padStart(6)}%  ${name.slice(0, 140)}`);
} finally {
  await session?.close();
  await browser.close();
}
