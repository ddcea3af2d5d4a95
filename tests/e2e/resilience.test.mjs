// End-to-end test of worker resilience: a custom model that needs more memory than WebAssembly can
// give (5 GB of live intermediates, see onnx.mjs) really exhausts the engine's memory in the browser.
// The page must say so in words, start a fresh engine with the default model, keep what the user
// typed, and draw again.
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { artifacts, canvasPixels, dist, fillAndWait, READY_TIMEOUT_MS, startPage, waitReady, watch, closePage } from './helpers.mjs';
import { memoryHogModel } from './onnx.mjs';

let server;
let browser;
let context;
const problems = [];

const SECOND = '[data-testid="sentence-input"] >> nth=1';
const TYPED = 'The engine must not lose this sentence';

before(async () => {
  ({ server, browser, context } = await startPage());
});

after(() => closePage({ server, browser, context }));

describe('a worker that runs out of memory', { concurrency: false }, () => {
  let page;

  it('loads, and the user types a sentence', { timeout: READY_TIMEOUT_MS + 60_000 }, async () => {
    page = watch(await context.newPage(), problems);
    await page.goto(server.url);
    await waitReady(page);
    await fillAndWait(page, SECOND, TYPED);
  });

  it('a model too big for wasm memory ends in a message, a restart and the user’s inputs kept', { timeout: 600_000 }, async () => {
    await page.click('[data-testid="byo-summary"]');
    await page.setInputFiles('[data-testid="byo-tokenizer-file"]', join(dist, 'models', 'default', 'tokenizer.json'));
    await page.setInputFiles('[data-testid="byo-model-file"]', {
      name: 'memory-hog.onnx',
      mimeType: 'application/octet-stream',
      buffer: memoryHogModel(),
    });
    const crash = page.locator('[data-testid="notices"] li[data-kind="crash"]');
    await crash.waitFor({ timeout: 540_000 });
    const said = await crash.textContent();
    console.log(`  the page said: ${said}`);
    assert.match(said, /^The engine stopped while running memory-hog\.onnx \(your file\): it ran out of memory/);
    assert.match(said, /It restarted with all-MiniLM-L6-v2 .*; your sentences are kept\.$/);
    assert.doesNotMatch(said, /RuntimeError|unreachable|panicked|wasm-function/, 'plain words, not a stack trace');
    await waitReady(page);
    assert.equal(await page.inputValue(SECOND), TYPED, 'the user’s sentence is kept');
    assert.match(await page.textContent('[data-testid="model-info"]'), /all-MiniLM-L6-v2/);
    assert.doesNotMatch(await page.textContent('[data-testid="model-info"]'), /your file/);
    assert.equal(await page.textContent('[data-testid="byo-message"]'), 'memory-hog.onnx stopped the engine; drop it again to retry.');
    assert.equal((await canvasPixels(page, 'focus-heatmap')).length, 2, 'both heatmaps drawn again');
    await page.screenshot({ path: join(artifacts, 'resilience-restart.png'), fullPage: true });
  });

  it('keeps working after the restart', async () => {
    await fillAndWait(page, SECOND, 'I am eating an apple');
    assert.equal((await canvasPixels(page, 'focus-heatmap')).length, 2);
  });

  it('logged only the engine’s own report of the failed allocation', () => {
    // Rust's panic hook logs why the engine stopped: proof the memory really ran out.
    assert.equal(problems.length, 1, problems.join('\n'));
    assert.match(problems[0], /^console: panicked at .*\nfailed to allocate/);
  });
});
