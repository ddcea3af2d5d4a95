// End-to-end tests of the colour switches (issue 16, item 2): "hide [CLS]/[SEP]" drops those columns
// and renormalises each row, on screen, in the exports, in the link and in the widget
// (`hide-special`); "same colour scale for all sentences" gives every heatmap one scale
// (`shared-scale`). The numbers are checked against the raw attention the engine prints natively
// (`bertscope attention`), renormalised here.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { downloadOf, engineAttention, lastLayerMean, READY_TIMEOUT_MS, urlWith, useSession } from './helpers.mjs';

const SENTENCES = ['Apple is huge enterprise', 'I am eating an apple'];
/** wasm and native attention differ by up to 2e-4; renormalising by a row's ~0.3 left triples that. */
const TOLERANCE = 1e-3;
const WIDGET = 'bert-attention';

/** Per sentence, the last layer averaged over heads with the special columns dropped and each real row renormalised, and its tokens. */
function renormalisedReference() {
  const reference = engineAttention(SENTENCES);
  return reference.tokens.map((tokens, s) => {
    const len = reference.attention_mask[s].filter(Boolean).length;
    const matrix = lastLayerMean(reference, s);
    const special = (k) => /^\[(CLS|SEP)\]$/.test(tokens[k]);
    const rows = Array.from({ length: len }, (_, q) => {
      const mean = matrix[q].slice(0, len);
      const left = mean.reduce((sum, v, k) => (special(k) ? sum : sum + v), 0);
      return mean.map((v, k) => (special(k) ? 0 : v / left));
    });
    return { tokens: tokens.slice(0, len), rows, special };
  });
}

/** Per focus card: the raw strip's chips as [token, value], its scale note and its heatmap's scale top. */
function cards(root) {
  return Array.from(root.querySelectorAll('article'), (a) => ({
    chips: Array.from(a.querySelectorAll('[data-testid="focus-strip"] .chip'), (c) => [c.querySelector('.chip-token').textContent, Number(c.querySelector('.chip-weight').textContent)]),
    note: a.querySelector('[data-testid="scale-note"]')?.textContent ?? null,
    scaleMax: Number(a.querySelector('[data-scale-max]')?.dataset.scaleMax),
  }));
}

const session = useSession();

