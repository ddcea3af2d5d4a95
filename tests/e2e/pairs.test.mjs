// End-to-end tests of sentence pairs (issue 16, item 3): a line "A | B" is read as BERT reads two
// sentences ([CLS] A [SEP] B [SEP], token_type_ids 0 then 1). The ids and type ids the page shows
// are compared with the Python `tokenizers` library's own pair encoding (the reference that
// tests/reference/pair_reference.py writes into $BERTSCOPE_PAIR_REFS; scripts/test makes it, and
// without it these tests fail); the link carries the pair; the widget takes a `pair` attribute,
// and the page's embed snippet carries its pair and its bars written `\|`; a bad pair is a plain
// error after which the page keeps working.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { artifacts, downloadOf, READY_TIMEOUT_MS, repoRoot, STATUS, useSession, waitReady } from './helpers.mjs';

const INPUT = '[data-testid="sentence-input"]';

/** The default model's pairs in the Python reference. */
function reference() {
  const dir = process.env.BERTSCOPE_PAIR_REFS;
  if (!dir) throw new Error('BERTSCOPE_PAIR_REFS is not set: run python tests/reference/pair_reference.py generate MODELS_DIR OUT_DIR (scripts/test does)');
  const refs = JSON.parse(readFileSync(join(dir, 'pairs.json'), 'utf8'));
  const model = refs.models.find((m) => m.name === 'minilm-l6.weights_int8');
  assert.ok(model, 'the reference has the default model');
  return model;
}

/** A reference input as one line of the page's syntax (a bar inside a sentence written `\|`). */
const line = (input) => input.map((side) => side.replaceAll('|', '\\|')).join(' | ');

/** Per token table under `root` (a page or a widget's shadow root): caption, rows, and where sentence B is marked to start. */
function readTables(root) {
  return Array.from(root.querySelectorAll('[data-testid="token-table"] table'), (table) => {
    const cells = (row) => Array.from(table.querySelectorAll(`tr[data-row="${row}"] td`));
    return {
      caption: table.querySelector('caption')?.textContent ?? '',
      tokens: cells('tokens').map((td) => td.textContent),
      ids: cells('input_ids').map((td) => Number(td.textContent)),
      typeIds: cells('token_type_ids').map((td) => Number(td.textContent)),
      mask: cells('attention_mask').map((td) => Number(td.textContent)),
      bStart: cells('tokens').findIndex((td) => td.classList.contains('tok-b-start')),
      bTokens: cells('tokens').filter((td) => td.classList.contains('tok-b')).length,
    };
  });
}

/** Asserts a token table shows `entry` of the reference (padded with [PAD], type id 0, mask 0). */
function assertShows(table, entry, what) {
  const n = entry.input_ids.length;
  const pad = table.ids.length - n;
  assert.ok(pad >= 0, `${what}: ${table.ids.length} tokens shown, the reference has ${n}`);
  assert.deepEqual(table.tokens.slice(0, n), entry.tokens, `${what}: tokens`);
  assert.deepEqual(table.ids.slice(0, n), entry.input_ids, `${what}: input_ids`);
  assert.deepEqual(table.typeIds, [...entry.token_type_ids, ...Array(pad).fill(0)], `${what}: token_type_ids`);
  assert.deepEqual(table.mask, [...Array(n).fill(1), ...Array(pad).fill(0)], `${what}: attention_mask`);
  assert.equal(table.bStart, entry.sentence_b_start ?? -1, `${what}: where sentence B is marked to start`);
  assert.equal(table.bTokens, entry.sentence_b_start === null ? 0 : n - entry.sentence_b_start, `${what}: tokens marked as sentence B`);
}

const session = useSession({ mounts: { '/fixtures': join(repoRoot, 'tests', 'e2e', 'fixtures') } });

