// The attention hand-off of the threaded build (www/pkg-threads), in one cross-origin isolated
// headless Chromium page (engine-threads.html, the engine in a worker with its pool): each run's
// attention copied into a fresh Float32Array, copied into a buffer reused from run to run (the
// page's buffer pool), or lent in place (a view of the shared memory, the page's way in a build
// with `holdAttention`), the three taking turns. Prints median ms of the whole run and of the
// hand-over alone, per length.
//
//   node tests/bench/handoff-threads.mjs [THREADS=2] [LENGTHS=7,128,512] [RUNS=20]
//
// PKG=DIR times a copy of www/pkg-threads instead. Models: BERTSCOPE_MODELS, else ../shared/models.
import os from 'node:os';
import { openThreadedMiniLM } from './browser.mjs';
import { summarize, textOfTokens } from './common.js';

const [threads = 2, lengthList = '7,128,512', runs = 20] = process.argv.slice(2).map((a, i) => (i === 1 ? a : Number(a)));
const lengths = String(lengthList).split(',').map(Number);
const { page, close } = await openThreadedMiniLM(threads);
try {
  const load = os.loadavg()[0];
  const table = [];
  for (const n of lengths) {
    const t = await page.evaluate(([text, k]) => window.bench.handoff(text, k), [textOfTokens(n), runs]);
    const m = (xs) => summarize(xs).median_ms;
    table.push([n, ...['fresh', 'copy', 'page'].flatMap((way) => [m(t[way].run_ms), m(t[way].handoff_ms)])]);
  }
  console.log(`${threads} threads, load average ${load.toFixed(1)} at the start, ${os.loadavg()[0].toFixed(1)} at the end; median ms`);
  console.log('tokens | run, fresh copy | hand-over | run, reused buffer | hand-over | run, lent | hand-over | lent / reused (run)');
  for (const [n, rf, hf, rc, hc, rl, hl] of table) console.log([n, rf, hf, rc, hc, rl, hl].map((v) => (typeof v === 'number' && !Number.isInteger(v) ? v.toFixed(1) : v)).join(' | ') + ` | ${(rl / rc).toFixed(2)}`);
} finally {
  await close();
}
