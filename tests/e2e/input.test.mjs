// End-to-end tests of awkward input: an empty sentence, one past the model's 512 tokens, emoji,
// Korean, and text that looks like HTML (it must stay text). Each shows the right words on screen,
// keeps the status `ready`, and logs no console error.
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { artifacts, assertDrawn, canvasPixels, fillAndWait, READY_TIMEOUT_MS, tokenTables, useSession, waitReady } from './helpers.mjs';

const session = useSession();

const FIRST = '[data-testid="sentence-input"] >> nth=0';
const SECOND = '[data-testid="sentence-input"] >> nth=1';
const notices = (page) => page.$$eval('[data-testid="notices"] li', (items) => items.map((li) => li.textContent));
const summaries = (page) => page.$$eval('[data-testid="focus-summary"]', (ps) => ps.map((p) => p.textContent));

describe('awkward input', { concurrency: false }, () => {
  let page;

  it('loads', { timeout: READY_TIMEOUT_MS + 30_000 }, async () => {
    page = await session.open();
  });

  it('says plainly that an empty (or blank) sentence is empty', async () => {
    await fillAndWait(page, SECOND, '   ');
    const [, second] = await summaries(page);
    assert.equal(second, 'Sentence 2 is empty: type a few words to see where they look.');
    assert.deepEqual(await notices(page), ['Sentence 2 is empty: it shows only the [CLS] and [SEP] tokens the model adds.']);
    assert.equal((await canvasPixels(page, 'focus-heatmap')).length, 1, 'a heatmap is drawn for the empty sentence');
    await page.click('[data-testid="tab-head"]');
    await page.selectOption('[data-testid="sentence-select"]', '1');
    await waitReady(page);
    assert.equal(await page.textContent('#head-view .focus-summary'), 'Sentence 2 is empty: type a few words to see its heads.');
    await page.click('[data-testid="tab-model"]');
    await waitReady(page);
    assert.equal(await page.textContent('#model-view .focus-summary'), 'Sentence 2 is empty: type a few words to see its heads.');
    await page.selectOption('[data-testid="sentence-select"]', '0');
    await page.click('[data-testid="tab-focus"]');
    await fillAndWait(page, SECOND, 'I am eating an apple');
    assert.deepEqual(await notices(page), []);
  });

  it('cuts a 600-token sentence to 512 tokens, says so, and stays readable', { timeout: 120_000 }, async () => {
    const words = 'the apple tree grows near a quiet river'.split(' ');
    const long = Array.from({ length: 600 }, (_, i) => words[i % words.length]).join(' ');
    await fillAndWait(page, FIRST, long);
    assert.deepEqual(await notices(page), ['Sentence 1 was cut to 512 tokens, the most the model takes; the rest is not shown.']);
    const tables = await tokenTables(page);
    assert.equal(tables[0].tokens.length, 512);
    assert.equal(tables[0].tokens.at(-1), '[SEP]');
    assert.match(await page.textContent('[data-testid="token-table"] .note'), /cut to 512 tokens/);

    // The heatmap scrolls rather than shrinking its labels; zoom changes the cell size.
    const heatmap = page.locator('[data-testid="focus-heatmap"] >> nth=0');
    const cell = Number(await heatmap.getAttribute('data-cell'));
    assert.ok(cell >= 15, `cells are ${cell} px at 512 tokens`);
    const box = page.locator('[data-testid="focus-heatmap"] >> nth=0 >> xpath=ancestor::div[contains(@class,"scroll-box")]');
    const { scrollWidth, clientWidth } = await box.evaluate((b) => ({ scrollWidth: b.scrollWidth, clientWidth: b.clientWidth }));
    assert.ok(scrollWidth > clientWidth * 4, `the 512-token heatmap does not scroll (${scrollWidth} in ${clientWidth})`);
    assertDrawn((await canvasPixels(page, 'focus-heatmap'))[0], 'the 512-token heatmap');
    await page.screenshot({ path: join(artifacts, 'long-sentence.png'), fullPage: true });

    await page.click('[data-testid="zoom-out"] >> nth=0');
    assert.equal(await page.textContent('[data-testid="zoom-level"] >> nth=0'), '70%');
    assert.ok(Number(await heatmap.getAttribute('data-cell')) < cell);
    await box.evaluate((b) => b.scrollTo(b.scrollWidth / 2, b.scrollHeight / 2));
    await page.waitForTimeout(100);
    await heatmap.screenshot({ path: join(artifacts, 'long-sentence-scrolled.png') });

    for (const [tab, testId, shot] of [['tab-head', 'head-view', 'long-head-view'], ['tab-model', 'model-view', 'long-model-view']]) {
      await page.click(`[data-testid="${tab}"]`);
      await waitReady(page);
      assertDrawn((await canvasPixels(page, testId))[0], `${testId} at 512 tokens`);
      await page.locator(`#panel-${tab.slice(4)}`).screenshot({ path: join(artifacts, `${shot}.png`) });
    }
    await page.click('[data-testid="tab-focus"]');
    await fillAndWait(page, FIRST, 'Apple is huge enterprise');
  });

  it('shows emoji as [UNK] tokens and says why', async () => {
    await fillAndWait(page, FIRST, 'I love 🍎 and 🚀');
    const [first] = await tokenTables(page);
    assert.deepEqual(first.tokens.slice(0, 7), ['[CLS]', 'i', 'love', '[UNK]', 'and', '[UNK]', '[SEP]']);
    assert.deepEqual(await notices(page), [
      "Sentence 1 has 2 pieces the model's vocabulary does not know (emoji, rare scripts); they show as [UNK].",
    ]);
    assert.equal((await summaries(page))[0], '“apple” is not in this sentence.');
  });

  it('splits Korean into the pieces the model knows', async () => {
    await fillAndWait(page, FIRST, '나는 사과를 먹고 있다');
    const [first] = await tokenTables(page);
    assert.equal(first.tokens[0], '[CLS]');
    assert.ok(first.tokens.filter((t) => t !== '[PAD]').length > 6, `only ${first.tokens.join(' ')}`);
    assert.match((await tokenTables(page))[0].caption, /나는 사과를 먹고 있다/);
    for (const notice of await notices(page)) assert.match(notice, /^Sentence 1 has \d+ pieces? the model's vocabulary does not know/);
    assertDrawn((await canvasPixels(page, 'focus-heatmap'))[0], 'the Korean heatmap');
  });

  it('keeps HTML-looking text inert: shown literally, never run', async () => {
    const script = '<script>alert(1)</script>';
    const img = '"><img src=x onerror=alert(1)>';
    await page.fill(FIRST, script);
    await fillAndWait(page, SECOND, img);
    await page.fill('[data-testid="focus-input"]', img);
    for (const tab of ['tab-head', 'tab-model', 'tab-focus']) {
      await page.click(`[data-testid="${tab}"]`);
      await waitReady(page);
    }
    await page.waitForTimeout(300);
    const tables = await tokenTables(page);
    assert.equal(tables[0].caption, `Sentence 1: “${script}”`);
    assert.equal(tables[1].caption, `Sentence 2: “${img}”`);
    assert.deepEqual(tables[0].tokens.slice(0, 4), ['[CLS]', '<', 'script', '>']);
    const titles = await page.$$eval('.sentence-title', (hs) => hs.map((h) => h.textContent));
    assert.deepEqual(titles, [`1. “${script}”`, `2. “${img}”`]);
    assert.equal(await page.locator('img').count(), 0, 'an <img> element was created');
    assert.equal(await page.locator('main script').count(), 0, 'a <script> element was created');
    assert.equal(await page.evaluate(() => document.querySelectorAll('body *[onerror]').length), 0);
    await page.screenshot({ path: join(artifacts, 'html-as-text.png'), fullPage: true });
  });

  it('runs text with a lone surrogate from JS (it reaches the engine as U+FFFD, which the normalizer drops)', async () => {
    await page.fill(FIRST, 'Apple is huge enterprise');
    await page.$eval(SECOND, (input) => {
      input.value = 'apple \uD800 pie \uDC00';
      input.dispatchEvent(new Event('input', { bubbles: true }));
    });
    await waitReady(page);
    const tables = await tokenTables(page);
    const { tokens, mask } = tables[1];
    assert.deepEqual(tokens.filter((_, i) => mask[i] === 1), ['[CLS]', 'apple', 'pie', '[SEP]']);
    assert.equal((await canvasPixels(page, 'focus-heatmap')).length, 2);
  });

  it('logged no console errors and opened no dialog', () => {
    session.assertNoProblems();
  });
});
