// Two builds of the wasm engine against each other in ONE headless Chromium session: each
// build in its own page (served from its own origin), runs alternating so that machine noise
// hits both. Prints median ms per length and the ratio B / A, and the ratio of the fastest
// tenth (p10), which other processes on a shared machine disturb least. For deciding whether a
// change pays; scripts/bench is the benchmark of record.
//
//   node tests/bench/ab.mjs PKG_DIR_A PKG_DIR_B [LENGTHS=7,32,128,512] [RUNS=20]
//
// A PKG_DIR is a wasm-pack output folder (a copy of www/pkg). Models: BERTSCOPE_MODELS, else
// ../shared/models.
import { launchChromium } from '../lib/environment.mjs';
import { openDefaultModel } from './browser.mjs';
import { summarize, textOfTokens } from './common.js';

const [dirA, dirB, lengthList = '7,32,128,512', runsArg = '20'] = process.argv.slice(2);
if (!dirA || !dirB) throw new Error('usage: node tests/bench/ab.mjs PKG_DIR_A PKG_DIR_B [LENGTHS] [RUNS]');
const lengths = lengthList.split(',').map(Number);
const runs = Number(runsArg);
const ROUNDS = 4;

const browser = await launchChromium();
const builds = [];
try {
  for (const pkg of [dirA, dirB]) builds.push(await openDefaultModel(browser, { pkg }));
  const time = (build, n, count, warmup = 1, warmupMs = 0) =>
    build.page.evaluate(([t, ...k]) => window.bench.time(t, ...k), [textOfTokens(n), count, warmup, warmupMs]);
  for (const build of builds) for (const n of lengths) await time(build, n, 0, 3, 1000);
  const times = builds.map(() => Object.fromEntries(lengths.map((n) => [n, []])));
  for (let round = 0; round < ROUNDS; round++) {
    for (const n of lengths) {
      const order = round % 2 === 0 ? [0, 1] : [1, 0];
      for (const i of order) times[i][n].push(...(await time(builds[i], n, Math.ceil(runs / ROUNDS))));
    }
  }
  console.log(`load ms: A ${builds[0].loaded.load_ms.toFixed(0)}, B ${builds[1].loaded.load_ms.toFixed(0)}`);
  console.log('tokens |   A median (p90) |   B median (p90) | B / A | B / A at p10');
  const p10 = (t) => [...t].sort((x, y) => x - y)[Math.floor(t.length / 10)];
  for (const n of lengths) {
    const [a, b] = times.map((t) => summarize(t[n]));
    const cell = (s) => `${s.median_ms.toFixed(1)} (${s.p90_ms.toFixed(1)})`.padStart(16);
    const fast = (p10(times[1][n]) / p10(times[0][n])).toFixed(2);
    console.log(`${String(n).padStart(6)} | ${cell(a)} | ${cell(b)} | ${(b.median_ms / a.median_ms).toFixed(2).padStart(5)} | ${fast}`);
  }
} finally {
  for (const build of builds) await build.session.close();
  await browser.close();
}
