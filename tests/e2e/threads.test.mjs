// End-to-end test of the engine on several threads (issue 15): the explorer page served cross-origin
// isolated (scripts/serve.mjs's ISOLATION_HEADERS) runs the threaded build (www/pkg-threads, copied
// to www/dist/threads/ by build_page) on navigator.hardwareConcurrency threads (at most 4), says so
// in its model line, and gives the attention of the onnxruntime reference and of the single-thread
// engine on a plain host. The widget on the isolated page keeps to one thread. Needs
// build_wasm_threads before build_page (scripts/lib/common.sh); BERTSCOPE_THREADS=0 skips it.
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { ISOLATION_HEADERS, serve } from '../../scripts/serve.mjs';
import { textOfTokens } from '../bench/common.js';
import { canvasPixels, dist, downloadOf, fillAndWait, modelsDir, READY_TIMEOUT_MS, referenceAttention, runTensor, STATUS, threadsShown, useSession, waitReady, worstDifference } from './helpers.mjs';

const SENTENCES = ['Apple is huge enterprise', 'I am eating an apple'];
/** wasm against onnxruntime: raw attention agrees within 2e-4 (see mixing.test.mjs). */
const TOLERANCE = 2e-4;
/** Most threads the page uses (MAX_THREADS in www/src/engine/threads.ts). */
const MAX_THREADS = 4;
const MODEL_INFO = '[data-testid="model-info"]';
const INPUT = '[data-testid="sentence-input"]';
const query = `?${new URLSearchParams([...SENTENCES.map((s) => ['s', s]), ['focus', 'apple']])}`;

/** Paths asked of the isolated server. */
const requests = [];
const session = useSession({ headers: ISOLATION_HEADERS, onRequest: (_method, path) => requests.push(path) });

/** The same build served as a plain static host serves it (no isolation headers). */
let plain;
before(async () => {
  plain = await serve(dist);
});
after(() => plain?.close());

/** `BERTSCOPE_THREADS=0 scripts/test` builds no threaded engine, and these tests skip, saying so. */
const skip = process.env.BERTSCOPE_THREADS === '0' ? 'BERTSCOPE_THREADS=0: no threaded engine was built' : false;

