// End-to-end tests of word-level focus in every view (issue 16, item 1): the rollout strips of a
// word of two pieces ("tokenization" = `token ##ization`) are the mean of its pieces' rows of the
// engine's own rollout (printed natively by `bertscope rollout`), the head view and the model view
// mark both pieces (read from the canvas pixels), and the "show pieces" switch shows each piece's
// own row instead, in the focus and rollout views and in the link.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { dist, downloadOf, engineAttention, engineRollout, lastLayerMean, READY_TIMEOUT_MS, runCli, urlWith, useSession, waitReady } from './helpers.mjs';

const PIECES = 'Tokenization is fun';
const OTHER = 'I like tokenization';
/** Chips print two decimals; wasm and native attention differ by up to 2e-4. */
const CHIP_TOLERANCE = 0.005 + 2e-4;
/** Wasm and native numbers differ by up to this much. */
const WASM_TOLERANCE = 2e-4;

const session = useSession();

/** The mean of rows `[start, end)` of a square matrix. */
function meanRow(matrix, start, end) {
  return matrix[0].map((_, k) => matrix.slice(start, end).reduce((sum, row) => sum + row[k], 0) / (end - start));
}

/** The page's accent colour (what the focus word is drawn in) as [r, g, b]. */
async function accent(page) {
  const hex = (await page.evaluate(() => getComputedStyle(document.documentElement).getPropertyValue('--accent'))).trim();
  assert.match(hex, /^#[0-9a-f]{6}$/i);
  return [1, 3, 5].map((i) => parseInt(hex.slice(i, i + 2), 16));
}

/** The rollout export's records of the page's rollout view. */
async function rolloutRecords(page) {
  return JSON.parse((await downloadOf(page, 'export-json')).bytes.toString('utf8')).records;
}

/** Switches to view `tab` and waits until it is drawn. */
async function showTab(page, tab) {
  await page.click(`[data-testid="tab-${tab}"]`);
  await waitReady(page);
}

/**
 * Per token row of the head view's query column: how many pixels are drawn in (near) `colour`.
 * The canvas names its layout in data attributes (top, rowHeight, leftX).
 */
function headLabelPixels(page, colour, rows) {
  return page.$eval(
    '[data-testid="head-view"]',
    (canvas, [colour, rows]) => {
      const scale = canvas.width / canvas.getBoundingClientRect().width;
      const { top, rowHeight, leftX } = Object.fromEntries(Object.entries(canvas.dataset).map(([k, v]) => [k, Number(v)]));
      const ctx = canvas.getContext('2d');
      return Array.from({ length: rows }, (_, i) => {
        const y0 = Math.round((top + i * rowHeight) * scale);
        const h = Math.round(rowHeight * scale);
        const { data } = ctx.getImageData(0, y0, Math.round(leftX * scale), h);
        let near = 0;
        for (let p = 0; p < data.length; p += 4) if (Math.abs(data[p] - colour[0]) + Math.abs(data[p + 1] - colour[1]) + Math.abs(data[p + 2] - colour[2]) < 60) near++;
        return near;
      });
    },
    [colour, rows],
  );
}

/**
 * In the model view, beside map (`layer`, `head`): per token row of `len`, whether the mark column
 * (in the gap left of the map) is drawn in `colour` at the middle of that row.
 */
function modelMarks(page, colour, layer, head, len) {
  return page.$eval(
    '[data-testid="model-view"]',
    (canvas, [colour, layer, head, len]) => {
      const scale = canvas.width / canvas.getBoundingClientRect().width;
      const { left, top, cell, gap } = Object.fromEntries(Object.entries(canvas.dataset).map(([k, v]) => [k, Number(v)]));
      const x = left + head * (cell + gap) - gap + 2;
      const y = top + layer * (cell + gap);
      const ctx = canvas.getContext('2d');
      return Array.from({ length: len }, (_, i) => {
        const { data } = ctx.getImageData(Math.round(x * scale), Math.round((y + ((i + 0.5) / len) * cell) * scale), 1, 1);
        return Math.abs(data[0] - colour[0]) + Math.abs(data[1] - colour[1]) + Math.abs(data[2] - colour[2]) < 30;
      });
    },
    [colour, layer, head, len],
  );
}

describe('a word of several pieces in every view', { concurrency: false }, () => {
  it('rollout strips are the mean of the pieces’ rows; the head and model views mark both pieces', { timeout: READY_TIMEOUT_MS }, async () => {
    const reference = engineRollout([PIECES, OTHER]);
    const page = await session.open(`?${new URLSearchParams([['s', PIECES], ['s', OTHER], ['focus', 'tokenization'], ['view', 'rollout']])}`);
    await page.waitForSelector('[data-testid="rollout-summary"]:not(:empty)');
    // At the last layer (the page's), then through layer 1, where the two pieces' rows differ most.
    for (const layer of [6, 1]) {
      if (layer !== 6) {
        await page.locator('[data-testid="rollout-layer"]').fill(String(layer));
        await page.waitForFunction((l) => document.querySelector('[data-testid="rollout-layer-value"]')?.textContent.startsWith(`${l} of`), layer);
      }
      const records = await rolloutRecords(page);
      for (let s = 0; s < 2; s++) {
        const start = reference.tokens[s].indexOf('token');
        assert.equal(reference.tokens[s][start + 1], '##ization');
        const matrix = reference.rollout[s][layer - 1];
        const want = meanRow(matrix, start, start + 2);
        const got = records.filter((r) => r.sentence === s + 1 && r.measure === `rollout · to layer ${layer}`);
        assert.equal(got.length, reference.tokens[s].filter((t) => t !== '[PAD]').length, `sentence ${s + 1}: one rollout value per token`);
        got.forEach((r) => {
          assert.equal(r.focus_token, 'tokenization');
          assert.ok(Math.abs(r.weight - want[r.key - 1]) <= WASM_TOLERANCE, `rollout to layer ${layer}, sentence ${s + 1}, key ${r.key}: page ${r.weight}, engine ${want[r.key - 1]}`);
        });
        // Not the first piece's row alone: the test tells the word from its first piece.
        assert.ok(want.some((v, k) => Math.abs(v - matrix[start][k]) > 20 * WASM_TOLERANCE), `layer ${layer}: the word row and its first piece’s row look alike`);
      }
    }

    const colour = await accent(page);
    await showTab(page, 'head');
    const lit = await headLabelPixels(page, colour, 6);
    lit.forEach((count, i) => {
      if (i === 1 || i === 2) assert.ok(count > 10, `head view: piece ${i} of “tokenization” is not in the accent colour (${count} pixels)`);
      else assert.equal(count, 0, `head view: token ${i} is drawn in the accent colour`);
    });

    await showTab(page, 'model');
    for (const [layer, head] of [[0, 0], [5, 11], [2, 7]]) {
      assert.deepEqual(await modelMarks(page, colour, layer, head, 6), [false, true, true, false, false, false], `model view, layer ${layer + 1} head ${head + 1}: marks beside both pieces only`);
    }
    // The 2nd "bank": one mark, at its own row; the embed snippet names the occurrence.
    await page.goto(`${session.url}?${new URLSearchParams([['s', 'The bank near the river bank flooded'], ['focus', 'bank'], ['nth', '2'], ['view', 'model']])}`);
    await waitReady(page);
    assert.deepEqual(await modelMarks(page, colour, 3, 3, 9), [false, false, false, false, false, false, true, false, false]);
    await page.click('[data-testid="copy-embed"]');
    assert.match(await page.inputValue('[data-testid="embed-snippet"]'), / focus="bank" focus-nth="2" /);
    session.assertNoProblems();
    await page.close();
  });

  it('the pieces switch shows each piece’s own row, in the focus and rollout views and the link', { timeout: READY_TIMEOUT_MS }, async () => {
    const attention = engineAttention([PIECES]);
    const rollout = engineRollout([PIECES]);
    const page = await session.open(`?${new URLSearchParams([['s', PIECES], ['focus', 'tokenization'], ['compare', 'off']])}`);
    assert.equal(await page.$$eval('[data-testid="piece-strips"]', (e) => e.length), 0, 'pieces shown before the switch');
    await page.check('[data-testid="show-pieces"]');
    const url = await urlWith(page, { pieces: 'on' });
    const strips = await page.$$eval('#focus-view article [data-testid="piece-strips"]', (boxes) =>
      boxes.map((box) => ({
        piece: box.dataset.piece,
        chips: Array.from(box.querySelectorAll('[data-testid="focus-strip"][data-measure="raw"] .chip'), (c) => [c.querySelector('.chip-token').textContent, Number(c.querySelector('.chip-weight').textContent), c.classList.contains('chip-focus')]),
      })),
    );
    const tokens = attention.tokens[0];
    const mean = lastLayerMean(attention, 0);
    assert.deepEqual(strips.map((s) => s.piece), ['token', '##ization']);
    strips.forEach((strip, p) => {
      assert.deepEqual(strip.chips.map(([t]) => t), tokens, `piece ${strip.piece}: one chip per token`);
      assert.deepEqual(strip.chips.map(([, , f]) => f), tokens.map((_, k) => k === 1 + p), `piece ${strip.piece}: its own chip is the focus`);
      strip.chips.forEach(([t, v], k) => assert.ok(Math.abs(v - mean[1 + p][k]) <= CHIP_TOLERANCE, `${strip.piece} → ${t}: page ${v}, engine ${mean[1 + p][k]}`));
    });
    const summary = await page.textContent('#focus-view [data-testid="focus-summary"]');
    assert.match(summary, /^token → .+ \(\d\.\d\d\) · ##ization → .+ \(\d\.\d\d\)$/);

    await showTab(page, 'rollout');
    await page.waitForSelector('[data-testid="rollout-summary"]:not(:empty)');
    assert.match(await page.textContent('[data-testid="rollout-summary"]'), /^token · raw · layer 6, mean (of )?12 heads: token → .* · ##ization · rollout · to layer 6: ##ization → /);
    const records = await rolloutRecords(page);
    const last = rollout.rollout[0].at(-1);
    for (const [p, piece] of ['token', '##ization'].entries()) {
      const rows = records.filter((r) => r.measure.startsWith(`${piece} · rollout`));
      assert.equal(rows.length, tokens.length, `rollout rows of ${piece}`);
      assert.ok(rows.every((r) => r.focus_token === piece), `rollout rows of ${piece} name another focus`);
      rows.forEach((r) => assert.ok(Math.abs(r.weight - last[1 + p][r.key - 1]) <= WASM_TOLERANCE, `${piece} rollout, key ${r.key}: page ${r.weight}, engine ${last[1 + p][r.key - 1]}`));
    }

    // The embed snippet asks the widget for the pieces too.
    await page.click('[data-testid="copy-embed"]');
    assert.match(await page.inputValue('[data-testid="embed-snippet"]'), / focus="tokenization" .* pieces=""/);

    // The link opens with the pieces shown; switching off goes back to the word row.
    const again = await session.open(url.slice(session.url.length));
    assert.equal(await again.isChecked('[data-testid="show-pieces"]'), true);
    assert.equal(await again.$$eval('#focus-view [data-testid="piece-strips"]', (e) => e.length), 2);
    await again.uncheck('[data-testid="show-pieces"]');
    await urlWith(again, { pieces: null });
    assert.equal(await again.$$eval('#focus-view [data-testid="piece-strips"]', (e) => e.length), 0);
    assert.match(await again.textContent('#focus-view [data-testid="focus-summary"]'), /^tokenization → /);
    session.assertNoProblems();
    await again.close();
    await page.close();
  });

  it('one rule for what a word is: the engine’s, in every view (a word JavaScript and Rust would trim apart)', { timeout: READY_TIMEOUT_MS }, async () => {
    // U+FEFF is whitespace to JavaScript's trim() but not to Rust's: a page that looked words up
    // itself would find "bank" here, where drift and the CLI (bertscope-core) do not.
    const typed = 'bank\uFEFF';
    const banks = 'The bank near the river bank flooded';
    const page = await session.open(`?${new URLSearchParams([['s', banks], ['s', 'A bank'], ['focus', typed], ['compare', 'off']])}`);
    const said = `“${typed}” is not in this sentence.`;
    assert.deepEqual(await page.$$eval('#focus-view [data-testid="focus-summary"]', (e) => e.map((x) => x.textContent)), [said, said]);
    assert.deepEqual(await page.$$eval('[data-testid="token-table"] .tok-focus', (e) => e.length), 0, 'the token table marks a word the engine did not find');
    await showTab(page, 'rollout');
    await page.waitForFunction((text) => document.querySelector('[data-testid="rollout-summary"]')?.textContent === text, said);
    await showTab(page, 'drift');
    assert.equal(await page.$$eval('[data-testid="drift-table"] tbody tr', (rows) => rows.length), 0, 'drift found the word');
    // The CLI, on the same rule.
    const model = `${dist}/models/default`;
    let failure = '';
    try {
      runCli(['drift', '--model', `${model}/model.onnx`, '--text', banks, '--text', 'A bank', '--word', typed]);
    } catch (e) {
      failure = String(e.stderr ?? e.message);
    }
    assert.match(failure, /sentence 1/, 'the CLI found the word in sentence 1');
    // And the plain word is found by all of them.
    await page.fill('[data-testid="focus-input"]', 'bank');
    await urlWith(page, { focus: 'bank' });
    await page.waitForFunction(() => document.querySelectorAll('[data-testid="drift-table"] tbody tr').length === 1);
    session.assertNoProblems();
    await page.close();
  });
});
