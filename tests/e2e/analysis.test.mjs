// End-to-end tests of the analysis features (issue 7): the rollout and context-drift views draw
// the engine's numbers, attention flow reports progress, exports download valid PNG/JSON/CSV,
// the embed snippet matches the state, fill-mask says when it is unavailable (and works on a
// masked-LM export loaded from the user's files), and a corrupt model file is refused with the
// engine's message while the page keeps working. Saves screenshots to tests/artifacts/.
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { artifacts, assertDrawn, canvasPixels, dist, downloadOf, fillAndWait, modelsDir, parseCsv, READY_TIMEOUT_MS, tokenTables, useSession, waitReady } from './helpers.mjs';

const MLM_DIR = join(modelsDir, 'distilbert-tiny-random-mlm');
const INPUT = '[data-testid="sentence-input"]';
/** MiniLM-L6: embeddings + 6 layers. */
const LEVELS = 7;

const session = useSession();

/** In the page, before its scripts: logs the type of every message to and from the engine worker. */
function recordEngineMessages() {
  const log = (window.__engineLog = []);
  const Native = window.Worker;
  window.Worker = class extends Native {
    constructor(...args) {
      super(...args);
      this.addEventListener('message', ({ data }) =>
        log.push({ from: data.type, resultId: data.analysis?.resultId, rollouts: (data.analysis?.rollouts ?? data.rollouts)?.length }),
      );
    }
    postMessage(message, ...rest) {
      log.push({ to: message.type, resultId: message.resultId });
      return super.postMessage(message, ...rest);
    }
  };
}

/** The engine messages logged so far (see `recordEngineMessages`). */
function engineLog(page) {
  return page.evaluate(() => window.__engineLog);
}

/** Hovers the centre of item `index` of a chart canvas (its `data-marks`: x,y,w,h per item, CSS pixels). */
async function hoverMark(canvas, index) {
  await canvas.scrollIntoViewIfNeeded();
  const marks = (await canvas.getAttribute('data-marks')).split(';').map((m) => m.split(',').map(Number));
  assert.ok(index >= 0 && index < marks.length, `item ${index} of ${marks.length}`);
  const [x, y, w, h] = marks[index];
  await canvas.hover({ position: { x: x + w / 2, y: y + h / 2 } });
}

/**
 * Parses an SVG file in the page (DOMParser, XML rules) and checks it is a vector drawing: an `svg`
 * root with a size and no embedded image. Returns per heatmap its cells' fills (row by row), per
 * named figure its rectangles and circles, and every text. Saves a rendering as `shot` in the artifacts.
 */
async function readSvg(page, source, shot) {
  const svg = await page.evaluate((text) => {
    const doc = new DOMParser().parseFromString(text, 'image/svg+xml');
    const root = doc.documentElement;
    const figures = {};
    for (const g of doc.querySelectorAll('g[data-figure]')) {
      figures[g.getAttribute('data-figure')] = { rects: g.querySelectorAll('rect').length, circles: g.querySelectorAll('circle').length };
    }
    return {
      error: doc.querySelector('parsererror')?.textContent ?? null,
      root: `${root.namespaceURI} ${root.localName}`,
      size: [Number(root.getAttribute('width')), Number(root.getAttribute('height'))],
      images: doc.querySelectorAll('image, foreignObject').length,
      heatmaps: Array.from(doc.querySelectorAll('g.heatmap-cells'), (g) => ({ cells: Array.from(g.querySelectorAll('rect'), (r) => r.getAttribute('fill')) })),
      figures,
      texts: Array.from(doc.querySelectorAll('text'), (t) => t.textContent),
    };
  }, source);
  assert.equal(svg.error, null, 'the SVG does not parse');
  assert.equal(svg.root, 'http://www.w3.org/2000/svg svg');
  assert.ok(svg.size.every((v) => v > 100), `size ${svg.size}`);
  assert.equal(svg.images, 0, 'an embedded image instead of vector shapes');
  const view = await session.context.newPage();
  await view.setViewportSize({ width: Math.ceil(svg.size[0]), height: Math.ceil(svg.size[1]) });
  await view.setContent(source.replace(/^<\?xml[^>]*>\s*/, ''));
  await view.screenshot({ path: join(artifacts, shot), fullPage: true });
  // Where each named figure and its texts landed once rendered (rotation included).
  svg.layout = await view.evaluate(() => {
    const box = (e) => {
      const r = e.getBoundingClientRect();
      return { left: r.left, top: r.top, right: r.right, bottom: r.bottom };
    };
    return Object.fromEntries(
      Array.from(document.querySelectorAll('g[data-figure]'), (g) => [
        g.getAttribute('data-figure'),
        // A figure's first rectangle is its frame (the caption, all text, has none).
        { frame: g.querySelector('rect') ? box(g.querySelector('rect')) : null, texts: Array.from(g.querySelectorAll('text'), (t) => ({ text: t.textContent, ...box(t) })) },
      ]),
    );
  });
  await view.close();
  return svg;
}

