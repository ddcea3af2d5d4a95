// End-to-end tests of crash containment (issue 18, defect 1): a model that loads but crashes the
// engine when it runs (it really exhausts WebAssembly memory, see `runCrashModel` in onnx.mjs).
// In the explorer, a `?model=` link to it crashes the engine once, restarts with the default model,
// names both, and never loads it again; among widgets, the figure with that model says so and the
// other figure on the page still draws. Counted from the console: each crash is one warning.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { assertDrawn, assertOnlyAllocationFailures, canvasPixels, crashWatchedPage, fillAndWait, READY_TIMEOUT_MS, readCanvases, repoRoot, useSession, waitReady } from './helpers.mjs';
import { runCrashModel } from './onnx.mjs';

const crashDir = mkdtempSync(join(tmpdir(), 'bertscope-crash-'));
writeFileSync(join(crashDir, 'crasher.onnx'), runCrashModel());
after(() => rmSync(crashDir, { recursive: true, force: true }));

/** Paths the server was asked for, in order. */
const requests = [];
const session = useSession({
  mounts: { '/crash': crashDir, '/fixtures': join(repoRoot, 'tests', 'e2e', 'fixtures') },
  onRequest: (_method, path) => requests.push(path),
});

const CRASHER = '/crash/crasher.onnx';
const SECOND = '[data-testid="sentence-input"] >> nth=1';
/** What the engine says when a run exhausts its memory. */
const OUT_OF_MEMORY = 'it ran out of memory or hit an internal error';
/** Time given to a looping page to show itself, in ms. */
const LOOP_WATCH_MS = 5_000;

describe('a model that crashes the engine', { concurrency: false }, () => {
  it('from a ?model= link: one crash, a restart with the default model naming both, and no loop', { timeout: 2 * READY_TIMEOUT_MS }, async () => {
    const { page, problems, crashes } = await crashWatchedPage(session);
    await page.goto(`${session.url}?model=${CRASHER}&tokenizer=/models/default/tokenizer.json&name=crasher`);
    const notice = page.locator('[data-testid="notices"] li[data-kind="crash"]');
    await notice.waitFor({ timeout: READY_TIMEOUT_MS });
    const said = await notice.textContent();
    console.log(`  the page said: ${said}`);
    assert.match(said, new RegExp(`^The engine stopped while running crasher: ${OUT_OF_MEMORY}\\. It restarted with all-MiniLM-L6-v2 .*; your sentences are kept\\. crasher is not loaded again unless you reload the page\\.$`));
    await waitReady(page);
    assert.match(await page.textContent('[data-testid="model-info"]'), /^Model: all-MiniLM-L6-v2 .*6 layers × 12 heads/);
    assert.equal((await canvasPixels(page, 'focus-heatmap')).length, 2, 'both heatmaps drawn with the default model');

    // The page keeps running the default model, and never goes back to the crasher.
    await fillAndWait(page, SECOND, 'The engine must not loop');
    await page.waitForTimeout(LOOP_WATCH_MS);
    assert.equal(crashes.length, 1, `the engine stopped ${crashes.length} times:\n${crashes.join('\n')}`);
    assert.equal(requests.filter((path) => path === CRASHER).length, 1, 'the crasher was downloaded once');
    assert.equal(await page.locator('[data-testid="notices"] li[data-kind="crash"]').count(), 1);
    assert.equal(await page.textContent('[data-testid="status"]'), 'ready');
    assertOnlyAllocationFailures(problems, 1);
    await page.close();
  });

  it('in one of two widgets: that widget says so, the other draws, and the engine stops once', { timeout: 2 * READY_TIMEOUT_MS }, async () => {
    const { page, problems, crashes } = await crashWatchedPage(session);
    await page.goto(`${session.url}fixtures/crash-widgets.html`);
    const states = () =>
      page.$$eval('bert-attention', (hosts) =>
        hosts.map((host) => {
          const root = host.shadowRoot;
          return {
            name: host.dataset.case,
            state: root?.querySelector('[data-testid="widget"]')?.dataset.state,
            status: root?.querySelector('[data-testid="widget-status"]')?.textContent ?? '',
          };
        }),
      );
    await page.waitForFunction(
      () => Array.from(document.querySelectorAll('bert-attention')).every((h) => /^(ready|error)$/.test(h.shadowRoot?.querySelector('[data-testid="widget"]')?.dataset.state ?? '')),
      null,
      { timeout: READY_TIMEOUT_MS, polling: 100 },
    );
    await page.waitForTimeout(LOOP_WATCH_MS);
    const [crasher, good] = await states();
    assert.equal(crasher.name, 'crasher');
    assert.equal(crasher.state, 'error');
    assert.equal(crasher.status, `Could not load the model: crasher.onnx stopped the engine (${OUT_OF_MEMORY}), so it is not loaded again; reload the page to try it again`);
    assert.equal(good.state, 'ready', `the other widget says: ${good.status}`);
    const canvases = await page
      .locator('bert-attention[data-case="default"]')
      .evaluateHandle((host) => Array.from(host.shadowRoot.querySelectorAll('canvas[data-testid="focus-heatmap"]')));
    const drawn = await canvases.evaluate(readCanvases);
    await canvases.dispose();
    assert.equal(drawn.length, 2);
    drawn.forEach((canvas, s) => assertDrawn(canvas, `the default widget, sentence ${s + 1}`));
    assert.equal(crashes.length, 1, `the engine stopped ${crashes.length} times:\n${crashes.join('\n')}`);
    assert.equal(page.workers().length, 1, 'one engine worker, the fresh one');
    assertOnlyAllocationFailures(problems, 1);
    await page.close();
  });
});
