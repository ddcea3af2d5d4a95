// Cold start of the real page (www/dist): navigation start to the first drawn heatmap, i.e. the
// moment the status element (data-testid="status") first reads "ready" (set right after the
// heatmaps are drawn), timed in the page with performance.now() (0 = navigation start).
import { serve } from '../../scripts/serve.mjs';
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

async function visit(context, url, requests, label) {
  requests.length = 0;
  const page = await context.newPage();
  await page.goto(url);
  await page.waitForFunction(() => window.__bench_ready_ms !== undefined || window.__bench_error, null, { timeout: 120_000 });
  const { ready, error, canvases } = await page.evaluate(() => ({
    ready: window.__bench_ready_ms, error: window.__bench_error, canvases: window.__bench_canvases,
  }));
  await page.close();
  if (error) throw new Error(`the page (${label}) says: ${error}`);
  if (!canvases) throw new Error(`the page (${label}) said ready without a heatmap canvas`);
  return { ms: ready, model_requests: requests.filter((p) => p.endsWith('.onnx')).length };
}

/**
 * `trials` times: a fresh browser context visits the page (first visit: the model comes from
 * localhost and the page stores it in the Cache API), then a second page in the same context
 * visits again (the model comes from the Cache API after a conditional request, which is not
 * counted as a model request; wasm and JS are revalidated with localhost, which serves them with
 * Cache-Control: no-cache). Returns medians and every trial.
 */
export async function coldStart(browser, { dist, trials, log }) {
  const requests = [];
  const server = await serve(dist, { onRequest: (_, path, headers) => headers['if-none-match'] === undefined && requests.push(path) });
  const first = [];
  const cached = [];
  try {
    for (let i = 0; i < trials; i++) {
      const context = await browser.newContext();
      try {
        await context.addInitScript(watchStatus);
        first.push(await visit(context, server.url, requests, 'first visit'));
        cached.push(await visit(context, server.url, requests, 'model cached'));
        log(`cold start ${i + 1}/${trials}: first ${first.at(-1).ms.toFixed(0)} ms, cached ${cached.at(-1).ms.toFixed(0)} ms`);
      } finally {
        await context.close();
      }
    }
  } finally {
    await server.close();
  }
  return {
    first_ms: summarize(first.map((v) => v.ms)).median_ms,
    cached_ms: summarize(cached.map((v) => v.ms)).median_ms,
    first: first,
    cached: cached,
  };
}
