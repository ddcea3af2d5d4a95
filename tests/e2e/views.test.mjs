// End-to-end tests of the explorer's controls and views: sentences added and removed, tokens
// picked, aggregation, the head and model views, view tabs, the state in the URL, the keyboard,
// text alternatives and themes. Saves a screenshot of each view to tests/artifacts/.
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { artifacts, assertDrawn, canvasPixels, fillAndWait, READY_TIMEOUT_MS, tokenTables, useSession, waitReady } from './helpers.mjs';

const session = useSession();

const INPUT = '[data-testid="sentence-input"]';
const summaries = (page) => page.$$eval('[data-testid="focus-summary"]', (ps) => ps.map((p) => p.textContent));

/** Clicks the model view's cell of `layer`, `head` (0-based), using the grid geometry the canvas publishes. */
async function clickModelCell(page, layer, head) {
  const canvas = page.locator('[data-testid="model-view"]');
  const { left, top, cell, gap } = await canvas.evaluate((c) => ({ ...c.dataset }));
  const x = Number(left) + head * (Number(cell) + Number(gap)) + Number(cell) / 2;
  const y = Number(top) + layer * (Number(cell) + Number(gap)) + Number(cell) / 2;
  await canvas.click({ position: { x, y } });
}

describe('the explorer views', { concurrency: false }, () => {
  let page;

  it('loads with the two default sentences', { timeout: READY_TIMEOUT_MS + 30_000 }, async () => {
    page = await session.open();
    assert.equal(await page.locator(INPUT).count(), 2);
  });

  it('"+ sentence" adds a sentence that is run and drawn, up to four; × removes one', async () => {
    await page.click('[data-testid="add-sentence"]');
    assert.equal(await page.locator(INPUT).count(), 3);
    await fillAndWait(page, `${INPUT} >> nth=2`, 'The apple fell from the tree');
    const tables = await tokenTables(page);
    assert.equal(tables.length, 3);
    assert.deepEqual(tables[2].tokens.slice(0, 4), ['[CLS]', 'the', 'apple', 'fell']);
    const texts = await summaries(page);
    assert.equal(texts.length, 3);
    assert.match(texts[2], /^apple → \S+ \(0\.\d\d\)$/);
    assert.equal((await canvasPixels(page, 'focus-heatmap')).length, 3);

    await page.click('[data-testid="add-sentence"]');
    assert.equal(await page.locator(INPUT).count(), 4);
    assert.ok(await page.isDisabled('[data-testid="add-sentence"]'), 'a fifth sentence can be added');
    await page.click('[data-testid="remove-sentence"] >> nth=3');
    await page.click('[data-testid="remove-sentence"] >> nth=2');
    await waitReady(page);
    assert.equal(await page.locator(INPUT).count(), 2);
    assert.equal((await tokenTables(page)).length, 2);
  });

  it('clicking a token in the table or on a heatmap label makes it the focus word', async () => {
    await page.click('[data-testid="token-table"] table[data-sentence="0"] button.tok-button:text-is("enterprise")');
    await waitReady(page);
    assert.equal(await page.inputValue('[data-testid="focus-input"]'), 'enterprise');
    assert.match((await summaries(page))[0], /^enterprise → /);

    // Row label of token 4 ("huge") in sentence 1's heatmap.
    const heatmap = page.locator('[data-testid="focus-heatmap"] >> nth=0');
    const { left, top, cell } = await heatmap.evaluate((c) => ({ ...c.dataset }));
    await heatmap.click({ position: { x: Number(left) - 12, y: Number(top) + 3.5 * Number(cell) } });
    await waitReady(page);
    assert.equal(await page.inputValue('[data-testid="focus-input"]'), 'huge');
    assert.match((await summaries(page))[0], /^huge → /);

    // Keyboard: arrow keys move along the token row, Enter picks.
    await page.focus('[data-testid="token-table"] table[data-sentence="1"] button.tok-button[data-index="0"]');
    for (let i = 0; i < 5; i++) await page.keyboard.press('ArrowRight');
    await page.keyboard.press('Enter');
    await waitReady(page);
    assert.equal(await page.inputValue('[data-testid="focus-input"]'), 'apple');
  });

  it('hovering the heatmap reads out the exact value', async () => {
    const heatmap = page.locator('[data-testid="focus-heatmap"] >> nth=0');
    await heatmap.scrollIntoViewIfNeeded();
    const { left, top, cell } = await heatmap.evaluate((c) => ({ ...c.dataset }));
    // Query "apple" (row 1), key "enterprise" (column 4).
    await heatmap.hover({ position: { x: Number(left) + 4.5 * Number(cell), y: Number(top) + 1.5 * Number(cell) } });
    const readout = await page.textContent('[data-testid="heatmap-readout"] >> nth=0');
    const summary = (await summaries(page))[0]; // "apple → enterprise (0.12)" at the default layer and head
    assert.match(readout, /^0\.\d{4} · query “apple” \(#2\) → key “enterprise” \(#5\)$/);
    assert.equal(Number(readout.slice(0, 6)).toFixed(2), summary.match(/\((0\.\d\d)\)/)[1]);
    await page.locator('[data-testid="focus-heatmap"] >> nth=0').screenshot({ path: join(artifacts, 'focus-hover.png') });
    await page.mouse.move(0, 0);
  });

  it('aggregates heads by mean, max or one head, and the pixels follow', async () => {
    const [mean] = await canvasPixels(page, 'focus-heatmap');
    await page.selectOption('[data-testid="head-select"]', 'max');
    await waitReady(page);
    const [max] = await canvasPixels(page, 'focus-heatmap');
    assert.notEqual(max.hash, mean.hash, 'max of heads looks exactly like the mean');
    assert.match(await page.getAttribute('[data-testid="focus-heatmap"]', 'aria-label'), /max of 12 heads/);
    await page.selectOption('[data-testid="head-select"]', 'mean');
    await waitReady(page);
  });

  it('draws the head view, and redraws it for another head and for head toggles', async () => {
    await page.click('[data-testid="tab-head"]');
    await waitReady(page);
    assert.equal(await page.getAttribute('[data-testid="tab-head"]', 'aria-selected'), 'true');
    assert.ok(await page.isHidden('[data-testid="focus-heatmap"]'), 'the focus view is still shown');
    const [all] = await canvasPixels(page, 'head-view');
    assertDrawn(all, 'head view');
    assert.equal(await page.locator('[data-testid="head-chip"]').count(), 12);
    await page.screenshot({ path: join(artifacts, 'head-view.png'), fullPage: true });

    await page.selectOption('[data-testid="head-select"]', '2');
    await waitReady(page);
    const [one] = await canvasPixels(page, 'head-view');
    assert.notEqual(one.hash, all.hash, 'head 3 alone looks like all heads');
    const pressed = await page.$$eval('[data-testid="head-chip"]', (chips) => chips.map((c) => c.getAttribute('aria-pressed')));
    assert.deepEqual(pressed, Array.from({ length: 12 }, (_, h) => String(h === 2)));

    await page.click('[data-testid="head-chip"] >> nth=5');
    const [two] = await canvasPixels(page, 'head-view');
    assert.notEqual(two.hash, one.hash, 'toggling head 6 on changed nothing');
    await page.click('[data-testid="heads-none"]');
    const [none] = await canvasPixels(page, 'head-view');
    assert.ok(none.colours < two.colours, 'with no head shown, lines are still drawn');
    await page.click('[data-testid="heads-all"]');
  });

  it('isolates a token’s lines on hover and with the keyboard', async () => {
    const [all] = await canvasPixels(page, 'head-view');
    const view = page.locator('[data-testid="head-view"]');
    await view.scrollIntoViewIfNeeded();
    const box = await view.boundingBox();
    await page.mouse.move(box.x + 30, box.y + 26 + 1.5 * 34); // the query "apple" (row 1)
    assert.match(await page.textContent('[data-testid="head-readout"]'), /^“apple” \(query\) looks most at /);
    const [isolated] = await canvasPixels(page, 'head-view');
    assert.notEqual(isolated.hash, all.hash, 'hovering a token did not isolate its lines');
    await view.screenshot({ path: join(artifacts, 'head-view-hover.png') });
    await page.mouse.move(0, 0);

    await page.focus('#head-view .scroll-box');
    await page.keyboard.press('ArrowDown');
    await page.keyboard.press('ArrowDown');
    assert.match(await page.textContent('[data-testid="head-readout"]'), /^“apple” \(query\)/);
    await page.keyboard.press('Escape');
  });

  it('draws the model view; clicking a cell or pressing Enter on it selects that layer and head', async () => {
    await page.click('[data-testid="tab-model"]');
    await waitReady(page);
    const [grid] = await canvasPixels(page, 'model-view');
    assertDrawn(grid, 'model view', 40);
    await page.screenshot({ path: join(artifacts, 'model-view.png'), fullPage: true });

    await clickModelCell(page, 1, 4);
    await waitReady(page);
    assert.equal(await page.inputValue('[data-testid="layer-select"]'), '1');
    assert.equal(await page.inputValue('[data-testid="head-select"]'), '4');
    const [selected] = await canvasPixels(page, 'model-view');
    assert.notEqual(selected.hash, grid.hash, 'the selection outline did not move');

    await page.focus('[data-testid="model-view"]');
    await page.keyboard.press('ArrowDown');
    await page.keyboard.press('ArrowRight');
    await page.keyboard.press('Enter');
    await waitReady(page);
    assert.equal(await page.inputValue('[data-testid="layer-select"]'), '2');
    assert.equal(await page.inputValue('[data-testid="head-select"]'), '5');
    assert.match(await page.textContent('[data-testid="model-readout"]'), /^Layer 3, head 6: /);

    // The other views follow.
    await page.click('[data-testid="tab-focus"]');
    await waitReady(page);
    assert.match(await page.getAttribute('[data-testid="focus-heatmap"]', 'aria-label'), /layer 3, head 6/);
  });

  it('keeps the state in the URL, and a URL restores it', { timeout: READY_TIMEOUT_MS + 30_000 }, async () => {
    await page.keyboard.press('Escape');
    await page.focus('[data-testid="tab-focus"]');
    await page.keyboard.press('ArrowRight'); // tabs follow the arrow keys
    await waitReady(page);
    assert.equal(await page.getAttribute('[data-testid="tab-head"]', 'aria-selected'), 'true');
    await page.waitForFunction(() => new URL(location.href).searchParams.get('view') === 'head');
    const params = new URL(page.url()).searchParams;
    assert.deepEqual(params.getAll('s'), ['Apple is huge enterprise', 'I am eating an apple']);
    assert.equal(params.get('focus'), 'apple');
    assert.equal(params.get('layer'), '3');
    assert.equal(params.get('head'), '6');

    const shared = new URL(session.url);
    for (const s of ['The cat sat on the mat', 'Dogs bark at the cat']) shared.searchParams.append('s', s);
    Object.entries({ focus: 'cat', layer: '2', head: 'max', view: 'model', sentence: '2' }).forEach(([k, v]) => shared.searchParams.set(k, v));
    const restored = await session.open(shared.search);
    assert.deepEqual(await restored.$$eval(INPUT, (inputs) => inputs.map((i) => i.value)), ['The cat sat on the mat', 'Dogs bark at the cat']);
    assert.equal(await restored.inputValue('[data-testid="focus-input"]'), 'cat');
    assert.equal(await restored.inputValue('[data-testid="layer-select"]'), '1');
    assert.equal(await restored.inputValue('[data-testid="head-select"]'), 'max');
    assert.equal(await restored.inputValue('[data-testid="sentence-select"]'), '1');
    assert.equal(await restored.getAttribute('[data-testid="tab-model"]', 'aria-selected'), 'true');
    assert.match(await restored.getAttribute('[data-testid="model-view"]', 'aria-label'), /^Model view of sentence 2: .*Selected: layer 2, max of 12 heads\. “cat” attends most to /);
    assertDrawn((await canvasPixels(restored, 'model-view'))[0], 'restored model view', 40);
    await restored.close();
  });

  it('gives every canvas a text alternative naming what the focus word attends to', async () => {
    for (const [tab, testId] of [['tab-focus', 'focus-heatmap'], ['tab-head', 'head-view'], ['tab-model', 'model-view']]) {
      await page.click(`[data-testid="${tab}"]`);
      await waitReady(page);
      const label = await page.getAttribute(`[data-testid="${testId}"]`, 'aria-label');
      assert.match(label, /“apple” attends most to \S+ \(0\.\d\d\), /, `${testId}: ${label}`);
    }
  });

  it('draws every view in the dark theme too', async () => {
    await page.selectOption('[data-testid="head-select"]', 'mean');
    await page.selectOption('[data-testid="layer-select"]', '5');
    await waitReady(page);
    const readings = {};
    for (const scheme of ['light', 'dark']) {
      await page.emulateMedia({ colorScheme: scheme });
      for (const [tab, testId, shot] of [['tab-focus', 'focus-heatmap', 'focus-view'], ['tab-head', 'head-view', 'head-view'], ['tab-model', 'model-view', 'model-view']]) {
        await page.click(`[data-testid="${tab}"]`);
        await waitReady(page);
        readings[`${testId}-${scheme}`] = (await canvasPixels(page, testId))[0];
        if (scheme === 'dark') await page.screenshot({ path: join(artifacts, `${shot}-dark.png`), fullPage: true });
      }
    }
    for (const testId of ['focus-heatmap', 'head-view', 'model-view']) {
      assertDrawn(readings[`${testId}-dark`], `${testId} (dark)`);
      assert.notEqual(readings[`${testId}-dark`].hash, readings[`${testId}-light`].hash, `${testId} ignores the dark theme`);
    }
    await page.emulateMedia({ colorScheme: 'light' });
  });

  it('logged no console errors', () => {
    session.assertNoProblems();
  });
});