describe('sentence pairs', { concurrency: false }, () => {
  const ref = reference();
  const [catPair, , barPair] = ref.pairs;

  it('a pair typed into a sentence field shows the token_type_ids of the tokenizer\'s own pair encoding, and its link carries it', { timeout: READY_TIMEOUT_MS }, async () => {
    const page = await session.open();
    await page.fill(`${INPUT} >> nth=0`, line(catPair.input));
    await waitReady(page);
    await page.fill(`${INPUT} >> nth=1`, line(barPair.input));
    await waitReady(page);
    const shown = await page.evaluate(`(${readTables})(document)`);
    assert.equal(shown.length, 2);
    assertShows(shown[0], catPair, 'pair 1');
    assertShows(shown[1], barPair, 'pair 2 (an escaped bar inside sentence B)');
    assert.match(shown[0].caption, /^Sentence pair 1: “The cat sat on the mat\. \| It was tired\.”/);
    await page.screenshot({ path: join(artifacts, 'pairs-tokens.png'), fullPage: true });

    // The link: the same lines, the same tables.
    await page.waitForFunction((want) => new URL(location.href).searchParams.getAll('s').join('\n') === want, [line(catPair.input), line(barPair.input)].join('\n'));
    const again = await session.open(page.url().slice(session.url.length));
    assert.deepEqual(await again.$$eval(INPUT, (inputs) => inputs.map((i) => i.value)), [line(catPair.input), line(barPair.input)]);
    assert.deepEqual(await again.evaluate(`(${readTables})(document)`), shown, 'the link shows the same pairs');
    await again.close();
    await page.close();
  });

  it('the model view and the head view mark where sentence B starts, on screen and in the SVG', { timeout: READY_TIMEOUT_MS }, async () => {
    const page = await session.open();
    await page.fill(`${INPUT} >> nth=0`, line(catPair.input));
    await waitReady(page);
    const split = { at: catPair.sentence_b_start, len: catPair.input_ids.length };
    /** Pixels on the boundary `split` would have in the model view's first map, and the page's background there. */
    const modelBoundary = (at) =>
      page.evaluate(({ at, len }) => {
        const canvas = document.querySelector('[data-testid="model-view"]');
        const { left, top, cell } = Object.fromEntries(Object.entries(canvas.dataset).map(([k, v]) => [k, Number(v)]));
        const scale = canvas.width / canvas.getBoundingClientRect().width;
        const ctx = canvas.getContext('2d');
        const rgb = (x, y) => Array.from(ctx.getImageData(Math.round(x * scale), Math.round(y * scale), 1, 1).data.slice(0, 3));
        const offset = (at / len) * cell;
        return {
          surface: rgb(1, 1),
          column: [0.15, 0.5, 0.85].map((f) => rgb(left + offset, top + f * cell)),
          row: [0.15, 0.5, 0.85].map((f) => rgb(left + f * cell, top + offset)),
        };
      }, { at, len: split.len });
    /** How many pixels of the head view's query column differ from the background along the row boundary before token `at`. */
    const headBoundary = (at) =>
      page.evaluate((at) => {
        const canvas = document.querySelector('[data-testid="head-view"]');
        const { top, rowHeight, leftX } = Object.fromEntries(Object.entries(canvas.dataset).map(([k, v]) => [k, Number(v)]));
        const scale = canvas.width / canvas.getBoundingClientRect().width;
        const y = Math.round((top + at * rowHeight) * scale);
        const data = canvas.getContext('2d').getImageData(0, y, Math.floor(leftX * scale), 1).data;
        const surface = data.slice(0, 3).join();
        let marked = 0;
        for (let i = 0; i < data.length; i += 4) if (data.slice(i, i + 3).join() !== surface) marked++;
        return marked;
      }, at);
    const near = (a, b) => a.every((v, i) => Math.abs(v - b[i]) <= 24);
    await page.click('[data-testid="tab-model"]');
    await waitReady(page);
    const pair = await modelBoundary(split.at);
    for (const pixel of [...pair.column, ...pair.row]) assert.ok(near(pixel, pair.surface), `the boundary is ${pixel}, not the background ${pair.surface}`);
    const pairModelSvg = (await downloadOf(page, 'export-svg')).bytes.toString('utf8');
    await page.locator('[data-testid="model-view"]').screenshot({ path: join(artifacts, 'pairs-model-view.png') });
    await page.click('[data-testid="tab-head"]');
    await waitReady(page);
    assert.ok((await headBoundary(split.at)) > 8, 'a rule between sentence A and B in the head view');
    await page.locator('[data-testid="head-view"]').screenshot({ path: join(artifacts, 'pairs-head-view.png') });
    const pairHeadSvg = (await downloadOf(page, 'export-svg')).bytes.toString('utf8');

    // Sentence 2 is one sentence: no marks where the pair had them.
    await page.selectOption('[data-testid="sentence-select"]', '1');
    await waitReady(page);
    assert.equal(await headBoundary(split.at), 0, 'no rule in a single sentence');
    assert.ok(!(await downloadOf(page, 'export-svg')).bytes.toString('utf8').includes('stroke-dasharray'), 'no dashed rule in a single sentence\'s SVG');
    assert.ok(pairHeadSvg.includes('stroke-dasharray'), 'the head view SVG of the pair has the dashed rule');
    await page.click('[data-testid="tab-model"]');
    await waitReady(page);
    const single = await modelBoundary(split.at);
    assert.ok([...single.column, ...single.row].some((pixel) => !near(pixel, single.surface)), 'a single sentence\'s maps are not split');
    const paths = (svg) => (svg.match(/<path /g) ?? []).length;
    const singleModelSvg = (await downloadOf(page, 'export-svg')).bytes.toString('utf8');
    assert.equal(paths(pairModelSvg), paths(singleModelSvg) + 1, 'the model view SVG of the pair has one path more: the boundary across every map');
    await page.close();
  });

  it('a bad pair is a plain error, and the page keeps working', { timeout: READY_TIMEOUT_MS }, async () => {
    const page = await session.open();
    const before = await page.evaluate(`(${readTables})(document)`);
    for (const [bad, says] of [
      // The sentence is at fault, not the model: the status is the engine's message alone.
      [' | It was tired.', /^Sentence 1 has nothing before its “\|”/],
      ['a | b | c', /^Sentence 1 has 2 “\|”/],
      ['   |   ', /^Sentence 1 is only a “\|”/],
    ]) {
      await page.fill(`${INPUT} >> nth=0`, bad);
      await page.waitForSelector(`${STATUS}[data-kind="error"]`, { timeout: 60_000 });
      const text = await page.textContent(STATUS);
      assert.match(text, says, `${JSON.stringify(bad)}: ${text}`);
      assert.match(text, /write \\\| for a bar/, 'says how to write a bar that is text');
      assert.deepEqual(await page.evaluate(`(${readTables})(document)`), before, 'the last good result stays on screen');
    }
    await page.fill(`${INPUT} >> nth=0`, line(catPair.input));
    await waitReady(page);
    assertShows((await page.evaluate(`(${readTables})(document)`))[0], catPair, 'after the errors');
    await page.close();
  });

  it('the widget takes a pair attribute, and says what is wrong with a bad one', { timeout: READY_TIMEOUT_MS }, async () => {
    const page = await session.newPage();
    await page.goto(`${session.url}fixtures/pairs.html`);
    for (const i of [0, 1, 2]) {
      await page.locator('bert-attention').nth(i).scrollIntoViewIfNeeded();
      await page.waitForFunction(
        (k) => /^(ready|error)$/.test(document.querySelectorAll('bert-attention')[k]?.shadowRoot?.querySelector('[data-testid="widget"]')?.dataset.state ?? ''),
        i,
        { timeout: READY_TIMEOUT_MS, polling: 100 },
      );
    }
    const states = await page.$$eval('bert-attention', (hosts) => hosts.map((h) => h.shadowRoot.querySelector('[data-testid="widget"]').dataset.state));
    assert.deepEqual(states, ['ready', 'ready', 'error']);
    // The third widget's pair has nothing before its bar: the sentence is at fault, and its status says only that.
    const badStatus = await page.evaluate(() => document.querySelectorAll('bert-attention')[2].shadowRoot.querySelector('[data-testid="widget-status"]').textContent);
    assert.match(badStatus, /^Sentence 1 has nothing before its “\|”/);
    const tables = await page.evaluate(`(${readTables})(document.querySelector('bert-attention').shadowRoot)`);
    assert.equal(tables.length, 1, 'the pair alone (not the default sentences)');
    assertShows(tables[0], catPair, 'the widget\'s pair');
    // The second widget: a sentence, then the pair, padded together.
    const [single, pair] = await page.evaluate(`(${readTables})(document.querySelectorAll('bert-attention')[1].shadowRoot)`);
    assertShows(pair, ref.pairs[1], 'the widget\'s pair after a sentence');
    assert.deepEqual(single.tokens.slice(0, 7), ['[CLS]', 'i', 'am', 'eating', 'an', 'apple', '[SEP]']);
    assert.ok(single.typeIds.every((t) => t === 0) && single.bStart === -1, 'a single sentence is all segment 0');
    await page.locator('bert-attention').nth(1).screenshot({ path: join(artifacts, 'pairs-widget.png') });
    await page.close();
  });

  it('"copy embed snippet" keeps a pair and bars inside sentences: the pasted widget shows the page\'s token tables', { timeout: READY_TIMEOUT_MS }, async () => {
    const page = await session.open();
    // A bar that is text, and a backslash just before the bar between two sentences of the snippet.
    const withBar = 'Split the columns at each \\| sign, not at \\';
    const after = 'I am eating an apple';
    await page.fill(`${INPUT} >> nth=0`, line(catPair.input));
    await waitReady(page);
    await page.fill(`${INPUT} >> nth=1`, withBar);
    await page.click('[data-testid="add-sentence"]');
    await page.fill(`${INPUT} >> nth=2`, after);
    await waitReady(page);
    const shown = await page.evaluate(`(${readTables})(document)`);
    assert.equal(shown.length, 3);
    assert.equal(shown[1].bStart, -1, 'a bar written \\| leaves sentence 2 one sentence');
    assert.ok(shown[1].tokens.includes('|') && shown[1].tokens.includes('\\'), 'the bar and the backslash are text: tokens of their own');

    await page.click('[data-testid="copy-embed"]');
    const snippet = await page.inputValue('[data-testid="embed-snippet"]');
    const attribute = (name) => snippet.match(new RegExp(` ${name}="([^"]*)"`))?.[1];
    assert.equal(attribute('sentences'), `${withBar} |${after}`, 'the sentences as typed, the bar inside one still written \\|, a space between the backslash and the next bar');
    assert.equal(attribute('pair'), line(catPair.input), 'the pair in the widget\'s pair attribute');
    // The note is written once the clipboard has answered.
    const noteSays = (text) => page.locator('[data-testid="export-note"]', { hasText: text }).waitFor({ timeout: 10_000 });
    await noteSays(/Unlike the page, the widget shows its sentence pair after the other sentences\.$/);

    // Two pairs: the widget shows one, and the note names the other.
    await page.click('[data-testid="add-sentence"]');
    await page.fill(`${INPUT} >> nth=3`, line(ref.pairs[1].input));
    await waitReady(page);
    await page.click('[data-testid="copy-embed"]');
    assert.equal((await page.inputValue('[data-testid="embed-snippet"]')).match(/ pair="([^"]*)"/)?.[1], line(catPair.input));
    await noteSays(new RegExp(`the widget shows one sentence pair, so “${line(ref.pairs[1].input).replace(/[.?|\\]/g, '\\$&')}” is left out\\.$`));
    await page.close();

    // The first snippet pasted into a page, its view switched to the token tables.
    const host = await session.newPage();
    await host.goto(`${session.url}fixtures/embed.html`);
    await host.evaluate((html) => (document.querySelector('main').innerHTML = html.replace(/ view="[a-z]+"/, ' view="tokens"')), snippet);
    await host.waitForFunction(
      () => /^(ready|error)$/.test(document.querySelector('bert-attention')?.shadowRoot?.querySelector('[data-testid="widget"]')?.dataset.state ?? ''),
      null,
      { timeout: READY_TIMEOUT_MS, polling: 100 },
    );
    const widget = await host.evaluate(`(${readTables})(document.querySelector('bert-attention').shadowRoot)`);
    const rows = ({ caption, ...rest }) => rest;
    assert.deepEqual(widget.map(rows), [shown[1], shown[2], shown[0]].map(rows), 'the same tokens, ids, type ids and mask as the page, the pair last');
    await host.close();
  });

  it('logged no console errors', () => {
    session.assertNoProblems();
  });
});
