// End-to-end tests of the context-mixing measures (issue 14), on real values: the front page
// pairs raw attention with the norm-based view for "apple"; switching the measure redraws every
// view, and the numbers the page exports equal the engine's own, computed natively by the
// `bertscope mixing` and `bertscope heads` CLI on the same sentences; the measure travels in the
// URL; a long input shows progress; a model whose layers cannot be read for the measures says so
// while raw attention keeps working; the widget's measure attribute; and the page at phone width,
// by keyboard and in dark mode. Saves screenshots to tests/artifacts/.
import assert from 'node:assert/strict';
import { copyFileSync, existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { watchPage } from '../lib/environment.mjs';
import {
  artifacts,
  canvasPixels,
  dist,
  downloadOf,
  fillAndWait,
  parseCsv,
  READY_TIMEOUT_MS,
  readCanvases,
  referenceAppleRows,
  repoRoot,
  runCli,
  urlWith,
  useSession,
  waitReady,
} from './helpers.mjs';
import { attentionOnlyModel } from './onnx.mjs';

const SENTENCES = ['Apple is huge enterprise', 'I am eating an apple'];
const INPUT = '[data-testid="sentence-input"]';
const MEASURE = '[data-testid="measure-select"]';
/** MiniLM-L6's last layer, 0-based: the page's default. */
const LAST = 5;
/**
 * How far the page's numbers (the engine in wasm) may be from the CLI's (the same engine, native).
 * The kernels round differently, so the runs themselves differ: raw attention by up to 1.7e-4 over
 * every layer and head of these sentences. ALTI and ALTI rollout absorb that (measured: 4.3e-5 at
 * most) and must agree within `TOLERANCE`. The norm-based numbers multiply each weight by a vector
 * length of up to about 3, so they move more (measured: row shares 4.3e-4, lengths 3.8e-4 of the
 * row's largest): they must agree within `NORM_TOLERANCE` (lengths: of max(1, the row's largest)).
 */
const TOLERANCE = 1e-4;
const NORM_TOLERANCE = 1e-3;
/** Raw attention's own agreement (wasm against native or onnxruntime): for the head roles' means. */
const ATTENTION_TOLERANCE = 2e-4;
/** Half a unit of the last printed decimal, for numbers read from the screen. */
const HALF = { 2: 0.005, 3: 0.0005 };

const DEFAULT_MODEL = join(dist, 'models', 'default', 'model.onnx');
const DEFAULT_TOKENIZER = join(dist, 'models', 'default', 'tokenizer.json');

/** What `bertscope <command>` prints for the default model and `texts`, parsed. */
function cli(command, texts) {
  const args = [command, '--model', DEFAULT_MODEL, '--tokenizer', DEFAULT_TOKENIZER, ...texts.flatMap((t) => ['--text', t])];
  return JSON.parse(runCli(args));
}

/** A folder served at /made-models: a model whose layers cannot be read for the measures, and the default tokenizer. */
const made = mkdtempSync(join(tmpdir(), 'bertscope-mixing-'));
before(() => {
  writeFileSync(join(made, 'model.onnx'), attentionOnlyModel());
  if (existsSync(DEFAULT_TOKENIZER)) copyFileSync(DEFAULT_TOKENIZER, join(made, 'tokenizer.json'));
});
after(() => rmSync(made, { recursive: true, force: true }));

const session = useSession({ mounts: { '/fixtures': join(repoRoot, 'tests', 'e2e', 'fixtures'), '/made-models': made } });

/**
 * The engine's `n×n` matrix of `measure` for sentence `s` at `layer` and `head` (an index, 'mean'
 * or 'max'), from the CLI's output: what the page's "value" column must hold.
 */
function engineMatrix(mixing, measure, s, layer, head) {
  if (measure === 'alti') return mixing.alti[s][layer];
  if (measure === 'alti-rollout') return mixing.alti_rollout[s][layer];
  if (typeof head === 'number') return mixing.norm_head[s][layer][head];
  if (head === 'mean') return mixing.norm_layer[s][layer];
  const heads = mixing.norm_head[s][layer];
  return heads[0].map((row, i) => row.map((_, j) => Math.max(...heads.map((h) => h[i][j]))));
}

/** Each row of a matrix divided by its sum. */
function shares(matrix) {
  return matrix.map((row) => {
    const total = row.reduce((a, b) => a + b, 0);
    return row.map((v) => v / total);
  });
}

/**
 * Asserts that exported records (sentence, query, key, tokens, value, row_share) hold the engine's
 * numbers for every real token pair of every sentence listed; returns the largest differences.
 */
function assertEngineRecords(records, mixing, measure, layer, head, sentences) {
  let worstShare = 0;
  let worstValue = 0;
  for (const s of sentences) {
    const expected = engineMatrix(mixing, measure, s, layer, head);
    const expectedShares = shares(expected);
    const rows = records.filter((r) => r.sentence === s + 1);
    const n = mixing.tokens[s].length;
    assert.equal(rows.length, n * n, `sentence ${s + 1}: ${rows.length} records for ${n} tokens`);
    for (const r of rows) {
      const [q, k] = [r.query - 1, r.key - 1];
      assert.equal(r.query_token, mixing.tokens[s][q]);
      assert.equal(r.key_token, mixing.tokens[s][k]);
      const scale = measure === 'norm' ? Math.max(1, ...expected[q]) : 1;
      worstShare = Math.max(worstShare, Math.abs(r.row_share - expectedShares[q][k]));
      worstValue = Math.max(worstValue, Math.abs(r.value - expected[q][k]) / scale);
    }
  }
  const where = `${measure}, layer ${layer + 1}, head ${head}`;
  const tolerance = measure === 'norm' ? NORM_TOLERANCE : TOLERANCE;
  assert.ok(worstShare <= tolerance, `${where}: exported row shares differ from the engine's by up to ${worstShare}`);
  assert.ok(worstValue <= tolerance, `${where}: exported values differ from the engine's by up to ${worstValue}${measure === 'norm' ? ' of the row’s largest' : ''}`);
  return { worstShare, worstValue };
}

/**
 * Asserts that a head view's JSON export (sentence `s`, layer `layer`) holds the engine's numbers:
 * per head the row shares of N^h (and N^h itself as `norm_values`), or the layer's one ALTI matrix.
 */
function assertEngineTensor(json, mixing, measure, layer, s) {
  const n = mixing.tokens[s].length;
  const perHead = measure === 'norm';
  const heads = perHead ? mixing.norm_head[s][layer].length : 1;
  assert.equal(json.measure, measure);
  assert.deepEqual(json.layers, [layer + 1]);
  assert.deepEqual(json.shape, [1, heads, n, n]);
  assert.deepEqual(json.tokens, mixing.tokens[s]);
  let worst = 0;
  for (let h = 0; h < heads; h++) {
    const expected = engineMatrix(mixing, measure, s, layer, perHead ? h : 'mean');
    const expectedShares = shares(expected);
    for (let q = 0; q < n; q++) {
      for (let k = 0; k < n; k++) {
        worst = Math.max(worst, Math.abs(json.weights[0][h][q][k] - expectedShares[q][k]));
        if (perHead) worst = Math.max(worst, Math.abs(json.norm_values[0][h][q][k] - expected[q][k]) / Math.max(1, ...expected[q]));
      }
    }
  }
  assert.equal(json.norm_values !== undefined, perHead, 'the lengths N^h come with the norm-based measure only');
  assert.ok(worst <= (perHead ? NORM_TOLERANCE : TOLERANCE), `${measure}: the head view's tensor differs from the engine's by up to ${worst}`);
}

/** The JSON export of the current view, parsed. */
async function exportJson(page) {
  return JSON.parse((await downloadOf(page, 'export-json')).bytes.toString('utf8'));
}

/** Clicks a view's tab and waits until it is drawn. */
async function showView(page, view) {
  await page.click(`[data-testid="tab-${view}"]`);
  await waitReady(page);
}

/** Picks `measure` in the control and waits for the page to draw it. */
async function pickMeasure(page, measure) {
  await page.selectOption(MEASURE, measure);
  await waitReady(page);
}

/** Per sentence card of the focus view: its strips (measure, chips), summary, pair summary and contrast sentence. */
function focusCards(page) {
  return page.$$eval('#focus-view article', (articles) =>
    articles.map((a) => ({
      strips: Array.from(a.querySelectorAll('[data-testid="focus-strip"]'), (f) => ({
        measure: f.dataset.measure,
        paired: f.closest('[data-testid="focus-pair"]') !== null,
        title: f.querySelector('.strip-title')?.textContent ?? '',
        chips: Array.from(f.querySelectorAll('.chip'), (c) => [c.querySelector('.chip-token').textContent, Number(c.querySelector('.chip-weight').textContent)]),
      })),
      summary: a.querySelector('[data-testid="focus-summary"]')?.textContent ?? '',
      pair: a.querySelector('[data-testid="focus-pair-summary"]')?.textContent ?? null,
      contrast: a.querySelector('[data-testid="focus-contrast"]')?.textContent ?? null,
    })),
  );
}

/** "apple → eating (0.16)": the strongest target of `row` among real non-special tokens other than the query. */
function strongest(tokens, query, row) {
  let best = -1;
  tokens.forEach((t, k) => {
    if (k === query || /^\[(CLS|SEP)\]$/.test(t)) return;
    if (best < 0 || row[k] > row[best]) best = k;
  });
  return `${tokens[query]} → ${tokens[best]} (${row[best].toFixed(2)})`;
}

/** Pixel hashes of widget `index`'s heatmaps, read through its shadow root. */
async function widgetHeatmaps(page, index) {
  const canvases = await page
    .locator('bert-attention')
    .nth(index)
    .evaluateHandle((host) => Array.from(host.shadowRoot.querySelectorAll('canvas[data-testid="focus-heatmap"]')));
  try {
    return (await canvases.evaluate(readCanvases)).map((c) => c.hash);
  } finally {
    await canvases.dispose();
  }
}

describe('the context-mixing measures', { concurrency: false }, () => {
  let page;
  /** `bertscope mixing` and `bertscope heads` on the seed sentences. */
  let mixing;
  let heads;
  /** Pixel hashes of each view under raw attention. */
  const raw = {};

  it('the engine’s own numbers come from the CLI', () => {
    mixing = cli('mixing', SENTENCES);
    heads = cli('heads', SENTENCES);
    assert.deepEqual(mixing.tokens, [
      ['[CLS]', 'apple', 'is', 'huge', 'enterprise', '[SEP]'],
      ['[CLS]', 'i', 'am', 'eating', 'an', 'apple', '[SEP]'],
    ]);
  });

  it('the front page shows raw attention and the norm-based view side by side for “apple”', { timeout: READY_TIMEOUT_MS + 30_000 }, async () => {
    page = await session.open();
    assert.equal(await page.inputValue(MEASURE), 'raw');
    assert.equal(await page.isChecked('[data-testid="compare-toggle"]'), true);
    const cards = await focusCards(page);
    const reference = referenceAppleRows();
    assert.equal(cards.length, 2);
    cards.forEach((card, s) => {
      const tokens = mixing.tokens[s];
      const query = tokens.indexOf('apple');
      assert.deepEqual(card.strips.map((x) => [x.measure, x.paired]), [['raw', true], ['norm', true]], `sentence ${s + 1}: the pair`);
      const [rawStrip, normStrip] = card.strips;
      // Raw attention: the onnxruntime reference of the model; the norm-based shares: the engine's, natively.
      const rawRow = reference[s].mean.slice(0, tokens.length);
      const normRow = shares(mixing.norm_layer[s][LAST])[query];
      rawStrip.chips.forEach(([token, v], k) => {
        assert.equal(token, tokens[k]);
        assert.ok(Math.abs(v - rawRow[k]) <= HALF[2] + ATTENTION_TOLERANCE, `sentence ${s + 1}, raw ${token}: ${v} vs ${rawRow[k]}`);
      });
      normStrip.chips.forEach(([token, v], k) => {
        assert.equal(token, tokens[k]);
        assert.ok(Math.abs(v - normRow[k]) <= HALF[2] + NORM_TOLERANCE, `sentence ${s + 1}, norm ${token}: ${v} vs ${normRow[k]}`);
      });
      assert.match(rawStrip.title, /^raw attention layer 6, mean of 12 heads$/);
      assert.match(normStrip.title, /^attention × value norm layer 6, all 12 heads together · apple → /);
      assert.equal(card.summary, strongest(tokens, query, rawRow));
      assert.equal(card.pair, ` · ${strongest(tokens, query, normRow)}`);
      // The story a first-time visitor sees: most raw attention goes to [CLS], little of what is moved comes from it.
      const [rawCls, normCls] = [rawStrip.chips[0][1], normStrip.chips[0][1]];
      assert.ok(rawCls >= 0.4 && normCls <= 0.2, `sentence ${s + 1}: [CLS] gets ${rawCls} raw, ${normCls} by norm`);
      assert.equal(
        card.contrast,
        `“apple” gives ${rawCls.toFixed(2)} of its raw attention to [CLS]; weighed by what [CLS] actually passes on (attention × value norm), [CLS] gets ${normCls.toFixed(2)}.`,
      );
    });
    assert.match(await page.textContent('[data-testid="measure-note"]'), /^Raw attention\. .*Vaswani et al\./);
    await page.locator('#panel-focus').screenshot({ path: join(artifacts, 'mixing-front-compare.png') });
  });

  it('records each view under raw attention', async () => {
    raw.focus = (await canvasPixels(page, 'focus-heatmap')).map((c) => c.hash);
    raw.summaries = (await focusCards(page)).map((c) => c.summary);
    await showView(page, 'head');
    raw.head = (await canvasPixels(page, 'head-view'))[0].hash;
    await showView(page, 'model');
    raw.model = (await canvasPixels(page, 'model-view'))[0].hash;
    await showView(page, 'focus');
    const json = await exportJson(page);
    assert.equal(json.measure, 'raw');
    assert.deepEqual(json.columns, ['sentence', 'query', 'query_token', 'key', 'key_token', 'weight']);
  });

  for (const measure of ['norm', 'alti', 'alti-rollout']) {
    it(`${measure}: the focus view redraws and exports the engine’s numbers (JSON, CSV, SVG, PNG)`, async () => {
      await pickMeasure(page, measure);
      const hashes = (await canvasPixels(page, 'focus-heatmap')).map((c) => c.hash);
      hashes.forEach((h, i) => assert.notEqual(h, raw.focus[i], `sentence ${i + 1}'s heatmap did not change`));
      const cards = await focusCards(page);
      cards.forEach((card, s) => {
        const tokens = mixing.tokens[s];
        const query = tokens.indexOf('apple');
        const row = shares(engineMatrix(mixing, measure, s, LAST, 'mean'))[query];
        assert.equal(card.summary, strongest(tokens, query, row), `sentence ${s + 1}: the named strongest target`);
        assert.notEqual(card.summary, raw.summaries[s]);
        // Paired with raw attention now: the measure's strip first.
        assert.deepEqual(card.strips.map((x) => x.measure), [measure, 'raw']);
        card.strips[0].chips.forEach(([, v], k) => assert.ok(Math.abs(v - row[k]) <= HALF[2] + NORM_TOLERANCE, `sentence ${s + 1}, chip ${k + 1}`));
      });

      const json = await exportJson(page);
      assert.equal(json.view, 'focus');
      assert.equal(json.measure, measure);
      assert.deepEqual(json.columns, ['sentence', 'query', 'query_token', 'key', 'key_token', 'value', 'row_share']);
      assert.match(json.description, /“value” is .*“row_share” is value \/ the sum of its row/);
      assertEngineRecords(json.records, mixing, measure, LAST, 'mean', [0, 1]);

      const csv = parseCsv((await downloadOf(page, 'export-csv')).bytes.toString('utf8'));
      assert.deepEqual(csv[0], json.columns);
      assert.deepEqual(
        csv.slice(1).map((r) => [Number(r[5]).toFixed(6), Number(r[6]).toFixed(6)]),
        json.records.map((r) => [r.value.toFixed(6), r.row_share.toFixed(6)]),
      );

      const svg = await downloadOf(page, 'export-svg');
      assert.equal(svg.name, `bertscope-focus-apple-${measure}.svg`);
      const text = svg.bytes.toString('utf8');
      const label = { norm: 'attention × value norm (row shares), layer 6, all 12 heads together', alti: 'ALTI, layer 6 as a whole', 'alti-rollout': 'ALTI through layers, up to layer 6' }[measure];
      assert.ok(text.includes(label), `the SVG does not name the measure (“${label}”)`);
      const png = await downloadOf(page, 'export-png');
      assert.equal(png.name, `bertscope-focus-apple-${measure}.png`);
      assert.ok(png.bytes.length > 5000);
    });

    it(`${measure}: the head, model and rollout views redraw it`, async () => {
      await showView(page, 'head');
      assert.notEqual((await canvasPixels(page, 'head-view'))[0].hash, raw.head, 'the head view did not change');
      const perHead = measure === 'norm';
      assert.equal(await page.locator('[data-testid="head-chip"]').count(), perHead ? 12 : 0);
      assert.equal(await page.isVisible('[data-testid="head-layer-note"]'), !perHead);
      if (!perHead) assert.match(await page.textContent('[data-testid="head-layer-note"]'), /has no per-head values: the lines show layer 6 as a whole\./);
      // The head view exports every head it draws under the measure too: [layer][head][query][key].
      assertEngineTensor(await exportJson(page), mixing, measure, LAST, 0);

      await showView(page, 'model');
      assert.notEqual((await canvasPixels(page, 'model-view'))[0].hash, raw.model, 'the model view did not change');
      const caption = await page.textContent('#model-view .view-caption');
      assert.match(caption, perHead ? /each map is one head’s attention × value norm, each row’s share/ : /one map per layer \(it has no per-head values/);

      await showView(page, 'rollout');
      await page.waitForSelector('[data-testid="rollout-strips"]', { state: 'visible' });
      const rollout = await exportJson(page);
      assert.equal(rollout.measure, measure);
      for (const s of [0, 1]) {
        const query = mixing.tokens[s].indexOf('apple');
        const alti = rollout.records.filter((r) => r.sentence === s + 1 && r.measure === 'ALTI rollout · to layer 6');
        assert.equal(alti.length, mixing.tokens[s].length, `sentence ${s + 1}: one ALTI rollout value per token`);
        alti.forEach((r) => assert.ok(Math.abs(r.weight - mixing.alti_rollout[s][LAST][query][r.key - 1]) <= TOLERANCE, `ALTI rollout of ${r.key_token}`));
        assert.ok(rollout.records.some((r) => r.sentence === s + 1 && r.measure === 'rollout · to layer 6'), 'attention rollout is still there');
      }
      await page.screenshot({ path: join(artifacts, `mixing-rollout-tab-${measure}.png`), fullPage: true });
      await showView(page, 'focus');
    });
  }

  it('one head, or the max of heads, of the norm-based view is the engine’s per-head N', async () => {
    await pickMeasure(page, 'norm');
    await page.selectOption('[data-testid="head-select"]', '2');
    await waitReady(page);
    assertEngineRecords((await exportJson(page)).records, mixing, 'norm', LAST, 2, [0, 1]);
    await page.selectOption('[data-testid="layer-select"]', '1');
    await page.selectOption('[data-testid="head-select"]', 'max');
    await waitReady(page);
    assertEngineRecords((await exportJson(page)).records, mixing, 'norm', 1, 'max', [0, 1]);
    // ALTI has no heads: any head choice shows the layer, and says so.
    await pickMeasure(page, 'alti');
    assertEngineRecords((await exportJson(page)).records, mixing, 'alti', 1, 'max', [0, 1]);
    const [card] = await focusCards(page);
    assert.match(card.strips[0].title, /^ALTI layer 2 as a whole \(no per-head values\)/);
    await page.selectOption('[data-testid="layer-select"]', String(LAST));
    await page.selectOption('[data-testid="head-select"]', 'mean');
    await waitReady(page);
  });

  it('the model view names each head’s role, as the engine does, and highlights a role’s heads', async () => {
    await pickMeasure(page, 'norm');
    await showView(page, 'model');
    await page.click('.roles-details summary');
    const rows = await page.$$eval('[data-testid="head-roles-table"] tbody tr', (trs) =>
      trs.map((tr) => ({ layer: Number(tr.dataset.layer), head: Number(tr.dataset.head), cells: Array.from(tr.querySelectorAll('td'), (td) => td.textContent) })),
    );
    assert.equal(rows.length, 6 * 12);
    for (const { layer, head, cells } of rows) {
      const expected = heads.heads_stats[layer][head];
      const [badge, ...numbers] = cells;
      assert.equal(badge.toLowerCase(), expected.role, `L${layer + 1} H${head + 1}`);
      ['cls', 'sep', 'prev', 'next', 'self', 'punct', 'entropy'].forEach((key, i) => {
        assert.ok(Math.abs(Number(numbers[i]) - expected[key]) <= HALF[3] + ATTENTION_TOLERANCE, `L${layer + 1} H${head + 1} ${key}: ${numbers[i]} vs ${expected[key]}`);
      });
    }
    const before = (await canvasPixels(page, 'model-view'))[0].hash;
    const roles = heads.heads_stats.flat().map((s) => s.role);
    const role = roles.find((r) => r !== 'cls' && r !== 'mixed') ?? 'cls';
    const count = roles.filter((r) => r === role).length;
    // By keyboard: the role buttons are buttons, Enter presses one.
    await page.focus(`[data-testid="role-button"][data-role="${role}"]`);
    await page.keyboard.press('Enter');
    assert.equal(await page.getAttribute(`[data-testid="role-button"][data-role="${role}"]`, 'aria-pressed'), 'true');
    assert.equal(await page.locator('[data-testid="head-roles-table"] tr.role-highlight').count(), count);
    assert.match(await page.textContent('[data-testid="role-readout"]'), new RegExp(`${count} heads?: L\\d H\\d+`));
    assert.notEqual((await canvasPixels(page, 'model-view'))[0].hash, before, 'the highlight did not show in the grid');
    await page.locator('#panel-model').screenshot({ path: join(artifacts, 'mixing-model-roles.png') });
    await page.keyboard.press('Space');
    assert.equal(await page.getAttribute(`[data-testid="role-button"][data-role="${role}"]`, 'aria-pressed'), 'false');
    assert.equal((await canvasPixels(page, 'model-view'))[0].hash, before);
    await showView(page, 'focus');
  });

  it('the measure and the comparison travel in the URL', { timeout: READY_TIMEOUT_MS }, async () => {
    await pickMeasure(page, 'alti-rollout');
    await page.uncheck('[data-testid="compare-toggle"]');
    await waitReady(page);
    assert.equal(await page.locator('[data-testid="focus-pair"]').count(), 0, 'the pair is still shown');
    const url = await urlWith(page, { measure: 'alti-rollout', compare: 'off' });
    const heatmaps = (await canvasPixels(page, 'focus-heatmap')).map((c) => c.hash);
    const opened = await session.freshPage();
    await opened.goto(url);
    await waitReady(opened);
    assert.equal(await opened.inputValue(MEASURE), 'alti-rollout');
    assert.equal(await opened.isChecked('[data-testid="compare-toggle"]'), false);
    assert.deepEqual((await canvasPixels(opened, 'focus-heatmap')).map((c) => c.hash), heatmaps);
    // A value that is no measure falls back to raw attention.
    await opened.goto(`${session.url}?measure=weights`);
    await waitReady(opened);
    assert.equal(await opened.inputValue(MEASURE), 'raw');
    await opened.context().close();
    await page.check('[data-testid="compare-toggle"]');
    await pickMeasure(page, 'norm');
  });

  it('a 512-token input shows the measures’ progress, layer by layer', { timeout: 240_000 }, async () => {
    const words = ['the', 'apple', 'grows', 'on', 'a', 'tree', 'near', 'the', 'house'];
    const long = Array.from({ length: 600 }, (_, i) => words[i % words.length]).join(' ');
    await page.fill(`${INPUT} >> nth=0`, long);
    const progress = page.locator('[data-testid="mixing-progress"]');
    await progress.waitFor({ state: 'visible', timeout: 60_000 });
    assert.match(await progress.textContent(), /computing what each token takes in: sentence [12] of 2, layer [0-6] of 6/);
    await waitReady(page);
    assert.equal(await progress.isHidden(), true, 'the progress stays after the result');
    const [card] = await focusCards(page);
    assert.deepEqual(card.strips.map((x) => [x.measure, x.chips.length]), [['norm', 512], ['raw', 512]]);
    await fillAndWait(page, `${INPUT} >> nth=0`, SENTENCES[0]);
  });

  it('a model whose layers cannot be read for the measures: the engine’s message, and raw attention keeps working', { timeout: READY_TIMEOUT_MS }, async () => {
    const own = await session.freshPage();
    await own.goto(`${session.url}?measure=alti`);
    await waitReady(own);
    await own.click('[data-testid="byo-summary"]');
    await own.setInputFiles('[data-testid="byo-tokenizer-file"]', DEFAULT_TOKENIZER);
    await own.setInputFiles('[data-testid="byo-model-file"]', { name: 'attention-only.onnx', mimeType: 'application/octet-stream', buffer: attentionOnlyModel() });
    await own.locator('[data-testid="byo-message"][data-kind="ok"]').waitFor({ timeout: 120_000 });
    await waitReady(own);
    const problem = await own.textContent('[data-testid="measure-problem"]');
    assert.match(problem, /^ALTI cannot be shown: context mixing cannot be measured for this model: .+\. The views show raw attention instead\.$/);
    assert.doesNotMatch(problem, /RuntimeError|unreachable|panicked/);
    assert.equal(await own.getAttribute('[data-testid="measure-problem"]', 'role'), 'alert');
    const drawn = await canvasPixels(own, 'focus-heatmap');
    assert.equal(drawn.length, 2);
    const json = await exportJson(own);
    assert.equal(json.measure, 'raw');
    // Sentence 2 is the longer one, so its rows have no padding (this graph does not mask it).
    assert.ok(Math.abs(json.records.filter((r) => r.sentence === 2 && r.query === 2).reduce((s, r) => s + r.weight, 0) - 1) < 1e-3, 'raw attention rows sum to 1');
    const [card] = await focusCards(own);
    assert.deepEqual(card.strips.map((x) => x.measure), ['raw'], 'a raw strip alone, nothing pretending to be ALTI');
    await own.screenshot({ path: join(artifacts, 'mixing-no-anatomy.png'), fullPage: true });
    await own.context().close();
  });

  it('the widget draws its measure attribute, explains a bad one, and follows a change', { timeout: READY_TIMEOUT_MS }, async () => {
    const host = await session.newPage();
    await host.goto(`${session.url}fixtures/measures.html`);
    const read = () =>
      host.$$eval('bert-attention', (all) =>
        Object.fromEntries(
          all.map((w) => {
            const root = w.shadowRoot;
            const texts = (selector) => Array.from(root.querySelectorAll(selector), (e) => e.textContent);
            return [
              w.dataset.case,
              {
                state: root.querySelector('[data-testid="widget"]').dataset.state,
                caption: root.querySelector('[data-testid="widget-caption"]').textContent,
                messages: texts('[data-testid="widget-messages"] li'),
                summaries: texts('[data-testid="focus-summary"]'),
                strips: Array.from(root.querySelectorAll('[data-testid="focus-strip"]'), (f) => f.dataset.measure),
                layerNotes: texts('[data-testid="head-layer-note"]'),
              },
            ];
          }),
        ),
      );
    for (let i = 0; i < 4; i++) {
      await host.locator('bert-attention').nth(i).scrollIntoViewIfNeeded();
      await host.waitForFunction((i) => /^(ready|error)$/.test(document.querySelectorAll('bert-attention')[i].shadowRoot?.querySelector('[data-testid="widget"]')?.dataset.state ?? ''), i, {
        timeout: READY_TIMEOUT_MS,
      });
    }
    const by = await read();
    assert.equal(by.norm.state, 'ready');
    assert.deepEqual(by.norm.messages, []);
    assert.match(by.norm.caption, /^Layer 6 of 6 · all 12 heads together · attention × value norm \(row shares\) · /);
    assert.deepEqual(by.norm.strips, ['norm', 'norm']);
    assert.deepEqual(
      by.norm.summaries,
      [0, 1].map((s) => strongest(mixing.tokens[s], mixing.tokens[s].indexOf('apple'), shares(mixing.norm_layer[s][LAST])[mixing.tokens[s].indexOf('apple')])),
    );
    assert.equal(by['alti-head'].state, 'ready');
    assert.match(by['alti-head'].caption, /^Layer 6 of 6 · ALTI \(no per-head values\) · /);
    assert.deepEqual(by['alti-head'].layerNotes, ['ALTI has no per-head values: the lines show layer 6 as a whole.', 'ALTI has no per-head values: the lines show layer 6 as a whole.']);
    assert.deepEqual(by.bad.messages, ['measure="attention-ish" is not one of raw, norm, alti, alti-rollout: showing raw attention.']);
    assert.match(by.bad.caption, /^Layer 6 of 6 · mean of 12 heads · computed/);
    assert.equal(by['no-anatomy'].state, 'ready');
    assert.match(by['no-anatomy'].messages[0], /^measure="norm" cannot be computed for this model \(context mixing cannot be measured for this model: .+\): showing raw attention\.$/);
    assert.match(by['no-anatomy'].caption, /^Layer 1 of 1 · mean of 1 heads · computed/);
    const before = await widgetHeatmaps(host, 2);

    await host.evaluate(() => document.querySelectorAll('bert-attention')[2].setAttribute('measure', 'alti-rollout'));
    await host.waitForFunction(() => /ALTI through layers 1–6/.test(document.querySelectorAll('bert-attention')[2].shadowRoot.querySelector('[data-testid="widget-caption"]').textContent));
    const after = await read();
    assert.deepEqual(after.bad.messages, []);
    assert.notDeepEqual(await widgetHeatmaps(host, 2), before, 'the widget did not redraw for measure="alti-rollout"');
    await host.screenshot({ path: join(artifacts, 'mixing-widgets.png'), fullPage: true });
    await host.close();
  });

  it('at phone width, in dark mode and by keyboard: nothing spills sideways, the measure can be changed', { timeout: READY_TIMEOUT_MS }, async () => {
    const context = await session.browser.newContext({ viewport: { width: 390, height: 844 }, deviceScaleFactor: 2, colorScheme: 'dark' });
    const phone = watchPage(await context.newPage(), (problem) => session.problems.push(problem));
    await phone.goto(session.url);
    await waitReady(phone);
    const spill = () => phone.evaluate(() => document.documentElement.scrollWidth - document.documentElement.clientWidth);
    assert.equal(await spill(), 0, 'the page is wider than the phone');
    assert.equal(await phone.evaluate(() => matchMedia('(prefers-color-scheme: dark)').matches), true);
    await phone.screenshot({ path: join(artifacts, 'mixing-phone-dark.png'), fullPage: true });
    await phone.locator('#focus-view article').first().screenshot({ path: join(artifacts, 'mixing-phone-dark-pair.png') });
    // Keyboard: focus the measure control and step to the next measure.
    await phone.focus(MEASURE);
    await phone.keyboard.press('ArrowDown');
    await waitReady(phone);
    assert.equal(await phone.inputValue(MEASURE), 'norm');
    assert.deepEqual((await focusCards(phone))[0].strips.map((x) => x.measure), ['norm', 'raw']);
    await phone.click('[data-testid="tab-model"]');
    await waitReady(phone);
    assert.equal(await spill(), 0, 'the model view is wider than the phone');
    await phone.locator('#panel-model').screenshot({ path: join(artifacts, 'mixing-phone-dark-model.png') });
    await context.close();
  });

  it('logged no console errors', () => {
    session.assertNoProblems();
  });
});
