// End-to-end tests of word-level focus (issue 16, item 1): a word is its word-pieces together
// ("tokenization" = `token ##ization`), a repeated word is focused by its occurrence (the 2nd
// "bank"), which travels in the URL, and every view agrees on which tokens the word is. The
// numbers come from the engine's own attention, printed natively by `bertscope attention`; the
// word's row is computed here from them (mean over the pieces as queries, sum over the pieces as
// keys) and compared with what the page shows.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { downloadOf, engineAttention, lastLayerMean, READY_TIMEOUT_MS, tokenTables, urlWith, useSession, waitReady } from './helpers.mjs';

const PIECES = 'Tokenization is fun';
const BANKS = 'The bank near the river bank flooded';
/** Chips print two decimals; wasm and native attention differ by up to 2e-4. */
const CHIP_TOLERANCE = 0.005 + 2e-4;

/** The word of pieces `[start, end)`: the mean of their rows. */
function wordRow(matrix, start, end) {
  return matrix[0].map((_, k) => matrix.slice(start, end).reduce((sum, row) => sum + row[k], 0) / (end - start));
}

/** Per focus card: its summary and the chips of its raw-attention strip as [text, value, focused]. */
function focusCards(page) {
  return page.$$eval('#focus-view article', (articles) =>
    articles.map((a) => ({
      summary: a.querySelector('[data-testid="focus-summary"]')?.textContent ?? '',
      chips: Array.from(a.querySelectorAll('[data-testid="focus-strip"][data-measure="raw"] .chip'), (c) => [
        c.querySelector('.chip-token').textContent,
        Number(c.querySelector('.chip-weight').textContent),
        c.classList.contains('chip-focus'),
      ]),
    })),
  );
}

/** Per token table, the positions marked as the focus. */
function focusedTokens(page) {
  return page.$$eval('[data-testid="token-table"] table', (tables) =>
    tables.map((t) => Array.from(t.querySelectorAll('tr[data-row="tokens"] td'), (td, i) => (td.classList.contains('tok-focus') ? i : -1)).filter((i) => i >= 0)),
  );
}

const session = useSession();

/** The page at `?query`, ready. */
async function open(query) {
  return session.open(`?${query}`);
}