describe('the engine on several threads', { concurrency: false, skip }, () => {
  let threaded;

  it('the isolated page runs the threaded build on the cores and gives onnxruntime’s attention', { timeout: READY_TIMEOUT_MS + 60_000 }, async () => {
    assert.ok(existsSync(join(dist, 'threads', 'bertscope_wasm_bg.wasm')), 'www/dist/threads/ has no threaded build: run build_wasm_threads before build_page');
    const page = await session.open(query);
    assert.equal(await page.evaluate(() => crossOriginIsolated), true);
    const cores = await page.evaluate(() => navigator.hardwareConcurrency);
    const threads = await threadsShown(page);
    assert.equal(threads, Math.min(cores, MAX_THREADS), `${cores} cores`);
    assert.ok(threads > 1, `the engine runs on ${threads} thread(s); this test needs a machine with 2 cores or more`);
    assert.ok(requests.includes('/threads/bertscope_wasm_bg.wasm'), 'the threaded build was fetched');
    threaded = await runTensor(page);
    referenceAttention(SENTENCES).forEach((want, s) => {
      const worst = worstDifference(threaded[s], want);
      assert.ok(worst <= TOLERANCE, `sentence ${s + 1}: the threaded engine differs from onnxruntime by up to ${worst}`);
    });
    session.assertNoProblems();
    await page.close();
  });

  it('a plain host gets the single-thread engine, with the same attention', { timeout: READY_TIMEOUT_MS + 60_000 }, async () => {
    assert.ok(threaded, 'the threaded run above failed');
    const page = await session.newPage();
    await page.goto(`${plain.url}${query}`);
    await waitReady(page);
    assert.equal(await page.evaluate(() => crossOriginIsolated), false);
    assert.equal(await threadsShown(page), 1);
    const single = await runTensor(page);
    // Each product's rows are split between threads, and a row's result depends on its row alone.
    single.forEach((want, s) => assert.equal(worstDifference(threaded[s], want), 0, `sentence ${s + 1}`));
    session.assertNoProblems();
    await page.close();
  });

  it('ALTI and ALTI rollout split by keys over the threads give the single-thread numbers', { timeout: 2 * READY_TIMEOUT_MS }, async () => {
    // Long enough for ALTI's keys to be shared out (analysis/mixing.rs, split::in_parts).
    const sentence = 'The bank near the river bank flooded after the storm, so the people living along the water moved their cars to higher ground.';
    /** The run's `measure` for every layer, from the "All attention (JSON)" download, on the page at `base`. */
    const measured = async (base, measure) => {
      const page = await session.newPage();
      await page.goto(`${base}?${new URLSearchParams([['s', sentence], ['focus', 'bank'], ['measure', measure]])}`);
      await waitReady(page);
      const file = JSON.parse((await downloadOf(page, 'export-run')).bytes.toString('utf8'));
      const threads = await threadsShown(page);
      await page.close();
      assert.equal(file.measure, measure, 'the download holds the measure asked for');
      return { threads, weights: file.sentences.map((s) => s.weights) };
    };
    for (const measure of ['alti', 'alti-rollout']) {
      const threaded = await measured(session.url, measure);
      const single = await measured(plain.url, measure);
      assert.ok(threaded.threads > 1 && single.threads === 1, `${threaded.threads} and ${single.threads} threads`);
      assert.equal(worstDifference(threaded.weights, single.weights), 0, `${measure}: the threads changed the numbers`);
    }
    session.assertNoProblems();
  });

  it('a long sentence (attention products, softmax and tract’s row-wise ops split) gives the single-thread bits', { timeout: READY_TIMEOUT_MS + 120_000 }, async () => {
    // 150 tokens: enough work for every split (kernels::split's and tract's thresholds), the
    // attention tap's too (12 heads × 150² values).
    const long = `?${new URLSearchParams([['s', textOfTokens(150)]])}`;
    const page = await session.open(long);
    assert.ok((await threadsShown(page)) > 1);
    const [split] = await runTensor(page);
    assert.equal(split[0][0].length, 150, 'the sentence is 150 tokens long');
    await page.close();
    const single = await session.newPage();
    await single.goto(`${plain.url}${long}`);
    await waitReady(single);
    assert.equal(await threadsShown(single), 1);
    const [want] = await runTensor(single);
    assert.equal(worstDifference(split, want), 0);
    session.assertNoProblems();
    await single.close();
  });

  it('runs in a row read their attention in place, given back once a newer one is drawn: the single-thread bits every time, at most two results held, memory flat', { timeout: 3 * READY_TIMEOUT_MS }, async () => {
    // Each run's first sentence in turn (the second stays SENTENCES[1]): three lengths, so the
    // engine's memory is reused by runs of other shapes; the 128-token one makes a held result big
    // (2 × 6 layers × 12 heads × 128² floats, 9.4 MB) enough for a leak to grow the memory.
    const firsts = [textOfTokens(128), 'The bank raised its interest rates again', SENTENCES[0]];
    const single = await session.newPage();
    await single.goto(`${plain.url}${query}`);
    await waitReady(single);
    const want = [];
    for (const first of firsts) {
      await fillAndWait(single, `${INPUT} >> nth=0`, first);
      want.push(await runTensor(single));
    }
    await single.close();

    const page = await session.open(query);
    assert.ok((await threadsShown(page)) > 1);
    const cycles = 3;
    for (let i = 0; i < cycles * firsts.length; i++) {
      await fillAndWait(page, `${INPUT} >> nth=0`, firsts[i % firsts.length]);
      assert.equal(worstDifference(await runTensor(page), want[i % firsts.length]), 0, `run ${i + 2}`);
      if (i % firsts.length === 0) {
        // The worker works in its memory for the drawn result (rollout: layers × n² per sentence,
        // computed and moved to the page): the attention lent for that result stays as it was.
        await page.click('[data-testid="tab-rollout"]');
        await waitReady(page);
        await page.click('[data-testid="tab-focus"]');
        await waitReady(page);
        assert.equal(worstDifference(await runTensor(page), want[0]), 0, `run ${i + 2}, after its rollout`);
      }
    }
    const [worker] = page.workers();
    const runs = await worker.evaluate(() => performance.getEntriesByName('bertscope: copy the attention out').map((e) => e.detail));
    assert.equal(runs.length, 1 + cycles * firsts.length, 'one hand-over per run');
    runs.forEach((run, i) => {
      assert.deepEqual([run.sentences, run.lent, run.reused], [2, 2, 0], `run ${i + 1} lends its attention in place, copying none`);
      // The result drawn before and this one: the page gave every older one back.
      assert.ok(run.lentResults <= 2, `run ${i + 1}: ${run.lentResults} results held`);
    });
    assert.equal(runs.at(-1).lentResults, 2);
    // Once every shape has run (the first cycle), later cycles need no more memory.
    const warm = runs[firsts.length].memoryBytes;
    assert.deepEqual(runs.slice(firsts.length + 1).map((r) => r.memoryBytes), runs.slice(firsts.length + 1).map(() => warm), 'wasm memory grew after the first cycle');
    session.assertNoProblems();
    await page.close();
  });

  it('the result on screen, drawn again while the engine computes the next, reads the memory it was lent unchanged', { timeout: 2 * READY_TIMEOUT_MS }, async () => {
    // 128 tokens: a lent result of 9.4 MB, which a release too early would leave to the next run.
    const shownQuery = `?${new URLSearchParams([['s', textOfTokens(128)], ['s', SENTENCES[1]]])}`;
    const layerOne = async (page) => {
      await page.selectOption('[data-testid="layer-select"]', '0');
      return { at: await page.evaluate(() => performance.timeOrigin + performance.now()), status: await page.textContent(STATUS), pixels: await canvasPixels(page, 'focus-heatmap') };
    };
    // What layer 1 of that result looks like, drawn on a page of its own.
    const fresh = await session.open(shownQuery);
    const want = (await layerOne(fresh)).pixels;
    await fresh.close();

    const page = await session.open(shownQuery);
    const [worker] = page.workers();
    // The next run (512 tokens, two sentences: a few hundred ms on the threads) starts once the
    // input's debounce (250 ms) is over: the engine's worker, busy running it, stops answering at
    // once. Then layer 1, never drawn on this page, is drawn.
    await page.fill(`${INPUT} >> nth=0`, textOfTokens(512));
    for (const started = Date.now(); Date.now() - started < 10_000; ) {
      const answered = await Promise.race([worker.evaluate(() => true), new Promise((resolve) => setTimeout(() => resolve(false), 30))]);
      if (!answered) break;
    }
    const during = await layerOne(page);
    await waitReady(page);
    const run = await worker.evaluate(() => {
      const [last] = performance.getEntriesByName('bertscope: run').slice(-1);
      return { start: performance.timeOrigin + last.startTime, end: performance.timeOrigin + last.startTime + last.duration };
    });
    assert.ok(run.start < during.at && during.at < run.end, `drawn ${(during.at - run.start).toFixed(0)} ms after the next run started (it took ${(run.end - run.start).toFixed(0)} ms): not during it`);
    assert.notEqual(during.status, 'ready', 'the next result was already drawn');
    assert.ok(want.length > 0 && want[0].colours > 20, 'layer 1 was drawn');
    assert.deepEqual(during.pixels, want, 'the result on screen changed while the next run computed');
    session.assertNoProblems();
    await page.close();
  });

  it('a dropped model runs on the threads too (its bytes are hashed out of the shared memory)', { timeout: READY_TIMEOUT_MS + 60_000 }, async () => {
    const folder = join(modelsDir, 'distilbert-tiny-random');
    const page = await session.open(query);
    await page.click('[data-testid="byo-summary"]');
    await page.setInputFiles('[data-testid="byo-tokenizer-file"]', join(folder, 'tokenizer.json'));
    await page.setInputFiles('[data-testid="byo-model-file"]', join(folder, 'model.onnx'));
    await page.locator('[data-testid="byo-message"][data-kind="ok"], [data-testid="byo-message"][data-kind="error"]').waitFor({ timeout: 120_000 });
    assert.equal(await page.getAttribute('[data-testid="byo-message"]', 'data-kind'), 'ok', await page.textContent('[data-testid="byo-message"]'));
    await waitReady(page);
    assert.match(await page.textContent(MODEL_INFO), /^Model: model\.onnx \(your file\) · 2 layers × 4 heads · fp32 · [\d.]+ MB · \d+ threads$/);
    assert.ok((await threadsShown(page)) > 1);
    session.assertNoProblems();
    await page.close();
  });

  it('the widget on the isolated page runs on one thread, without error', { timeout: READY_TIMEOUT_MS + 60_000 }, async () => {
    requests.length = 0;
    const page = await session.newPage();
    await page.goto(`${session.url}example-post.html`);
    assert.equal(await page.evaluate(() => crossOriginIsolated), true);
    const widget = page.locator('bert-attention').first();
    await widget.scrollIntoViewIfNeeded();
    await page.waitForFunction(
      () => /^(ready|error)$/.test(document.querySelector('bert-attention')?.shadowRoot?.querySelector('[data-testid="widget"]')?.dataset.state ?? ''),
      null,
      { timeout: READY_TIMEOUT_MS, polling: 100 },
    );
    assert.equal(await widget.evaluate((host) => host.shadowRoot.querySelector('[data-testid="widget"]').dataset.state), 'ready');
    assert.deepEqual(requests.filter((path) => path.startsWith('/threads/')), [], 'the widget fetched the threaded build');
    session.assertNoProblems();
    await page.close();
  });
});
