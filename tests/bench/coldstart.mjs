// Cold start of the real page (www/dist): navigation start to the first drawn heatmap, i.e. the
// moment the status element (data-testid="status") first reads "ready" (set right after the
// heatmaps are drawn), timed in the page with performance.now() (0 = navigation start).
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { serve } from '../../scripts/serve.mjs';
import { launchChromiumProfile } from '../lib/environment.mjs';
import { summarize } from './common.js';

/** Records in the page when the status first reads "ready" (or an error), and whether a heatmap canvas exists. */
function watchStatus() {
  const check = () => {
    const status = document.querySelector('[data-testid="status"]');
    if (!status || window.__bench_ready_ms !== undefined) return;
    if (status.dataset.kind === 'ready' && status.textContent.trim() === 'ready') {
      window.__bench_ready_ms = performance.now();
      window.__bench_canvases = document.querySelectorAll('canvas').length;
    } else if (status.dataset.kind === 'error') {
      window.__bench_error = status.textContent;
    }
  };
  new MutationObserver(check).observe(document, { subtree: true, childList: true, attributes: true, characterData: true });
}

/**
 * The engine worker's User Timing measures (`bertscope: <phase>`, see www/src/engine/timing.ts),
 * on the page's clock (ms from navigation start): `{ name, start_ms, ms }`, oldest first, with the
 * worker's own start as the phase "worker started".
 */
async function workerPhases(page) {
  const pageOrigin = await page.evaluate(() => performance.timeOrigin);
  const phases = [];
  // A pool thread of the threaded build is blocked in wasm for good: it cannot be asked anything.
  for (const worker of page.workers().filter((w) => !w.url().includes('pool-thread'))) {
    const { origin, entries } = await worker.evaluate(() => ({
      origin: performance.timeOrigin,
      entries: performance.getEntriesByType('measure').filter((e) => e.name.startsWith('bertscope: '))
        .map((e) => ({ name: e.name.slice('bertscope: '.length), start: e.startTime, ms: e.duration })),
    }));
    if (!entries.length) continue;
    phases.push({ name: 'worker started', start_ms: 0, ms: origin - pageOrigin });
    phases.push(...entries.map((e) => ({ name: e.name, start_ms: e.start + origin - pageOrigin, ms: e.ms })));
  }
  return phases.sort((a, b) => a.start_ms - b.start_ms);
}

/** How long each visit stays on the page once it is ready. */
const STAY_MS = 2500;

async function visit(context, url, requests, label) {
  requests.length = 0;
  const page = await context.newPage();
  await page.goto(url);
  await page.waitForFunction(() => window.__bench_ready_ms !== undefined || window.__bench_error, null, { timeout: 120_000 });
  const { ready, error, canvases } = await page.evaluate(() => ({
    ready: window.__bench_ready_ms, error: window.__bench_error, canvases: window.__bench_canvases,
  }));
  // A visitor looks at the heatmap for a moment: time enough for the page to keep its prepared
  // engine for the next visit (1 s after the first run, www/src/engine/serve.ts).
  if (!error) await page.waitForTimeout(STAY_MS);
  const phases = error ? [] : await workerPhases(page);
  await page.close();
  if (error) throw new Error(`the page (${label}) says: ${error}`);
  if (!canvases) throw new Error(`the page (${label}) said ready without a heatmap canvas`);
  const posted = phases.findLast((p) => p.name === 'post the result');
  if (posted) phases.push({ name: 'page: receive and draw', start_ms: posted.start_ms + posted.ms, ms: ready - posted.start_ms - posted.ms });
  return { ms: ready, model_requests: requests.filter((p) => p.endsWith('.onnx')).length, phases };
}

/**
 * Per phase name, the median over `visits` of its summed duration in a visit and of when it first
 * started (phases such as "pack the weights" happen many times per visit).
 */
export function phaseSummary(visits) {
  const names = [...new Set(visits.flatMap((v) => v.phases.map((p) => p.name)))];
  const median = (values) => summarize(values).median_ms;
  const rows = names.map((name) => {
    const mine = visits.map((v) => v.phases.filter((p) => p.name === name)).filter((ps) => ps.length);
    return {
      name,
      start_ms: median(mine.map((ps) => ps[0].start_ms)),
      ms: median(mine.map((ps) => ps.reduce((sum, p) => sum + p.ms, 0))),
      times: median(mine.map((ps) => ps.length)),
    };
  });
  return rows.sort((a, b) => a.start_ms - b.start_ms);
}