describe('the analysis views', { concurrency: false }, () => {
  let page;

  it('loads the default page', { timeout: READY_TIMEOUT_MS + 30_000 }, async () => {
    page = await session.open('', { init: recordEngineMessages });
  });

  it('computes rollout only when the Rollout tab shows a run, once per run', async () => {
    await fillAndWait(page, `${INPUT} >> nth=0`, 'Apple is a huge enterprise');
    await fillAndWait(page, `${INPUT} >> nth=0`, 'Apple is huge enterprise');
    let log = await engineLog(page);
    assert.ok(log.filter((m) => m.to === 'run').length >= 3, `runs: ${JSON.stringify(log)}`);
    assert.deepEqual(log.filter((m) => m.to === 'rollout'), [], 'rollout was asked for without the tab');
    assert.ok(log.filter((m) => m.from === 'result').every((m) => !m.rollouts), 'a run brought rollout back unasked');

    await page.click('[data-testid="tab-rollout"]');
    await page.waitForSelector('[data-testid="rollout-strips"]', { state: 'visible' });
    log = await engineLog(page);
    const lastRun = log.filter((m) => m.from === 'result').at(-1).resultId;
    assert.deepEqual(log.filter((m) => m.to === 'rollout').map((m) => m.resultId), [lastRun], 'one rollout request, for the run on screen');
    assert.deepEqual(log.filter((m) => m.from === 'rollout').map((m) => m.rollouts), [2], 'one rollout per sentence came back');

    // Cached per run: tabs, slider and focus changes do not ask again; a new run does, once.
    await page.click('[data-testid="tab-focus"]');
    await page.click('[data-testid="tab-rollout"]');
    await page.locator('[data-testid="rollout-layer"]').fill('2');
    await page.fill('[data-testid="focus-input"]', 'huge');
    await page.fill('[data-testid="focus-input"]', 'apple');
    await page.locator('[data-testid="rollout-layer"]').fill('6');
    assert.equal((await engineLog(page)).filter((m) => m.to === 'rollout').length, 1, 'the cached rollout was asked for again');
    await fillAndWait(page, `${INPUT} >> nth=0`, 'Apple is a huge enterprise');
    await page.waitForFunction(() => window.__engineLog.filter((m) => m.from === 'rollout').length === 2);
    await page.waitForSelector('[data-testid="rollout-strips"]', { state: 'visible' });
    await fillAndWait(page, `${INPUT} >> nth=0`, 'Apple is huge enterprise');
    await page.waitForFunction(() => window.__engineLog.filter((m) => m.from === 'rollout').length === 3);
    await page.click('[data-testid="tab-focus"]');
  });

  it('the rollout view draws raw attention and rollout per sentence, with a text alternative', async () => {
    await page.click('[data-testid="tab-rollout"]');
    await page.waitForSelector('[data-testid="rollout-strips"]', { state: 'visible' });
    const strips = await canvasPixels(page, 'rollout-strips');
    assert.equal(strips.length, 2, 'one strip figure per sentence');
    for (const [i, s] of strips.entries()) {
      assert.ok(s.width > 100 && s.height > 40, `strip ${i + 1} is ${s.width}×${s.height}`);
      assert.ok(s.colours > 20, `strip ${i + 1}: only ${s.colours} colours`);
    }
    const labels = await page.$$eval('[data-testid="rollout-strips"]', (cs) => cs.map((c) => c.getAttribute('aria-label')));
    for (const label of labels) {
      assert.match(label, /raw · layer 6, mean of 12 heads: .*apple \d\.\d{3}/);
      assert.match(label, /rollout · to layer 6: /);
    }
    // Rollout rows are distributions over the real tokens.
    const sums = labels.map((label) => {
      const rollout = label.split('rollout · to layer 6: ')[1].split(' flow (')[0];
      return Array.from(rollout.matchAll(/ (\d\.\d{3})/g), (m) => Number(m[1])).reduce((a, b) => a + b, 0);
    });
    for (const sum of sums) assert.ok(Math.abs(sum - 1) < 0.02, `rollout row sums to ${sum}`);
    const before = (await canvasPixels(page, 'rollout-strips'))[0].hash;
    await page.locator('[data-testid="rollout-layer"]').fill('1');
    assert.equal(await page.textContent('[data-testid="rollout-layer-value"]'), '1 of 6');
    assert.notEqual((await canvasPixels(page, 'rollout-strips'))[0].hash, before, 'the slider did not change the rollout');
    assert.match(await page.textContent('[data-testid="rollout-summary"] >> nth=0'), /rollout · to layer 1: apple → /);
    await page.screenshot({ path: join(artifacts, 'analysis-rollout.png'), fullPage: true });
  });

  it('attention flow reports progress and adds a third row', async () => {
    const card = page.locator('#rollout-view article').first();
    await card.locator('[data-testid="flow-button"]').click();
    await card.locator('[data-testid="flow-note"]').filter({ hasText: /^attention flow: / }).waitFor({ timeout: 60_000 });
    const label = await card.locator('[data-testid="rollout-strips"]').getAttribute('aria-label');
    const flow = label.split('flow (all layers): ')[1];
    assert.ok(flow, `no flow row in: ${label}`);
    const values = Array.from(flow.matchAll(/ (\d\.\d{3})/g), (m) => Number(m[1]));
    assert.equal(values.length, 6, 'one flow value per real token of "Apple is huge enterprise"');
    assert.ok(Math.abs(values.reduce((a, b) => a + b, 0) - 1) < 0.02, `flow row sums to ${values}`);
  });

  it('hovering a rollout cell reads out the value drawn there', async () => {
    const records = JSON.parse((await downloadOf(page, 'export-json')).bytes.toString('utf8')).records.filter((r) => r.sentence === 1);
    const measures = [...new Set(records.map((r) => r.measure))];
    assert.equal(measures.length, 3, `raw, rollout and flow rows: ${measures}`);
    const n = records.length / measures.length;
    const rollout = measures.find((m) => m.startsWith('rollout'));
    const cell = records.find((r) => r.measure === rollout && r.key_token === 'enterprise');
    const strips = page.locator('[data-testid="rollout-strips"]').first();
    await hoverMark(strips, measures.indexOf(rollout) * n + cell.key - 1);
    assert.equal(
      await page.locator('[data-testid="rollout-readout"]').first().textContent(),
      `${cell.weight.toFixed(4)} · ${rollout}: “apple” → “enterprise” (#${cell.key})`,
    );
    // The keyboard reaches the same cells: the first, then one row down.
    await page.mouse.move(0, 0);
    await strips.focus();
    const first = records.find((r) => r.measure === measures[0] && r.key === 1);
    assert.match(await page.locator('[data-testid="rollout-readout"]').first().textContent(), new RegExp(`^${first.weight.toFixed(4)} · `));
    await page.keyboard.press('ArrowDown');
    const below = records.find((r) => r.measure === measures[1] && r.key === 1);
    assert.match(await page.locator('[data-testid="rollout-readout"]').first().textContent(), new RegExp(`^${below.weight.toFixed(4)} · rollout`));
    await page.keyboard.press('Escape');
  });

  it('the drift view charts one cosine per level for the sentence pair and maps the tokens', async () => {
    await page.click('[data-testid="tab-drift"]');
    await page.waitForSelector('[data-testid="drift-chart"]', { state: 'visible' });
    const [chart] = await canvasPixels(page, 'drift-chart');
    assertDrawn(chart, 'drift chart', 5);
    const label = await page.getAttribute('[data-testid="drift-chart"]', 'aria-label');
    const pair = label.split('sentence 1 ↔ sentence 2: ')[1];
    const values = Array.from(pair.matchAll(/(?:emb|L\d+) (-?\d\.\d{3})/g), (m) => Number(m[1]));
    assert.equal(values.length, LEVELS, `levels in: ${label}`);
    assert.ok(values.every((v) => v >= -1 && v <= 1));
    const cells = await page.$$eval('[data-testid="drift-table"] tbody tr td', (tds) => tds.map((td) => Number(td.textContent)));
    assert.deepEqual(cells, values, 'the table shows the chart numbers');
    const [map] = await canvasPixels(page, 'token-map');
    assertDrawn(map, 'token map', 5);
    assert.match(await page.textContent('[data-testid="tokenmap-summary"]'), /^13 tokens from 2 sentences.*Dashed lines join the same word across sentences: apple/);
    await page.screenshot({ path: join(artifacts, 'analysis-drift.png'), fullPage: true });
    await page.locator('[data-testid="drift-chart"]').screenshot({ path: join(artifacts, 'drift-chart.png') });
    await page.locator('[data-testid="token-map"]').screenshot({ path: join(artifacts, 'token-map.png') });
  });

  it('hovering a drift point or a token on the map reads out its numbers', async () => {
    const json = JSON.parse((await downloadOf(page, 'export-json')).bytes.toString('utf8'));
    const chart = page.locator('[data-testid="drift-chart"]');
    const last = json.records.at(-1);
    assert.equal(last.level, 'L6');
    await hoverMark(chart, json.records.length - 1);
    assert.equal(await page.textContent('[data-testid="drift-readout"]'), `${last.cosine.toFixed(3)} · cosine of “apple”, sentence 1 ↔ sentence 2, after layer 6 (L6)`);
    await page.mouse.move(0, 0);
    assert.match(await page.textContent('[data-testid="drift-readout"]'), /^Hover over a point/);
    await chart.focus();
    await page.keyboard.press('Home');
    assert.equal(await page.textContent('[data-testid="drift-readout"]'), `${json.records[0].cosine.toFixed(3)} · cosine of “apple”, sentence 1 ↔ sentence 2, the embeddings (emb)`);
    await page.keyboard.press('ArrowRight');
    assert.match(await page.textContent('[data-testid="drift-readout"]'), new RegExp(`^${json.records[1].cosine.toFixed(3)} · .*after layer 1 \\(L1\\)$`));
    await chart.blur();

    const { tokens, points } = json.tokenMap;
    const index = tokens.findIndex(([s, , text]) => s === 0 && text === 'apple');
    const map = page.locator('[data-testid="token-map"]');
    await hoverMark(map, index);
    const [x, y] = points[index];
    assert.equal(await page.textContent('[data-testid="tokenmap-readout"]'), `“apple” (sentence 1, token ${tokens[index][1] + 1}) · PC1 ${x.toFixed(3)}, PC2 ${y.toFixed(3)}`);
    await map.screenshot({ path: join(artifacts, 'token-map-hover.png') });
    await page.mouse.move(0, 0);
  });

  it('changing the focus word recomputes the drift', async () => {
    await fillAndWait(page, `${INPUT} >> nth=1`, 'I am eating an apple and it is huge');
    await page.fill('[data-testid="focus-input"]', 'huge');
    await page.waitForFunction(() => /“huge”/.test(document.querySelector('[data-testid="drift-chart"]')?.getAttribute('aria-label') ?? ''));
    await fillAndWait(page, `${INPUT} >> nth=1`, 'I am eating an apple');
    await page.fill('[data-testid="focus-input"]', 'apple');
    await page.waitForFunction(() => /“apple”/.test(document.querySelector('[data-testid="drift-chart"]')?.getAttribute('aria-label') ?? ''));
  });

  it('downloads the view as PNG, JSON and CSV', async () => {
    const png = await downloadOf(page, 'export-png');
    assert.match(png.name, /^bertscope-drift-apple\.png$/);
    assert.deepEqual([...png.bytes.subarray(0, 8)], [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a], 'PNG signature');
    assert.ok(png.bytes.length > 5000, `PNG of ${png.bytes.length} bytes`);

    const json = JSON.parse((await downloadOf(page, 'export-json')).bytes.toString('utf8'));
    assert.equal(json.view, 'drift');
    assert.equal(json.records.length, LEVELS);
    assert.deepEqual(Object.keys(json.records[0]), json.columns);
    assert.equal(json.tokenMap.points.length, 13);

    const csv = parseCsv((await downloadOf(page, 'export-csv')).bytes.toString('utf8'));
    assert.deepEqual(csv[0], ['pair', 'sentence_a', 'token_a', 'sentence_b', 'token_b', 'level', 'cosine']);
    assert.equal(csv.length, 1 + LEVELS);
    assert.deepEqual(csv.slice(1).map((r) => Number(r[6]).toFixed(4)), json.records.map((r) => r.cosine.toFixed(4)));

    // The focus view's numbers: both sentences' attention at the shown layer and head.
    await page.click('[data-testid="tab-focus"]');
    const focus = JSON.parse((await downloadOf(page, 'export-json')).bytes.toString('utf8'));
    assert.equal(focus.records.length, 6 * 6 + 7 * 7);
    const row = focus.records.filter((r) => r.sentence === 1 && r.query === 2);
    assert.ok(Math.abs(row.reduce((s, r) => s + r.weight, 0) - 1) < 1e-3, 'an attention row sums to 1');
    const focusPng = await downloadOf(page, 'export-png');
    assert.ok(focusPng.bytes.length > 5000);
  });

  it('downloads the focus, rollout and drift views as vector SVG', async () => {
    // Focus view (the tab the previous test left open): one n×n group of cells per sentence.
    const focusJson = JSON.parse((await downloadOf(page, 'export-json')).bytes.toString('utf8'));
    const focus = await downloadOf(page, 'export-svg');
    assert.equal(focus.name, 'bertscope-focus-apple.svg');
    const svg = await readSvg(page, focus.bytes.toString('utf8'), 'svg-focus.png');
    const tables = await tokenTables(page);
    assert.equal(svg.heatmaps.length, tables.length, 'one heatmap per sentence');
    svg.heatmaps.forEach((h, i) => {
      const n = tables[i].tokens.length;
      assert.equal(h.cells.length, n * n, `sentence ${i + 1}: ${h.cells.length} cells for ${n} tokens`);
      assert.ok(new Set(h.cells).size > 10, `sentence ${i + 1}: only ${new Set(h.cells).size} colours`);
      // The strongest weight of the sentence is drawn in the top colour of the scale (viridis #fde725).
      const records = focusJson.records.filter((r) => r.sentence === i + 1);
      const top = records.reduce((a, b) => (b.weight > a.weight ? b : a));
      assert.equal(h.cells[(top.query - 1) * n + (top.key - 1)], '#fde725', `sentence ${i + 1}: cell ${top.query_token} → ${top.key_token}`);
    });
    for (const token of ['enterprise', 'eating', '[PAD]', 'apple → enterprise']) {
      assert.ok(svg.texts.some((t) => t.includes(token)), `no text “${token}” in the SVG`);
    }

    await page.click('[data-testid="tab-rollout"]');
    await page.waitForSelector('[data-testid="rollout-strips"]', { state: 'visible' });
    const rolloutJson = JSON.parse((await downloadOf(page, 'export-json')).bytes.toString('utf8'));
    const rollout = await readSvg(page, (await downloadOf(page, 'export-svg')).bytes.toString('utf8'), 'svg-rollout.png');
    for (const sentence of [1, 2]) {
      const records = rolloutJson.records.filter((r) => r.sentence === sentence);
      // Every strip cell is a rectangle, plus the figure's background.
      assert.equal(rollout.figures[`rollout-${sentence}`]?.rects, records.length + 1, `rollout strips of sentence ${sentence}`);
    }

    await page.click('[data-testid="tab-drift"]');
    await page.waitForSelector('[data-testid="drift-chart"]', { state: 'visible' });
    const driftJson = JSON.parse((await downloadOf(page, 'export-json')).bytes.toString('utf8'));
    const drift = await readSvg(page, (await downloadOf(page, 'export-svg')).bytes.toString('utf8'), 'svg-drift.png');
    assert.equal(drift.figures['drift-chart'].circles, driftJson.records.length, 'one point per level');
    assert.equal(drift.figures['token-map'].circles, driftJson.tokenMap.points.length, 'one point per token');
    assert.ok(drift.texts.includes(driftJson.records.at(-1).cosine.toFixed(2)), 'the last value is written on the chart');
    assert.ok(drift.texts.includes('apple·1') && drift.texts.includes('eating·2'), 'token labels');
    // Layout: every map label inside the map (labels flip left at the right edge), and no chart
    // text over another (the first value once sat on the 1.0 tick).
    const { frame, texts } = drift.layout['token-map'];
    for (const t of texts) assert.ok(t.left >= frame.left && t.right <= frame.right + 0.5, `“${t.text}” leaves the map: ${t.left}–${t.right} of ${frame.left}–${frame.right}`);
    const chartTexts = drift.layout['drift-chart'].texts;
    for (const [i, a] of chartTexts.entries()) {
      for (const b of chartTexts.slice(i + 1)) {
        const overlap = Math.min(a.right, b.right) - Math.max(a.left, b.left) > 0.5 && Math.min(a.bottom, b.bottom) - Math.max(a.top, b.top) > 0.5;
        assert.ok(!overlap, `“${a.text}” overlaps “${b.text}” on the drift chart`);
      }
    }
    await page.click('[data-testid="tab-focus"]');
  });

  it('"copy embed snippet" gives the widget markup for the state', async () => {
    await page.selectOption('[data-testid="head-select"]', '2');
    await page.click('[data-testid="copy-embed"]');
    assert.equal(
      await page.inputValue('[data-testid="embed-snippet"]'),
      '<bert-attention sentences="Apple is huge enterprise|I am eating an apple" focus="apple" layer="6" head="3" view="focus"></bert-attention>',
    );
    await page.selectOption('[data-testid="head-select"]', 'mean');
  });

  it('fill-mask explains it is unavailable for the default model', async () => {
    const text = await page.textContent('[data-testid="fill-mask-unavailable"]');
    assert.match(text, /unavailable for this model/);
    assert.match(text, /masked-language-model head/);
  });

  it('a corrupt model file is refused with the engine’s message; the previous model keeps working', async () => {
    await page.click('[data-testid="byo-summary"]');
    await page.setInputFiles('[data-testid="byo-tokenizer-file"]', join(dist, 'models', 'default', 'tokenizer.json'));
    await page.setInputFiles('[data-testid="byo-model-file"]', { name: 'broken.onnx', mimeType: 'application/octet-stream', buffer: Buffer.from([0x08, 0xff, 0x13, 0x37, 0x00, 0x42, 0x99]) });
    const message = page.locator('[data-testid="byo-message"][data-kind="error"]');
    await message.waitFor({ timeout: 60_000 });
    const text = await message.textContent();
    assert.match(text, /^broken\.onnx cannot be used: .+\. The previous model is still loaded\.$/);
    assert.doesNotMatch(text, /RuntimeError|unreachable|panicked/);
    assert.match(await page.textContent('[data-testid="model-info"]'), /all-MiniLM-L6-v2/);
    await fillAndWait(page, `${INPUT} >> nth=0`, 'Apple is a huge enterprise');
    assert.equal((await canvasPixels(page, 'focus-heatmap')).length, 2);
    await page.screenshot({ path: join(artifacts, 'analysis-byo-error.png'), fullPage: true });
  });

  it('a masked-LM export from the user’s files fills a [MASK] with 10 candidates', async () => {
    await page.setInputFiles('[data-testid="byo-model-file"]', join(MLM_DIR, 'model.onnx'));
    await page.setInputFiles('[data-testid="byo-tokenizer-file"]', join(MLM_DIR, 'tokenizer.json'));
    await page.locator('[data-testid="byo-message"][data-kind="ok"]').waitFor({ timeout: 120_000 });
    assert.match(await page.textContent('[data-testid="model-info"]'), /model\.onnx \(your file\)/);
    await waitReady(page);
    await fillAndWait(page, `${INPUT} >> nth=1`, 'I am eating an [MASK]');
    const result = page.locator('[data-testid="fill-mask-result"]');
    await result.first().waitFor({ timeout: 60_000 });
    assert.equal(await result.count(), 1);
    assert.match(await result.locator('figcaption').textContent(), /^Sentence 2, \[MASK\] at token \d+$/);
    const probabilities = await result.locator('.fill-p').allTextContents();
    assert.equal(probabilities.length, 10);
    const p = probabilities.map((t) => Number(t.replace('%', '')));
    assert.ok(p.every((v) => v > 0 && v <= 100), `probabilities: ${p}`);
    assert.ok(p.every((v, i) => i === 0 || v <= p[i - 1]), `not sorted: ${p}`);
    await page.screenshot({ path: join(artifacts, 'analysis-fill-mask.png'), fullPage: true });
  });

  it('left no console errors', () => {
    session.assertNoProblems();
  });
});