describe('hide [CLS]/[SEP] and one colour scale', { concurrency: false }, () => {
  const reference = renormalisedReference();
  const query = (extra) => new URLSearchParams([...SENTENCES.map((s) => ['s', s]), ['focus', 'apple'], ['compare', 'off'], ...extra]).toString();

  it('hiding drops the special columns and renormalises each row: strips, exports and the link', { timeout: READY_TIMEOUT_MS }, async () => {
    const page = await session.open(`?${query([['hide-special', 'on']])}`);
    assert.equal(await page.isChecked('[data-testid="hide-special"]'), true);
    const shown = await page.$eval('#focus-view', cards);
    shown.forEach((card, s) => {
      const { tokens, rows, special } = reference[s];
      const apple = tokens.indexOf('apple');
      const expected = tokens.map((t, k) => [t, rows[apple][k]]).filter((_, k) => !special(k));
      assert.deepEqual(card.chips.map(([t]) => t), expected.map(([t]) => t), `sentence ${s + 1}: no [CLS] or [SEP] chip`);
      card.chips.forEach(([t, v], i) => assert.ok(Math.abs(v - expected[i][1]) <= 0.005 + TOLERANCE, `sentence ${s + 1}, ${t}: page ${v}, renormalised engine ${expected[i][1]}`));
      assert.match(card.note, /\[CLS\]\/\[SEP\] hidden, rows renormalised/);
    });
    // The numbers export is what the view shows: renormalised rows without the special columns.
    const json = JSON.parse((await downloadOf(page, 'export-json')).bytes.toString('utf8'));
    assert.equal(json.hide_special, true);
    reference.forEach(({ tokens, rows, special }, s) => {
      const records = json.records.filter((r) => r.sentence === s + 1);
      assert.equal(records.length, tokens.length * tokens.filter((_, k) => !special(k)).length, `sentence ${s + 1}: one record per query and non-special key`);
      for (const r of records) {
        assert.ok(!special(r.key - 1), `sentence ${s + 1}: the export kept ${r.key_token}`);
        assert.ok(Math.abs(r.weight - rows[r.query - 1][r.key - 1]) <= TOLERANCE, `sentence ${s + 1}, ${r.query_token} → ${r.key_token}: ${r.weight} vs ${rows[r.query - 1][r.key - 1]}`);
      }
      for (let q = 1; q <= tokens.length; q++) {
        const sum = records.filter((r) => r.query === q).reduce((total, r) => total + r.weight, 0);
        assert.ok(Math.abs(sum - 1) < 1e-5, `sentence ${s + 1}, query ${q}: the row sums to ${sum}`);
      }
    });
    // Switching it off brings the special columns back and takes it out of the link.
    await page.click('[data-testid="hide-special"]');
    await urlWith(page, { 'hide-special': null });
    const back = await page.$eval('#focus-view', cards);
    assert.equal(back[0].chips[0][0], '[CLS]');
    assert.equal(back[0].note, null);
    session.assertNoProblems();
    await page.close();
  });

  it('one colour scale: every heatmap reaches up to the largest value of all sentences', { timeout: READY_TIMEOUT_MS }, async () => {
    const page = await session.open(`?${query([['hide-special', 'on']])}`);
    const own = (await page.$eval('#focus-view', cards)).map((c) => c.scaleMax);
    const tops = reference.map(({ rows }) => Math.max(...rows.flat()));
    own.forEach((top, s) => assert.ok(Math.abs(top - tops[s]) <= TOLERANCE, `sentence ${s + 1}: own scale ${top}, expected ${tops[s]}`));
    assert.ok(Math.abs(tops[0] - tops[1]) > 0.01, 'the sentences have the same top: the test could not tell a shared scale');
    await page.click('[data-testid="shared-scale"]');
    await urlWith(page, { 'shared-scale': 'on', 'hide-special': 'on' });
    const shared = await page.$eval('#focus-view', cards);
    shared.forEach((card, s) => {
      assert.ok(Math.abs(card.scaleMax - Math.max(...tops)) <= TOLERANCE, `sentence ${s + 1}: shared scale ${card.scaleMax}, expected ${Math.max(...tops)}`);
      assert.match(card.note, /one scale for all sentences/);
    });
    session.assertNoProblems();
    await page.close();
  });

  it('the widget takes hide-special and shared-scale', { timeout: READY_TIMEOUT_MS }, async () => {
    const page = await session.newPage();
    await page.goto(`${session.url}example-post.html`);
    await page.evaluate((tag) => {
      const widget = document.querySelector(tag);
      widget.setAttribute('hide-special', '');
      widget.setAttribute('shared-scale', '');
    }, WIDGET);
    await page.waitForFunction(
      (tag) => document.querySelector(tag)?.shadowRoot?.querySelector('[data-testid="widget"]')?.dataset.state === 'ready' && document.querySelector(tag).shadowRoot.querySelectorAll('[data-testid="scale-note"]').length === 2,
      WIDGET,
      { timeout: READY_TIMEOUT_MS, polling: 100 },
    );
    const shown = await page.$eval(WIDGET, (widget) => {
      const root = widget.shadowRoot;
      return Array.from(root.querySelectorAll('article'), (a) => ({
        chips: Array.from(a.querySelectorAll('[data-testid="focus-strip"] .chip'), (c) => [c.querySelector('.chip-token').textContent, Number(c.querySelector('.chip-weight').textContent)]),
        scaleMax: Number(a.querySelector('[data-scale-max]')?.dataset.scaleMax),
      }));
    });
    const tops = reference.map(({ rows }) => Math.max(...rows.flat()));
    shown.forEach((card, s) => {
      const { tokens, rows, special } = reference[s];
      const apple = tokens.indexOf('apple');
      const expected = tokens.map((t, k) => [t, rows[apple][k]]).filter((_, k) => !special(k));
      assert.deepEqual(card.chips.map(([t]) => t), expected.map(([t]) => t));
      card.chips.forEach(([t, v], i) => assert.ok(Math.abs(v - expected[i][1]) <= 0.005 + TOLERANCE, `widget, sentence ${s + 1}, ${t}: ${v} vs ${expected[i][1]}`));
      assert.ok(Math.abs(card.scaleMax - Math.max(...tops)) <= TOLERANCE, `widget, sentence ${s + 1}: scale ${card.scaleMax}`);
    });
    // Its link opens the explorer with the same switches.
    const link = await page.$eval(WIDGET, (widget) => widget.shadowRoot.querySelector('.caption a')?.href ?? '');
    const params = new URL(link).searchParams;
    assert.equal(params.get('hide-special'), 'on');
    assert.equal(params.get('shared-scale'), 'on');
    session.assertNoProblems();
    await page.close();
  });
});
