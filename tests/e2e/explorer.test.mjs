// End-to-end test of the built page (www/dist) in Debian's Chromium, driven by playwright-core.
// Needs `cd www && npm ci && npm run build` first; links the default model into www/dist/models/.
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { artifacts, canvasPixels, READY_TIMEOUT_MS, referenceStory, STATUS, tokenTables, useSession, waitReady } from './helpers.mjs';

/** model.onnx requests the server saw: path, and the ETag a conditional one holds. */
const modelRequests = [];
const heatmapPixels = (page) => canvasPixels(page, 'focus-heatmap');

const session = useSession({
  onRequest: (_method, path, headers) => {
    if (path.endsWith('/model.onnx')) modelRequests.push({ path, ifNoneMatch: headers['if-none-match'] ?? null });
  },
});

describe('the explorer page', { concurrency: false }, () => {
  let page;

  it('loads the model and shows the tokenization of both sentences', { timeout: READY_TIMEOUT_MS + 30_000 }, async () => {
    page = await session.open();
    assert.equal(modelRequests.length, 1, 'the first visit downloads model.onnx once');

    const tables = await tokenTables(page);
    assert.deepEqual(
      tables.map((t) => t.ids),
      [
        [101, 6207, 2003, 4121, 6960, 102, 0],
        [101, 1045, 2572, 5983, 2019, 6207, 102],
      ],
    );
    assert.deepEqual(
      tables.map((t) => t.mask),
      [
        [1, 1, 1, 1, 1, 1, 0],
        [1, 1, 1, 1, 1, 1, 1],
      ],
    );
    assert.deepEqual(tables[0].tokens, ['[CLS]', 'apple', 'is', 'huge', 'enterprise', '[SEP]', '[PAD]']);

    const info = await page.textContent('[data-testid="model-info"]');
    assert.match(info, /all-MiniLM-L6-v2 .*6 layers × 12 heads .*int8.* MB/);
    const summaries = await page.$$eval('[data-testid="focus-summary"]', (ps) => ps.map((p) => p.textContent));
    assert.equal(summaries.length, 2);
    const story = referenceStory();
    summaries.forEach((summary, i) => {
      assert.equal(summary, `apple → ${story[i].target} (${story[i].weight.toFixed(2)})`, `sentence ${i + 1}`);
    });
  });

  it('draws the heatmap and redraws it for another layer', async () => {
    const [first, second] = await heatmapPixels(page);
    for (const canvas of [first, second]) {
      assert.ok(canvas.width > 100 && canvas.height > 100, `canvas is ${canvas.width}×${canvas.height}`);
      assert.ok(canvas.colours > 20, `only ${canvas.colours} colours drawn`);
      assert.ok(canvas.painted > 0.3, `only ${(canvas.painted * 100).toFixed(0)}% of the canvas painted`);
    }
    const label = await page.getAttribute('[data-testid="focus-heatmap"]', 'aria-label');
    assert.match(label, /“apple” attends most to \S+ \(0\.\d\d\)/);
    await page.screenshot({ path: join(artifacts, 'explorer.png'), fullPage: true });

    await page.selectOption('[data-testid="layer-select"]', '3');
    await waitReady(page);
    const [changed] = await heatmapPixels(page);
    assert.notEqual(changed.hash, first.hash, 'layer 4 looks exactly like layer 1');

    await page.selectOption('[data-testid="head-select"]', '0');
    await waitReady(page);
    const [oneHead] = await heatmapPixels(page);
    assert.notEqual(oneHead.hash, changed.hash, 'head 1 looks exactly like the mean of heads');

    await page.emulateMedia({ colorScheme: 'dark' });
    await page.screenshot({ path: join(artifacts, 'explorer-dark.png'), fullPage: true });
    await page.emulateMedia({ colorScheme: 'light' });
  });

  it('runs again when a sentence changes', async () => {
    await page.fill('[data-testid="sentence-input"] >> nth=0', 'Apple released a phone');
    assert.notEqual(await page.textContent(STATUS), 'ready', 'status says ready before the new result is drawn');
    await waitReady(page);
    const tables = await tokenTables(page);
    assert.deepEqual(tables[0].tokens.slice(0, 3), ['[CLS]', 'apple', 'released']);
    assert.equal(modelRequests.length, 1, 'a new sentence does not download the model again');
  });

  it('reads the model from the Cache API on the next visit, after asking the server whether it changed', { timeout: READY_TIMEOUT_MS + 30_000 }, async () => {
    const again = await session.open();
    assert.equal(modelRequests.length, 2, 'the second visit asks about model.onnx once');
    assert.equal(modelRequests[0].ifNoneMatch, null, 'the first visit downloads it');
    assert.match(modelRequests[1].ifNoneMatch ?? '', /^W\/".+"$/, 'the second visit only asks whether it changed (a conditional request)');
    assert.match(await again.textContent('[data-testid="notices"]'), /^(?!.*out of date)/s, 'nothing was replaced');
    const [canvas] = await heatmapPixels(again);
    assert.ok(canvas.colours > 20, 'the heatmap is blank on the second visit');
    await again.close();
  });

  it('shows a plain error, and keeps the page, when the model is missing', async () => {
    const broken = await session.context.newPage(); // its 404 console message is expected, so not watched
    await broken.goto(`${session.url}?model=./models/default/missing.onnx`);
    await broken.waitForSelector(`${STATUS}[role="alert"]`, { timeout: 60_000 });
    const text = await broken.textContent(STATUS);
    assert.match(text, /^Could not load the model: .*missing\.onnx.*404/);
    assert.equal(await broken.locator('[data-testid="sentence-input"]').count(), 2);
    await broken.close();
  });

  it('logged no console errors', () => {
    session.assertNoProblems();
  });
});
