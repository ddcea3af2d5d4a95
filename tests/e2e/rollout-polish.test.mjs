// End-to-end tests of the rollout view's and the token map's last smaller promises (issue 16, item 7):
// the flow button is one of the page's buttons in dark mode too; the strips write every token label
// and every row name in full, inside its own column, on a 390 px phone and on a desktop; the summary
// says where the focus word looks besides itself and what it takes from itself, with the engine's
// numbers; a strip cell or a token-map point, clicked or reached with the arrow keys and Enter,
// makes its word the focus word. Saves phone screenshots of the rollout cards (rollout-phone-*.png).
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { watchPage } from '../lib/environment.mjs';
import { artifacts, engineRollout, READY_TIMEOUT_MS, urlWith, useSession, waitReady } from './helpers.mjs';

const PHONE = { width: 390, height: 844 };
const SENTENCES = ['Apple is huge enterprise', 'I am eating an apple'];

/**
 * Run in the page before its scripts: every `fillText` on a canvas is recorded in
 * `window.__texts` as its text and the box it covers (CSS pixels of its canvas, through the
 * rotation it was written with), with the canvas's test id and sentence card.
 */
function recordTexts() {
  window.__texts = [];
  const fillText = CanvasRenderingContext2D.prototype.fillText;
  CanvasRenderingContext2D.prototype.fillText = function (text, x, y, ...rest) {
    const canvas = this.canvas;
    const width = this.measureText(text).width;
    const [from, to] = this.textAlign === 'center' ? [-width / 2, width / 2] : this.textAlign === 'right' || this.textAlign === 'end' ? [-width, 0] : [0, width];
    const m = this.getTransform();
    const scale = canvas.width / Math.max(1, canvas.getBoundingClientRect().width || canvas.width);
    const at = (dx) => [(m.a * (x + dx) + m.c * y + m.e) / scale, (m.b * (x + dx) + m.d * y + m.f) / scale];
    const [x0, y0] = at(from);
    const [x1, y1] = at(to);
    window.__texts.push({
      canvas: canvas.dataset.testid ?? '',
      sentence: canvas.closest('[data-sentence]')?.dataset.sentence ?? '',
      text: String(text),
      left: Math.min(x0, x1),
      right: Math.max(x0, x1),
      top: Math.min(y0, y1),
      bottom: Math.max(y0, y1),
      upright: Math.abs(m.b) > Math.abs(m.a),
    });
    return fillText.call(this, text, x, y, ...rest);
  };
}

const session = useSession({ init: recordTexts });

/** A watched page on a 390×844 touch screen in `colorScheme`, recording canvas texts. */
async function phonePage(colorScheme) {
  const context = await session.browser.newContext({ viewport: PHONE, deviceScaleFactor: 2, isMobile: true, hasTouch: true, colorScheme });
  await context.addInitScript(recordTexts);
  return { context, page: watchPage(await context.newPage(), (problem) => session.problems.push(problem)) };
}

/** The page's rollout tab for `sentences` and `focus` (more link parameters in `extra`), once the summaries are computed. */
async function openRollout(page, sentences, focus, extra = []) {
  await page.goto(`${session.url}?${new URLSearchParams([...sentences.map((s) => ['s', s]), ['focus', focus], ['view', 'rollout'], ...extra])}`);
  await waitReady(page);
  await page.waitForFunction(() => {
    const summaries = [...document.querySelectorAll('[data-testid="rollout-summary"]')];
    return summaries.some((s) => s.textContent.includes('→')) && !summaries.some((s) => s.textContent === 'computing rollout…');
  });
}

/** The cells of sentence card `card`'s strips, row by row (CSS pixels in the canvas: x, y, w, h). */
async function cellsOf(page, card) {
  const marks = await page.getAttribute(`#rollout-view [data-sentence="${card}"] [data-testid="rollout-strips"]`, 'data-marks');
  return marks.split(';').map((m) => m.split(',').map(Number));
}

/** Draws sentence card `card`'s strips again (focusing them does) with the recorder emptied first; resolves to what they wrote. */
async function stripTexts(page, card) {
  const canvas = page.locator(`#rollout-view [data-sentence="${card}"] [data-testid="rollout-strips"]`);
  await page.evaluate(() => (window.__texts = []));
  await canvas.focus();
  const texts = await page.evaluate((c) => window.__texts.filter((t) => t.canvas === 'rollout-strips' && t.sentence === String(c)), card);
  await canvas.blur();
  return texts;
}

/**
 * Asserts card `card` writes each of `tokens` in full, once, inside its own column above the cells,
 * and `names` (the rows' names, line by line) in full left of the cells.
 */
