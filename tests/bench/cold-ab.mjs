// Cold start of two built pages (www/dist copies) against each other in ONE headless Chromium
// session, trials alternating, each with its phase breakdown (the engine worker's User Timing
// measures, see coldstart.mjs). For deciding whether a change to loading pays; scripts/bench
// measures the cold start of record.
//
//   node tests/bench/cold-ab.mjs DIST_A [DIST_B] [TRIALS=6]
//   RETURNING=1 [ISOLATED=1] node tests/bench/cold-ab.mjs DIST_A [DIST_B] [TRIALS=6]
//
// RETURNING=1: each trial is a returning visitor instead (a browser profile kept on disk, see
// `returningVisits`: one first visit, then 3 visits timed); ISOLATED=1 serves the pages
// cross-origin isolated (the threaded build).
// A DIST is a built page with its default model linked (build_page); with one DIST, only its
// breakdown is printed.
import { launchChromium } from '../lib/environment.mjs';
import { coldStartResult, coldStartSite, formatPhases, returningResult, returningVisits } from './coldstart.mjs';

const args = process.argv.slice(2);
const trials = /^\d+$/.test(args.at(-1) ?? '') ? Number(args.pop()) : 6;
const dists = args;
if (dists.length < 1 || dists.length > 2) throw new Error('usage: node tests/bench/cold-ab.mjs DIST_A [DIST_B] [TRIALS]');

if (process.env.RETURNING === '1') {
  const isolated = process.env.ISOLATED === '1';
  const runs = dists.map(() => []);
  for (let i = 0; i < trials; i++) {
    const order = i % 2 === 0 ? dists.map((_, k) => k) : dists.map((_, k) => k).reverse();
    for (const k of order) {
      const log = (line) => process.stderr.write(`    ${'AB'[k]} ${i + 1}/${trials}: ${line}\n`);
      runs[k].push(await returningVisits(dists[k], { visits: 3, isolated, log }));
    }
  }
  const results = runs.map(returningResult);
  results.forEach((r, k) => {
    console.log(`\n${'AB'[k]}: ${dists[k]}`);
    console.log(`  returning visitor${isolated ? ' (isolated)' : ''} ${r.returning_ms.toFixed(0)} ms (median of ${r.returning.length}); first visits ${r.first_ms.toFixed(0)} ms`);
    console.log('  phases (median start and duration in ms from navigation start):');
    for (const line of formatPhases(r.phases_returning)) console.log(`  ${line}`);
  });
  if (results.length === 2) console.log(`\nB / A: returning visitor ${(results[1].returning_ms / results[0].returning_ms).toFixed(2)}`);
  process.exit(0);
}

const browser = await launchChromium();
const sites = [];
try {
  for (const dist of dists) sites.push(await coldStartSite(dist));
  const visits = sites.map(() => ({ first: [], cached: [] }));
  for (let i = 0; i < trials; i++) {
    const order = i % 2 === 0 ? sites.map((_, k) => k) : sites.map((_, k) => k).reverse();
    for (const k of order) {
      const { first, cached } = await sites[k].trial(browser);
      visits[k].first.push(first);
      visits[k].cached.push(cached);
      process.stderr.write(`    ${'AB'[k]} ${i + 1}/${trials}: first ${first.ms.toFixed(0)} ms, cached ${cached.ms.toFixed(0)} ms\n`);
    }
  }
  const results = visits.map((v) => coldStartResult(v.first, v.cached));
  results.forEach((r, k) => {
    console.log(`\n${'AB'[k]}: ${dists[k]}`);
    console.log(`  first visit ${r.first_ms.toFixed(0)} ms, model cached ${r.cached_ms.toFixed(0)} ms (medians of ${trials})`);
    console.log('  model cached, phases (median start and duration in ms from navigation start):');
    for (const line of formatPhases(r.phases_cached)) console.log(`  ${line}`);
  });
  if (results.length === 2) {
    const [a, b] = results;
    console.log(`\nB / A: first visit ${(b.first_ms / a.first_ms).toFixed(2)}, model cached ${(b.cached_ms / a.cached_ms).toFixed(2)}`);
  }
} finally {
  for (const site of sites) await site.close();
  await browser.close();
}
