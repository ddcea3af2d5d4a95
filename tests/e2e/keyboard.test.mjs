// End-to-end test of the heatmap by keyboard (issue 16, item 6): in a focused heatmap the arrow keys
// move a cell cursor whose read-out is the hover's (the value checked against the engine's own
// attention, printed natively by `bertscope attention`), Enter makes the cursor's row the focus
// word, Escape hides the cursor.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { engineAttention, lastLayerMean, READY_TIMEOUT_MS, urlWith, useSession } from './helpers.mjs';

const SENTENCES = ['Apple is huge enterprise', 'I am eating an apple'];
const CARD = '#focus-view article >> nth=0';

const session = useSession();

describe('the heatmap by keyboard', () => {
  it('arrow keys move a cell cursor with the read-out, Enter focuses its row, Escape hides it', { timeout: READY_TIMEOUT_MS }, async () => {
    const attention = engineAttention(SENTENCES);
    const tokens = attention.tokens[0];
    const mean = lastLayerMean(attention, 0);
    const page = await session.open(`?${new URLSearchParams([...SENTENCES.map((s) => ['s', s]), ['focus', 'apple'], ['compare', 'off']])}`);
    const card = page.locator(CARD);
    const readout = card.locator('[data-testid="heatmap-readout"]');
    const idle = await readout.textContent();
    await card.locator('.scroll-box').focus();
    const before = await page.evaluate(() => document.querySelector('#focus-view article .scroll-box').scrollTop);

    // The first arrow shows the cursor on the focus word's row, first column.
    await page.keyboard.press('ArrowDown');
    const cell = async (row, col) => {
      const text = await readout.textContent();
      const match = /^(\d\.\d{4}) · query “(.*)” \(#(\d+)\) → key “(.*)” \(#(\d+)\)$/.exec(text);
      assert.ok(match, `the read-out says: ${text}`);
      assert.deepEqual([match[2], Number(match[3]), match[4], Number(match[5])], [tokens[row], row + 1, tokens[col], col + 1]);
      assert.ok(Math.abs(Number(match[1]) - mean[row][col]) <= 0.00005 + 2e-4, `${text}: the engine says ${mean[row][col]}`);
    };
    await cell(1, 0);
    for (let i = 0; i < 4; i++) await page.keyboard.press('ArrowRight');
    await cell(1, 4);
    await page.keyboard.press('ArrowDown');
    await page.keyboard.press('ArrowDown');
    await cell(3, 4);
    await page.keyboard.press('Home');
    await cell(3, 0);
    await page.keyboard.press('ArrowRight');
    assert.equal(await page.evaluate(() => document.querySelector('#focus-view article .scroll-box').scrollTop), before, 'the arrows scrolled the box instead of moving the cursor');

    // Enter: the cursor's row ("huge") becomes the focus word, everywhere.
    await page.keyboard.press('Enter');
    await urlWith(page, { focus: 'huge' });
    assert.equal(await page.inputValue('[data-testid="focus-input"]'), 'huge');
    await page.waitForFunction(() => document.querySelector('#focus-view [data-testid="focus-summary"]')?.textContent.startsWith('huge → '));

    // Escape hides the cursor: the read-out is idle again.
    await card.locator('.scroll-box').focus();
    await page.keyboard.press('ArrowUp');
    await page.keyboard.press('Escape');
    assert.equal(await readout.textContent(), idle);
    session.assertNoProblems();
    await page.close();
  });

  it('Enter on a word-piece’s row focuses its whole word', { timeout: READY_TIMEOUT_MS }, async () => {
    const page = await session.open(`?${new URLSearchParams([['s', 'Tokenization is fun'], ['focus', 'fun'], ['compare', 'off']])}`);
    const card = page.locator(CARD);
    await card.locator('.scroll-box').focus();
    // The cursor starts on the focus word's row ("fun", #5); up three rows is "##ization" (#3).
    await page.keyboard.press('ArrowDown');
    for (let i = 0; i < 2; i++) await page.keyboard.press('ArrowUp');
    assert.match(await card.locator('[data-testid="heatmap-readout"]').textContent(), /query “##ization” \(#3\)/);
    await page.keyboard.press('Enter');
    await urlWith(page, { focus: 'tokenization' });
    await page.waitForFunction(() => document.querySelector('#focus-view [data-testid="focus-summary"]')?.textContent.startsWith('tokenization → '));
    session.assertNoProblems();
    await page.close();
  });
});
