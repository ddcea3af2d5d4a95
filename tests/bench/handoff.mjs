// The attention hand-off out of wasm, A/B in one headless Chromium page: copied into a fresh
// Float32Array per run (the page before) against copied into a reused buffer (what the page's
// worker does with the buffers the page gives back, www/src/engine/buffer-pool.ts). Prints
// median ms of the whole run (tokenize, run, copy) and of the copy alone, per length.
//
//   node tests/bench/handoff.mjs [PKG_DIR=www/pkg] [LENGTHS=7,128,512] [RUNS=20]
import { launchChromium } from '../lib/environment.mjs';
import { openDefaultModel } from './browser.mjs';
import { summarize, textOfTokens } from './common.js';

const [pkg, lengthList = '7,128,512', runsArg = '20'] = process.argv.slice(2);
const lengths = lengthList.split(',').map(Number);
const runs = Number(runsArg);

const browser = await launchChromium();
try {
  const { session, page } = await openDefaultModel(browser, { pkg });
  try {
    console.log('tokens | run + fresh copy | run + reused buffer | ratio | copy fresh | copy reused');
    for (const n of lengths) {
      const t = await page.evaluate(([text, k]) => window.bench.handoff(text, k), [textOfTokens(n), runs]);
      const m = (xs) => summarize(xs).median_ms;
      const [rf, rp, cf, cp] = [m(t.fresh.run_ms), m(t.pooled.run_ms), m(t.fresh.copy_ms), m(t.pooled.copy_ms)];
      console.log(`${String(n).padStart(6)} | ${rf.toFixed(1).padStart(16)} | ${rp.toFixed(1).padStart(19)} | ${(rp / rf).toFixed(2)} | ${cf.toFixed(1).padStart(10)} | ${cp.toFixed(1).padStart(11)}`);
    }
  } finally {
    await session.close();
  }
} finally {
  await browser.close();
}