/** The phase summary as lines of text (start and duration in ms). */
export function formatPhases(rows) {
  return rows.map((r) => `${r.start_ms.toFixed(0).padStart(7)} ${r.ms.toFixed(1).padStart(8)}  ${r.name}${r.times > 1 ? ` (×${r.times})` : ''}`);
}

/**
 * `trials` times: a fresh browser context visits the page (first visit: the model comes from
 * localhost and the page stores it in the Cache API), then a second page in the same context
 * visits again (the model comes from the Cache API after a conditional request, which is not
 * counted as a model request; wasm and JS are revalidated with localhost, which serves them with
 * Cache-Control: no-cache). Returns medians and every trial.
 */
export async function coldStart(browser, { dist, trials, log }) {
  const site = await coldStartSite(dist);
  const first = [];
  const cached = [];
  try {
    for (let i = 0; i < trials; i++) {
      const trial = await site.trial(browser);
      first.push(trial.first);
      cached.push(trial.cached);
      log(`cold start ${i + 1}/${trials}: first ${trial.first.ms.toFixed(0)} ms, cached ${trial.cached.ms.toFixed(0)} ms`);
    }
  } finally {
    await site.close();
  }
  return coldStartResult(first, cached);
}

/** Medians, the phase breakdowns and every trial of `first` and `cached` visits. */
export function coldStartResult(first, cached) {
  return {
    first_ms: summarize(first.map((v) => v.ms)).median_ms,
    cached_ms: summarize(cached.map((v) => v.ms)).median_ms,
    phases_first: phaseSummary(first),
    phases_cached: phaseSummary(cached),
    first: first.map(({ phases: _, ...v }) => v),
    cached: cached.map(({ phases: _, ...v }) => v),
  };
}

/**
 * `dist` served on localhost; `trial(browser)` visits it twice in a fresh browser context (a
 * first visit, then one with the model in the Cache API) and resolves to `{ first, cached }`.
 */
export async function coldStartSite(dist) {
  const requests = [];
  const server = await serve(dist, { onRequest: (_, path, headers) => headers['if-none-match'] === undefined && requests.push(path) });
  return {
    async trial(browser) {
      const context = await browser.newContext();
      try {
        await context.addInitScript(watchStatus);
        const first = await visit(context, server.url, requests, 'first visit');
        const cached = await visit(context, server.url, requests, 'model cached');
        return { first, cached };
      } finally {
        await context.close();
      }
    },
    close: () => server.close(),
  };
}

/**
 * A returning visitor: one browser profile kept on disk (its HTTP cache and compiled-code cache
 * persist, as in a user's browser, unlike the fresh contexts above) visits `dist` once, then
 * `visits` more times, each in a new page after the last one closed. `isolated`: served
 * cross-origin isolated, so the page runs the threaded build, as `scripts/run` serves it.
 * Resolves to `{ isolated, first, returning }`: the visits, with their phases.
 */
export async function returningVisits(dist, { visits, isolated = false, log }) {
  const requests = [];
  const server = await serve(dist, { isolated, onRequest: (_, path, headers) => headers['if-none-match'] === undefined && requests.push(path) });
  const dir = mkdtempSync(join(tmpdir(), 'bertscope-profile-'));
  const context = await launchChromiumProfile(dir);
  try {
    await context.addInitScript(watchStatus);
    const first = await visit(context, server.url, requests, 'first visit of a kept profile');
    const returning = [];
    for (let i = 0; i < visits; i++) {
      returning.push(await visit(context, server.url, requests, 'returning visit'));
      log(`returning visit${isolated ? ' (isolated)' : ''} ${i + 1}/${visits}: ${returning.at(-1).ms.toFixed(0)} ms`);
    }
    return { isolated, first, returning };
  } finally {
    await context.close();
    await server.close();
    rmSync(dir, { recursive: true, force: true });
  }
}

/** Medians over `runs` of `returningVisits` (one isolation): first and returning visits, the returning visits' phases, every visit. */
export function returningResult(runs) {
  const returning = runs.flatMap((r) => r.returning);
  return {
    isolated: runs[0].isolated,
    first_ms: summarize(runs.map((r) => r.first.ms)).median_ms,
    returning_ms: summarize(returning.map((v) => v.ms)).median_ms,
    phases_returning: phaseSummary(returning),
    returning: returning.map(({ phases: _, ...v }) => v),
  };
}