describe('word-level focus', { concurrency: false }, () => {
  it('"tokenization" is its two pieces: its row is their mean, and the word receives the sum over its pieces', { timeout: READY_TIMEOUT_MS }, async () => {
    const page = await open(new URLSearchParams([['s', PIECES], ['s', 'I like tokenization'], ['focus', 'tokenization']]).toString());
    const reference = engineAttention([PIECES, 'I like tokenization']);
    const tables = await tokenTables(page);
    assert.deepEqual(tables[0].tokens.slice(0, 6), ['[CLS]', 'token', '##ization', 'is', 'fun', '[SEP]']);
    assert.deepEqual(await focusedTokens(page), [[1, 2], [3, 4]], 'both pieces are the focus, in both sentences');
    const cards = await focusCards(page);
    cards.forEach((card, s) => {
      const tokens = reference.tokens[s];
      const start = tokens.indexOf('token');
      const row = wordRow(lastLayerMean(reference, s), start, start + 2);
      // The word's own chip and the others: specials and one-piece words as they are, pieces summed.
      const expected = [];
      for (let k = 0; k < reference.attention_mask[s].filter(Boolean).length; k++) {
        if (k === start) expected.push(['tokenization', row[k] + row[k + 1], true]);
        else if (k !== start + 1) expected.push([tokens[k], row[k], false]);
      }
      assert.deepEqual(card.chips.map(([t, , f]) => [t, f]), expected.map(([t, , f]) => [t, f]), `sentence ${s + 1}: one chip per word`);
      card.chips.forEach(([t, v], i) => assert.ok(Math.abs(v - expected[i][1]) <= CHIP_TOLERANCE, `sentence ${s + 1}, ${t}: page ${v}, engine ${expected[i][1]}`));
      const others = expected.filter(([t, , f]) => !f && !/^\[(CLS|SEP)\]$/.test(t)).sort((a, b) => b[1] - a[1]);
      assert.equal(card.summary, `tokenization → ${others[0][0]} (${others[0][1].toFixed(2)})`);
    });

    // The rollout view's first row is the same word row (all its numbers, from the export).
    await page.click('[data-testid="tab-rollout"]');
    await waitReady(page);
    await page.waitForSelector('[data-testid="rollout-summary"]:not(:empty)');
    const json = JSON.parse((await downloadOf(page, 'export-json')).bytes.toString('utf8'));
    for (let s = 0; s < 2; s++) {
      const records = json.records.filter((r) => r.sentence === s + 1 && r.measure.startsWith('raw'));
      const start = reference.tokens[s].indexOf('token');
      const row = wordRow(lastLayerMean(reference, s), start, start + 2);
      assert.equal(records.length, reference.attention_mask[s].filter(Boolean).length);
      records.forEach((r) => {
        assert.equal(r.focus_token, 'tokenization');
        assert.ok(Math.abs(r.weight - row[r.key - 1]) <= 2e-4, `rollout view, sentence ${s + 1}, key ${r.key}: ${r.weight} vs ${row[r.key - 1]}`);
      });
    }
    // Drift finds the word in both sentences (at its first piece) and compares them.
    await page.click('[data-testid="tab-drift"]');
    await waitReady(page);
    await page.waitForFunction(() => document.querySelectorAll('[data-testid="drift-table"] tbody tr').length > 0);
    const drift = JSON.parse((await downloadOf(page, 'export-json')).bytes.toString('utf8'));
    assert.ok(drift.records.length > 0, 'no drift of “tokenization”');
    assert.deepEqual([drift.records[0].token_a, drift.records[0].token_b], [2, 4], 'drift compares the word at its first piece (positions from 1)');
    session.assertNoProblems();
    await page.close();
  });

  it('the 2nd "bank": its row, in every view, and in the URL', { timeout: READY_TIMEOUT_MS }, async () => {
    const page = await open(new URLSearchParams([['s', BANKS], ['focus', 'bank'], ['nth', '2'], ['view', 'focus']]).toString());
    const reference = engineAttention([BANKS]);
    const matrix = lastLayerMean(reference, 0);
    assert.deepEqual(await focusedTokens(page), [[6]], 'the token table marks the second bank');
    const [card] = await focusCards(page);
    const second = matrix[6];
    assert.deepEqual(card.chips.filter(([, , f]) => f).map(([t]) => t), ['bank']);
    card.chips.forEach(([t, v], k) => assert.ok(Math.abs(v - second[k]) <= CHIP_TOLERANCE, `${t}: page ${v}, engine ${second[k]} (the 2nd bank's row)`));
    // The first bank's row differs somewhere by more than the chips' rounding: the test can tell them apart.
    assert.ok(matrix[2].some((v, k) => Math.abs(v - second[k]) > 0.02), 'the two banks look alike: pick another sentence');

    // The head view marks the same token and describes the same row.
    await page.click('[data-testid="tab-head"]');
    await waitReady(page);
    const label = await page.getAttribute('[data-testid="head-view"]', 'aria-label');
    const best = reference.tokens[0].map((t, k) => [t, second[k], k]).filter(([t, , k]) => k !== 6 && !/^\[/.test(t)).sort((a, b) => b[1] - a[1])[0];
    assert.ok(label.includes(`“bank” attends most to ${best[0]} (${best[1].toFixed(2)})`), label);

    // Clicking the first bank in the token table makes it the focus: nth leaves the URL.
    await page.click('[data-testid="token-table"] table button[data-index="2"]');
    await urlWith(page, { focus: 'bank', nth: null });
    assert.deepEqual(await focusedTokens(page), [[2]]);
    await page.click('[data-testid="token-table"] table button[data-index="6"]');
    const url = await urlWith(page, { focus: 'bank', nth: '2' });
    // The link opens on the same word.
    const again = await session.open(url.slice(session.url.length));
    assert.deepEqual(await focusedTokens(again), [[6]]);
    session.assertNoProblems();
    await again.close();
    await page.close();
  });

  it('says whether a word is absent or there fewer times than asked, and counts in words', { timeout: READY_TIMEOUT_MS }, async () => {
    const page = await open(new URLSearchParams([['s', BANKS], ['focus', 'pear']]).toString());
    assert.equal((await focusCards(page))[0].summary, '“pear” is not in this sentence.');
    assert.deepEqual(await focusedTokens(page), [[]]);
    await page.goto(`${session.url}?${new URLSearchParams([['s', BANKS], ['focus', 'bank'], ['nth', '3']])}`);
    await waitReady(page);
    assert.equal((await focusCards(page))[0].summary, '“bank” is in this sentence only 2 times, not a 3rd time.');
    await page.goto(`${session.url}?${new URLSearchParams([['s', PIECES], ['focus', 'token']])}`);
    await waitReady(page);
    assert.equal((await focusCards(page))[0].summary, '“token” is not in this sentence.', 'a piece alone is not a word');

    // Counts in words: one sentence, one padding position.
    await page.goto(`${session.url}?${new URLSearchParams([['s', BANKS], ['s', PIECES], ['focus', 'bank']])}`);
    await waitReady(page);
    assert.deepEqual(await page.$$eval('[data-testid="pad-note"]', (notes) => notes.map((n) => n.textContent)), [
      '1 more [PAD] position (padding to the longest sentence) is not drawn.',
    ]);
    await page.goto(`${session.url}?${new URLSearchParams([['s', BANKS], ['focus', 'bank'], ['view', 'drift']])}`);
    await waitReady(page);
    await page.waitForSelector('[data-testid="tokenmap-summary"]:not(:empty)');
    assert.match(await page.textContent('[data-testid="tokenmap-summary"]'), /^9 tokens from 1 sentence \(/);
    session.assertNoProblems();
    await page.close();
  });
});