async function assertStripWords(page, card, tokens, names, where) {
  const cells = await cellsOf(page, card);
  const texts = await stripTexts(page, card);
  const firstCell = cells[0];
  tokens.forEach((token, i) => {
    const [x, y, w] = cells[i];
    const label = texts.filter((t) => t.left >= x - 1.5 && t.right <= x + w + 1.5 && t.bottom <= y && (t.left + t.right) / 2 > x && (t.left + t.right) / 2 < x + w);
    assert.deepEqual(label.map((t) => t.text), [token], `${where}: the label above column ${i + 1} (cells from ${x} to ${x + w} px)`);
    assert.ok(label[0].top >= 0, `${where}: the label “${token}” starts above the canvas (${label[0].top})`);
  });
  const written = texts.filter((t) => t.right <= firstCell[0] && t.top >= firstCell[1] - 2).map((t) => t.text);
  // A name cut short, or running into the cells, is not among these; a long one may take more lines.
  assert.equal(written.join(' '), names.join(' '), `${where}: the row names`);
}

describe('the rollout strips and the token map', { concurrency: false }, () => {
  for (const scheme of ['light', 'dark']) {
    it(`at 390 px, ${scheme}: whole token labels and row names, strips that fit, a page-styled flow button`, { timeout: READY_TIMEOUT_MS }, async () => {
      const { context, page } = await phonePage(scheme);
      try {
        await openRollout(page, SENTENCES, 'apple');
        const [flow, tool] = await page.evaluate(() =>
          ['[data-testid="flow-button"]', '[data-testid="export-png"]'].map((s) => {
            const style = getComputedStyle(document.querySelector(s));
            return [style.backgroundColor, style.color, style.borderTopColor, style.borderRadius].join(' ');
          }),
        );
        assert.equal(flow, tool, 'the flow button looks like the page’s other buttons');
        const names = ['raw', 'layer 6, mean of 12 heads', 'rollout', 'to layer 6'];
        await assertStripWords(page, 0, ['[CLS]', 'apple', 'is', 'huge', 'enterprise', '[SEP]'], names, `${scheme}, sentence 1`);
        await assertStripWords(page, 1, ['[CLS]', 'i', 'am', 'eating', 'an', 'apple', '[SEP]'], names, `${scheme}, sentence 2`);
        assert.ok((await page.evaluate(() => document.scrollingElement.scrollWidth)) <= PHONE.width, 'the page scrolls sideways');
        // Short sentences: the name column wraps its names so the strips fit the card, no sideways scrolling.
        const widths = await page.$$eval('#rollout-view .strip-scroll', (boxes) => boxes.map((b) => [b.scrollWidth, b.clientWidth]));
        for (const [inner, outer] of widths) assert.ok(inner <= outer, `the strips are ${inner} px wide in a ${outer} px card`);
        await page.locator('#rollout-view').screenshot({ path: join(artifacts, `rollout-phone-${scheme}.png`) });
        session.assertNoProblems();
      } finally {
        await context.close();
      }
    });
  }

  it('on a desktop, with ALTI and word-pieces: whole labels and row names', { timeout: READY_TIMEOUT_MS * 2 }, async () => {
    const page = await session.newPage();
    await openRollout(page, ['Tokenization is hard to enterprise software'], 'tokenization', [['measure', 'alti'], ['pieces', 'on']]);
    const tokens = engineRollout(['Tokenization is hard to enterprise software']).tokens[0];
    const names = (piece) => [piece, 'ALTI · layer 6 as a whole (no per-head values)', piece, 'rollout · to layer 6', piece, 'ALTI rollout · to layer 6'];
    await assertStripWords(page, 0, tokens, [...names('token'), ...names('##ization')], 'desktop, ALTI, pieces');
    session.assertNoProblems();
    await page.close();
  });

  it('the summary names what the focus word takes from besides itself, then itself, with the engine’s numbers', { timeout: READY_TIMEOUT_MS }, async () => {
    const page = await session.newPage();
    const texts = [SENTENCES[0], 'Tokenization is hard'];
    await openRollout(page, texts, 'apple');
    const reference = engineRollout(texts);
    /** "[CLS] 0.73, [SEP] 0.15, is 0.03 (itself 0.04)" for the word of pieces `[start, end)` of sentence `s`, rollout to the last layer. */
    const expected = (s, start, end) => {
      const tokens = reference.tokens[s];
      const layer = reference.rollout[s].at(-1);
      const row = tokens.map((_, k) => layer.slice(start, end).reduce((sum, r) => sum + r[k], 0) / (end - start));
      const others = row
        .map((v, k) => ({ v, k }))
        .filter(({ k }) => k < start || k >= end)
        .sort((a, b) => b.v - a.v)
        .slice(0, 3);
      const itself = row.slice(start, end).reduce((a, b) => a + b, 0);
      return `${others.map(({ v, k }) => `${tokens[k]} ${v.toFixed(2)}`).join(', ')} (itself ${itself.toFixed(2)})`;
    };
    const summary = () => page.textContent('#rollout-view [data-sentence="0"] [data-testid="rollout-summary"]');
    const said = await summary();
    assert.ok(said.endsWith(`rollout · to layer 6: apple → ${expected(0, 1, 2)}`), said);
    assert.doesNotMatch(said, /→ [^(]*\bapple \d/, 'apple is listed among what it takes from besides itself');
    // A word of two pieces: neither piece listed; itself is both pieces' columns summed.
    await page.fill('[data-testid="focus-input"]', 'tokenization');
    await urlWith(page, { focus: 'tokenization' });
    await page.waitForFunction(() => document.querySelector('#rollout-view [data-sentence="1"] [data-testid="rollout-summary"]')?.textContent.includes('tokenization →'));
    const pieces = await page.textContent('#rollout-view [data-sentence="1"] [data-testid="rollout-summary"]');
    assert.deepEqual(reference.tokens[1].slice(1, 3), ['token', '##ization']);
    assert.ok(pieces.endsWith(`rollout · to layer 6: tokenization → ${expected(1, 1, 3)}`), pieces);
    assert.doesNotMatch(pieces, /→ [^(]*(token|##ization) \d/);
    session.assertNoProblems();
    await page.close();
  });

  it('a strip cell, clicked or reached with the keys and Enter, makes its word the focus word', { timeout: READY_TIMEOUT_MS }, async () => {
    const page = await session.newPage();
    await openRollout(page, ['The bank near the river bank flooded'], 'river');
    const canvas = page.locator('#rollout-view [data-sentence="0"] [data-testid="rollout-strips"]');
    await canvas.scrollIntoViewIfNeeded();
    // The rollout row's cell of the second "bank" (token 7 of [CLS] the bank near the river bank flooded [SEP]).
    const cells = await cellsOf(page, 0);
    const [x, y, w, h] = cells[9 + 6];
    const box = await canvas.boundingBox();
    await page.mouse.click(box.x + x + w / 2, box.y + y + h / 2);
    await urlWith(page, { focus: 'bank', nth: '2' });
    await page.waitForFunction(() => document.querySelector('#rollout-view [data-testid="rollout-summary"]')?.textContent.startsWith('raw · layer 6, mean of 12 heads: bank →'));
    // By keyboard: the first cell ([CLS]), three to the right ("near"), Enter.
    await canvas.focus();
    for (let i = 0; i < 3; i++) await page.keyboard.press('ArrowRight');
    assert.match(await page.textContent('[data-testid="rollout-readout"]'), /→ “near” \(#4\)$/);
    await page.keyboard.press('Enter');
    await urlWith(page, { focus: 'near', nth: null });
    session.assertNoProblems();
    await page.close();
  });

  it('a token-map point, clicked or reached with the keys and Enter, makes its word the focus word', { timeout: READY_TIMEOUT_MS }, async () => {
    const page = await session.newPage();
    await page.goto(`${session.url}?${new URLSearchParams([...SENTENCES.map((s) => ['s', s]), ['focus', 'apple'], ['view', 'drift']])}`);
    await waitReady(page);
    await page.waitForSelector('[data-testid="token-map"][data-marks]');
    const map = page.locator('[data-testid="token-map"]');
    await map.scrollIntoViewIfNeeded();
    const points = (await map.getAttribute('data-marks')).split(';').map((m) => m.split(',').map(Number));
    // Which point is "eating": the read-out names each point reached with the arrow keys.
    await map.focus();
    let eating = -1;
    for (let i = 0; i < points.length && eating < 0; i++) {
      if ((await page.textContent('[data-testid="tokenmap-readout"]')).startsWith('“eating” (sentence 2, token 4)')) eating = i;
      else await page.keyboard.press('ArrowRight');
    }
    assert.ok(eating >= 0, 'no point is “eating”');
    await page.keyboard.press('Enter');
    await urlWith(page, { focus: 'eating' });
    // By mouse: the point of "huge" (sentence 1, token 4), found the same way.
    await map.focus();
    await page.keyboard.press('Home');
    let huge = -1;
    for (let i = 0; i < points.length && huge < 0; i++) {
      if ((await page.textContent('[data-testid="tokenmap-readout"]')).startsWith('“huge” (sentence 1, token 4)')) huge = i;
      else await page.keyboard.press('ArrowRight');
    }
    assert.ok(huge >= 0, 'no point is “huge”');
    await map.blur();
    const box = await map.boundingBox();
    const marks = (await map.getAttribute('data-marks')).split(';').map((m) => m.split(',').map(Number));
    await page.mouse.click(box.x + marks[huge][0], box.y + marks[huge][1]);
    await urlWith(page, { focus: 'huge' });
    session.assertNoProblems();
    await page.close();
  });
});
