// End-to-end tests of sharing a view by its URL (issue 7): a fresh browser opening the link shows
// the same controls and draws the same heatmap pixels; for a model the user dropped in, the link
// names the file, the page says in words to drop the same files (showing the default meanwhile),
// and once they are dropped the heatmaps match the sender's pixel for pixel.
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { artifacts, canvasPixels, fillAndWait, modelsDir, READY_TIMEOUT_MS, urlWith, useSession, waitReady } from './helpers.mjs';

const MLM_DIR = join(modelsDir, 'distilbert-tiny-random-mlm');
const INPUT = '[data-testid="sentence-input"]';

const session = useSession();

/** What the controls show and what the focus heatmaps drew. */
async function snapshot(page) {
  return {
    sentences: await page.$$eval(INPUT, (inputs) => inputs.map((i) => i.value)),
    focus: await page.inputValue('[data-testid="focus-input"]'),
    layer: await page.inputValue('[data-testid="layer-select"]'),
    head: await page.inputValue('[data-testid="head-select"]'),
    tab: await page.getAttribute('[role="tab"][aria-selected="true"]', 'data-view'),
    heatmaps: (await canvasPixels(page, 'focus-heatmap')).map((c) => `${c.width}×${c.height} #${c.hash}`),
  };
}

describe('a shared link', { concurrency: false }, () => {
  let page;

  it('restores sentences, focus, layer, head and view, and the same heatmap pixels', { timeout: 2 * READY_TIMEOUT_MS }, async () => {
    page = await session.open();
    await fillAndWait(page, `${INPUT} >> nth=0`, 'The bank raised its rates');
    await fillAndWait(page, `${INPUT} >> nth=1`, 'We sat on the river bank');
    await page.fill('[data-testid="focus-input"]', 'bank');
    await page.selectOption('[data-testid="layer-select"]', '3');
    await page.selectOption('[data-testid="head-select"]', '6');
    await waitReady(page);
    const url = await urlWith(page, { focus: 'bank', layer: '4', head: '7', view: 'focus', ownmodel: null });
    const sent = await snapshot(page);
    assert.equal(sent.heatmaps.length, 2);

    const opened = await session.freshPage();
    await opened.goto(url);
    await waitReady(opened);
    assert.deepEqual(await snapshot(opened), sent);
    assert.equal(await opened.isHidden('[data-testid="model-note"]'), true, 'a note about another model');
    assert.equal(await opened.textContent('[data-testid="model-info"]'), await page.textContent('[data-testid="model-info"]'));
    await opened.context().close();
  });

  it('names a model from the user’s files, asks for the same files, and then draws the same pixels', { timeout: 2 * READY_TIMEOUT_MS }, async () => {
    await page.click('[data-testid="byo-summary"]');
    await page.setInputFiles('[data-testid="byo-model-file"]', join(MLM_DIR, 'model.onnx'));
    await page.setInputFiles('[data-testid="byo-tokenizer-file"]', join(MLM_DIR, 'tokenizer.json'));
    await page.locator('[data-testid="byo-message"][data-kind="ok"]').waitFor({ timeout: 120_000 });
    await waitReady(page);
    await page.selectOption('[data-testid="layer-select"]', '0');
    await page.selectOption('[data-testid="head-select"]', '2');
    await waitReady(page);
    const url = await urlWith(page, { ownmodel: 'model.onnx', layer: '1', head: '3' });
    const sent = await snapshot(page);

    const opened = await session.freshPage();
    await opened.goto(url);
    await waitReady(opened);
    // Meanwhile: the default model, labelled as standing in, and plain words on what to do.
    const note = await opened.textContent('[data-testid="model-note"]');
    assert.match(note, /made with “model\.onnx”/);
    assert.match(note, /Files cannot travel in a link: to see exactly what they saw, drop the same model\.onnx and its tokenizer\.json/);
    assert.match(note, /Until then the views show the default model, all-MiniLM-L6-v2/);
    assert.match(await opened.textContent('[data-testid="model-info"]'), /^Model: all-MiniLM-L6-v2 .* shown in place of “model\.onnx”, the model this view was made with$/);
    assert.equal(await opened.getAttribute('#byo-model details', 'open'), '', 'the drop zone is open');
    const meanwhile = await snapshot(opened);
    assert.deepEqual({ ...meanwhile, heatmaps: [] }, { ...sent, heatmaps: [] }, 'the controls follow the link');
    assert.notDeepEqual(meanwhile.heatmaps, sent.heatmaps, 'the default model drew the same pixels as the dropped one');
    await opened.screenshot({ path: join(artifacts, 'share-own-model-missing.png'), fullPage: true });
    // The link keeps naming the model while it is awaited (a reload still says so).
    await opened.fill('[data-testid="focus-input"]', 'sat');
    await urlWith(opened, { focus: 'sat', ownmodel: 'model.onnx' });
    await opened.fill('[data-testid="focus-input"]', sent.focus);

    await opened.setInputFiles('[data-testid="byo-model-file"]', join(MLM_DIR, 'model.onnx'));
    await opened.setInputFiles('[data-testid="byo-tokenizer-file"]', join(MLM_DIR, 'tokenizer.json'));
    await opened.locator('[data-testid="byo-message"][data-kind="ok"]').waitFor({ timeout: 120_000 });
    await waitReady(opened);
    assert.equal(await opened.isHidden('[data-testid="model-note"]'), true);
    assert.deepEqual(await snapshot(opened), sent);
    await opened.context().close();
  });

  it('can be turned back into a link of the default model', { timeout: READY_TIMEOUT_MS }, async () => {
    const opened = await session.freshPage();
    await opened.goto(`${session.url}?s=Apple+is+huge+enterprise&ownmodel=mine.onnx`);
    await waitReady(opened);
    await opened.click('[data-testid="keep-shown-model"]');
    assert.equal(await opened.isHidden('[data-testid="model-note"]'), true);
    await urlWith(opened, { ownmodel: null, focus: 'apple' });
    assert.doesNotMatch(await opened.textContent('[data-testid="model-info"]'), /in place of/);
    await opened.context().close();
  });

  it('left no console errors', () => {
    session.assertNoProblems();
  });
});
