// End-to-end tests of the exports (issue 16, item 5, and the colour switches of item 2 in the head,
// model and rollout views): each download is captured and its contents checked against the
// onnxruntime reference of the default model (an independent run of the same file): the head and
// model views' `[layer][head][q][k]` tensor of the sentence shown, the CSV's rows, the SVG's heads,
// the PNG cropped to the figure with its caption (drawn, and stored in the file as the JSON says
// it), the whole run's tensor, and "hide [CLS]/[SEP]" (rows renormalised over the other tokens)
// with one colour scale. Also: strip row names in full, the colour bar's caption clear of its
// numbers, and readable export buttons in dark mode. Saves the PNGs and screenshots at desktop and
// phone width, light and dark, to tests/artifacts/.
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { artifacts, downloadOf, modelsDir, parseCsv, READY_TIMEOUT_MS, urlWith, useSession, waitReady } from './helpers.mjs';

const SENTENCES = ['Apple is huge enterprise', 'I am eating an apple'];
/** wasm against onnxruntime: raw attention agrees within 2e-4 (see mixing.test.mjs). */
const TOLERANCE = 2e-4;
/** The figures' margin in CSS pixels, and the PNG's pixels per CSS pixel (svg-figure.ts, export.ts). */
const MARGIN = 16;
const PNG_SCALE = 2;
const PHONE = { viewport: { width: 390, height: 844 }, deviceScaleFactor: 2, isMobile: true, hasTouch: true };

/** The onnxruntime reference of the default model on `SENTENCES`: per sentence its real tokens, ids and `[layer][head][q][k]` over them. */
function reference() {
  const file = JSON.parse(readFileSync(join(modelsDir, 'references', 'minilm-l6.weights_int8.ort.json'), 'utf8'));
  const { texts, tokens, input_ids: ids, attention_mask: masks, attentions } = file.batch;
  assert.deepEqual(texts, SENTENCES, 'the reference is of other sentences');
  return texts.map((text, s) => {
    const len = masks[s].filter(Boolean).length;
    return {
      text,
      len,
      tokens: tokens[s].slice(0, len),
      ids: ids[s].slice(0, len),
      attention: attentions[s].map((layer) => layer.map((head) => head.slice(0, len).map((row) => row.slice(0, len)))),
    };
  });
}

/** `matrix` with the [CLS]/[SEP] columns set to 0 and each row divided by what is left of it. */
function renormalised(matrix, tokens) {
  const special = (k) => tokens[k] === '[CLS]' || tokens[k] === '[SEP]';
  return matrix.map((row) => {
    const left = row.reduce((sum, v, k) => (special(k) ? sum : sum + v), 0);
    // A row with nothing left for the words (its weights underflowed to 0) stays 0, as the page keeps it.
    return row.map((v, k) => (special(k) || left === 0 ? 0 : v / left));
  });
}

/**
 * The largest difference between a renormalised `[…][q][k]` tensor and the reference's, each
 * scaled back by what the reference row had left for the words: a row that gives [CLS]/[SEP] all
 * but 2e-6 of its attention is divided by 2e-6, and so is the last digit of its difference from
 * onnxruntime; in attention units the difference stays that of the raw weights.
 */
function worstRenormalised(page, raw, tokens) {
  const special = (k) => tokens[k] === '[CLS]' || tokens[k] === '[SEP]';
  if (typeof raw[0][0] !== 'number') return page.reduce((worst, x, i) => Math.max(worst, worstRenormalised(x, raw[i], tokens)), 0);
  const expected = renormalised(raw, tokens);
  return page.reduce((worst, row, q) => {
    const left = raw[q].reduce((sum, v, k) => (special(k) ? sum : sum + v), 0);
    return row.reduce((w, v, k) => Math.max(w, Math.abs(v - expected[q][k]) * left), worst);
  }, 0);
}

/** The largest difference between two nested arrays of numbers of the same shape. */
function worstDifference(a, b, where) {
  if (typeof a === 'number') return Math.abs(a - b);
  assert.equal(a.length, b.length, `${where}: ${a.length} entries where ${b.length} were expected`);
  return a.reduce((worst, x, i) => Math.max(worst, worstDifference(x, b[i], where)), 0);
}

/** A PNG's size and its text chunks (`iTXt` and `tEXt`), read from the file's bytes. */
function readPng(bytes) {
  assert.deepEqual([...bytes.subarray(0, 8)], [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a], 'PNG signature');
  const texts = {};
  let at = 8;
  let size = null;
  while (at < bytes.length) {
    const length = bytes.readUInt32BE(at);
    const type = bytes.toString('latin1', at + 4, at + 8);
    const data = bytes.subarray(at + 8, at + 8 + length);
    if (type === 'IHDR') size = { width: data.readUInt32BE(0), height: data.readUInt32BE(4) };
    if (type === 'iTXt') {
      const nul = data.indexOf(0);
      // keyword NUL, compression flag, method, language NUL, translated keyword NUL, text.
      const language = data.indexOf(0, nul + 3);
      const translated = data.indexOf(0, language + 1);
      texts[data.toString('latin1', 0, nul)] = data.subarray(translated + 1).toString('utf8');
    }
    if (type === 'tEXt') {
      const nul = data.indexOf(0);
      texts[data.toString('latin1', 0, nul)] = data.subarray(nul + 1).toString('latin1');
    }
    at += 12 + length;
  }
  return { ...size, texts };
}

/**
 * In the page: decodes the PNG and says how many rows at its bottom and columns at its right are
 * only background (the colour of its top-left pixel), and how many rows hold nothing but
 * background anywhere (blank bands: the old focus PNG had ~400 px after each heatmap).
 */
async function pngBlankEdges(page, bytes) {
  return page.evaluate(async (base64) => {
    const image = new Image();
    image.src = `data:image/png;base64,${base64}`;
    await image.decode();
    const canvas = document.createElement('canvas');
    canvas.width = image.naturalWidth;
    canvas.height = image.naturalHeight;
    const ctx = canvas.getContext('2d');
    ctx.drawImage(image, 0, 0);
    const { data, width, height } = ctx.getImageData(0, 0, canvas.width, canvas.height);
    const background = data.slice(0, 4).join();
    const blankRow = (y) => {
      for (let x = 0; x < width; x++) if (data.slice((y * width + x) * 4, (y * width + x) * 4 + 4).join() !== background) return false;
      return true;
    };
    const blankColumn = (x) => {
      for (let y = 0; y < height; y++) if (data.slice((y * width + x) * 4, (y * width + x) * 4 + 4).join() !== background) return false;
      return true;
    };
    let bottom = 0;
    while (bottom < height && blankRow(height - 1 - bottom)) bottom++;
    let right = 0;
    while (right < width && blankColumn(width - 1 - right)) right++;
    let band = 0;
    let longest = 0;
    for (let y = 0; y < height; y++) {
      band = blankRow(y) ? band + 1 : 0;
      longest = Math.max(longest, band);
    }
    return { bottom, right, longestBlankBand: longest, background };
  }, bytes.toString('base64'));
}

/** Parses an SVG export in the page: parse errors, size, title, head groups, model maps and every text. */
async function readSvg(page, bytes) {
  return page.evaluate((text) => {
    const doc = new DOMParser().parseFromString(text, 'image/svg+xml');
    const root = doc.documentElement;
    return {
      error: doc.querySelector('parsererror')?.textContent ?? null,
      root: `${root.namespaceURI} ${root.localName}`,
      size: [Number(root.getAttribute('width')), Number(root.getAttribute('height'))],
      title: doc.querySelector('svg > title')?.textContent ?? null,
      heads: Array.from(doc.querySelectorAll('g.head-lines'), (g) => g.getAttribute('data-head')),
      maps: doc.querySelectorAll('g.map').length,
      mapRects: doc.querySelector('g.map')?.querySelectorAll('rect').length ?? 0,
      texts: Array.from(doc.querySelectorAll('text'), (t) => t.textContent),
      figureTexts: Object.fromEntries(Array.from(doc.querySelectorAll('g[data-figure]'), (g) => [g.getAttribute('data-figure'), Array.from(g.querySelectorAll('text'), (t) => t.textContent)])),
      images: doc.querySelectorAll('image, foreignObject').length,
    };
  }, bytes.toString('utf8'));
}

/** Asserts an SVG export parses as SVG, is vector only and carries `caption` as its title and first text. */
function assertSvg(svg, caption) {
  assert.equal(svg.error, null, 'the SVG does not parse');
  assert.equal(svg.root, 'http://www.w3.org/2000/svg svg');
  assert.equal(svg.images, 0, 'an embedded image instead of vector shapes');
  assert.equal(svg.title, caption, 'the SVG’s title is the caption');
}

/**
 * Asserts a PNG export: the SVG figure at `PNG_SCALE` (so cropped as the figure is), no blank band
 * taller than the gap between blocks, at most the margin blank at the bottom, the caption stored.
 */
async function assertPng(page, png, svg, caption, what) {
  const read = readPng(png.bytes);
  assert.equal(read.width, Math.round(svg.size[0] * PNG_SCALE), `${what}: PNG width`);
  assert.equal(read.height, Math.round(svg.size[1] * PNG_SCALE), `${what}: PNG height`);
  assert.equal(read.texts.Description, caption, `${what}: the PNG's Description is the caption`);
  const edges = await pngBlankEdges(page, png.bytes);
  // The margin, and a line's own padding under its last text or row.
  assert.ok(edges.bottom <= 2 * MARGIN * PNG_SCALE, `${what}: ${edges.bottom} blank rows at the bottom`);
  assert.ok(edges.longestBlankBand <= 40 * PNG_SCALE, `${what}: a blank band of ${edges.longestBlankBand} rows`);
  return { ...read, edges };
}

/**
 * Per colour bar of the focus view: whether the 6 CSS pixels after its "0" and before its top
 * value are free of paint on the numbers' line (the caption once ran into the top value:
 * "0 attention weig0.94"), its width and where its caption went.
 */
function legendGaps(page) {
  return page.$$eval('#focus-view .heatmap-panel', (panels) =>
    panels.map((panel) => {
      const canvas = panel.querySelector('canvas.legend');
      const max = Number(panel.dataset.scaleMax).toFixed(2);
      const ratio = canvas.width / canvas.clientWidth;
      const ctx = canvas.getContext('2d');
      ctx.font = getComputedStyle(document.documentElement).getPropertyValue('--canvas-font').trim() || '12px system-ui, sans-serif';
      const width = canvas.clientWidth;
      const blank = (x0, x1) => {
        // The numbers' line: 12 to 26 CSS pixels down (legend.ts).
        const { data } = ctx.getImageData(Math.round(x0 * ratio), Math.round(12 * ratio), Math.max(1, Math.round((x1 - x0) * ratio)), Math.round(14 * ratio));
        for (let i = 3; i < data.length; i += 4) if (data[i] > 0) return false;
        return true;
      };
      const zero = ctx.measureText('0').width;
      const top = ctx.measureText(max).width;
      return { width, caption: canvas.dataset.caption, afterZero: blank(zero + 1, zero + 7), beforeMax: blank(width - top - 7, width - top - 1) };
    }),
  );
}

/** The width the panel of `view` lays its content out in (its inner width), in CSS pixels. */
function panelWidth(page, view) {
  return page.$eval(`#panel-${view}`, (panel) => {
    const style = getComputedStyle(panel);
    return Math.round(panel.clientWidth - parseFloat(style.paddingLeft) - parseFloat(style.paddingRight));
  });
}

const json = async (page, id) => JSON.parse((await downloadOf(page, id)).bytes.toString('utf8'));

async function showView(page, view) {
  await page.click(`[data-testid="tab-${view}"]`);
  await waitReady(page);
}

const session = useSession();

describe('exports that match the screen', { concurrency: false }, () => {
  const ref = reference();
  const query = (extra = []) => `?${new URLSearchParams([...SENTENCES.map((s) => ['s', s]), ['focus', 'apple'], ...extra])}`;

  it('the head view exports every head of the sentence shown: JSON tensor, CSV, SVG and a cropped, captioned PNG', { timeout: READY_TIMEOUT_MS + 60_000 }, async () => {
    const page = await session.open(query([['view', 'head'], ['layer', '3']]));
    // The second sentence, so the file cannot be sentence 1's by accident.
    await page.selectOption('[data-testid="sentence-select"]', '1');
    await waitReady(page);
    const file = await json(page, 'export-json');
    const s = 1;
    assert.equal(file.view, 'head');
    assert.equal(file.sentence, 2);
    assert.equal(file.text, ref[s].text);
    assert.deepEqual(file.tokens, ref[s].tokens);
    assert.deepEqual(file.input_ids, ref[s].ids);
    assert.deepEqual(file.layers, [3]);
    assert.deepEqual(file.shape, [1, 12, ref[s].len, ref[s].len]);
    assert.deepEqual(file.heads_shown, Array.from({ length: 12 }, (_, h) => h + 1));
    assert.equal(file.measure, 'raw');
    assert.equal(file.hide_special, false);
    assert.equal(file.shared_scale, false);
    assert.match(file.model, /MiniLM/i);
    const worst = worstDifference(file.weights, [ref[s].attention[2]], 'head view');
    assert.ok(worst <= TOLERANCE, `the head view's tensor differs from onnxruntime's by up to ${worst}`);
    assert.equal(file.caption, `bertscope · ${file.model} · raw attention · layer 3, all 12 heads · sentence 2: “I am eating an apple”`);

    const csv = parseCsv((await downloadOf(page, 'export-csv')).bytes.toString('utf8'));
    assert.deepEqual(csv[0], ['sentence', 'layer', 'head', 'query', 'query_token', 'key', 'key_token', 'weight']);
    assert.equal(csv.length - 1, 12 * ref[s].len * ref[s].len, 'one CSV row per head, query and key');
    for (const [head, q, k] of [[1, 1, 1], [5, 6, 2], [12, ref[s].len, ref[s].len]]) {
      const row = csv.find((r) => r[2] === String(head) && r[3] === String(q) && r[5] === String(k));
      assert.deepEqual(row.slice(0, 7), ['2', '3', String(head), String(q), ref[s].tokens[q - 1], String(k), ref[s].tokens[k - 1]]);
      assert.equal(Number(row[7]), file.weights[0][head - 1][q - 1][k - 1], `CSV head ${head}, ${q} → ${k}`);
    }

    // Two heads switched off: the SVG and the PNG draw the other ten, the JSON says which are shown.
    await page.click('[data-testid="head-chip"][data-head="1"]');
    await page.click('[data-testid="head-chip"][data-head="7"]');
    const shown = [1, 3, 4, 5, 6, 7, 9, 10, 11, 12];
    const svgFile = await downloadOf(page, 'export-svg');
    assert.equal(svgFile.name, 'bertscope-head-apple-s2.svg');
    const svg = await readSvg(page, svgFile.bytes);
    const caption = (await json(page, 'export-json')).caption;
    assert.equal(caption, `bertscope · ${file.model} · raw attention · layer 3, heads ${shown.join(', ')} of 12 · sentence 2: “I am eating an apple”`);
    assertSvg(svg, caption);
    assert.deepEqual(svg.heads.map(Number), shown, 'one group of lines per head drawn');
    for (const token of ref[s].tokens) assert.ok(svg.texts.includes(token), `no label “${token}” in the SVG`);
    assert.deepEqual((await json(page, 'export-json')).heads_shown, shown);

    const png = await downloadOf(page, 'export-png');
    assert.equal(png.name, 'bertscope-head-apple-s2.png');
    writeFileSync(join(artifacts, 'export-head.png'), png.bytes);
    const read = await assertPng(page, png, svg, caption, 'head view');
    // The figure is laid out for the panel: as wide as its inner width.
    assert.equal(svg.size[0], await panelWidth(page, 'head'), 'the head view figure is as wide as its panel');
    assert.ok(read.height > 600, `the PNG is ${read.height} px tall: the caption and every token's row`);
    session.assertNoProblems();
    await page.close();
  });

  it('the model view exports all layers × heads with [CLS]/[SEP] hidden on one colour scale', { timeout: READY_TIMEOUT_MS + 60_000 }, async () => {
    const page = await session.open(query([['view', 'model'], ['hide-special', 'on'], ['shared-scale', 'on']]));
    const file = await json(page, 'export-json');
    const s = 0;
    const { len, tokens } = ref[s];
    assert.equal(file.view, 'model');
    assert.deepEqual(file.layers, [1, 2, 3, 4, 5, 6]);
    assert.deepEqual(file.shape, [6, 12, len, len]);
    assert.equal(file.hide_special, true);
    assert.equal(file.shared_scale, true);
    const worst = worstRenormalised(file.weights, ref[s].attention, tokens);
    assert.ok(worst <= TOLERANCE, `the model view's renormalised tensor differs from onnxruntime's by up to ${worst} (in attention units)`);
    // Every real row sums to 1 over the words; the special columns are 0.
    const specials = tokens.flatMap((t, k) => (t === '[CLS]' || t === '[SEP]' ? [k] : []));
    assert.deepEqual(specials, [0, len - 1]);
    file.weights.forEach((layer, l) =>
      layer.forEach((head, h) =>
        head.forEach((row, q) => {
          assert.ok(Math.abs(row.reduce((a, b) => a + b, 0) - 1) < 1e-5, `layer ${l + 1}, head ${h + 1}, row ${q + 1} sums to ${row.reduce((a, b) => a + b, 0)}`);
          for (const k of specials) assert.equal(row[k], 0);
        }),
      ),
    );
    // One scale: its top is the largest weight drawn for either sentence (the second's checked the same way).
    await page.selectOption('[data-testid="sentence-select"]', '1');
    await waitReady(page);
    const second = await json(page, 'export-json');
    assert.equal(second.sentence, 2);
    const worstSecond = worstRenormalised(second.weights, ref[1].attention, ref[1].tokens);
    assert.ok(worstSecond <= TOLERANCE, `sentence 2: differs from onnxruntime's by up to ${worstSecond}`);
    const top = Math.max(...[file, second].map((f) => Math.max(...f.weights.flat(3))));
    assert.equal(second.scale_max, file.scale_max, 'the scale is the same for both sentences');
    assert.equal(file.scale_max, top, 'the scale reaches the largest weight of either sentence');
    await page.selectOption('[data-testid="sentence-select"]', '0');
    await waitReady(page);
    assert.match(file.caption, / · \[CLS\]\/\[SEP\] hidden, rows renormalised · one scale for all sentences$/);
    assert.match(await page.textContent('#model-view .view-caption'), /all on one scale for every sentence \(0 to \d\.\d\d\)\. \[CLS\]\/\[SEP\] hidden, rows renormalised\./);
    assert.equal(await page.isVisible('[data-testid="model-legend"]'), true, 'the one scale has its colour bar');

    const csv = parseCsv((await downloadOf(page, 'export-csv')).bytes.toString('utf8'));
    assert.equal(csv.length - 1, 6 * 12 * len * (len - 2), 'the CSV leaves out the hidden columns');
    assert.ok(csv.slice(1).every((r) => r[6] !== '[CLS]' && r[6] !== '[SEP]'), 'a hidden key in the CSV');

    const svg = await readSvg(page, (await downloadOf(page, 'export-svg')).bytes);
    assertSvg(svg, file.caption);
    assert.equal(svg.maps, 6 * 12, 'one map per layer and head');
    assert.equal(svg.mapRects, len * len, 'a rectangle per query and key');
    const png = await downloadOf(page, 'export-png');
    writeFileSync(join(artifacts, 'export-model.png'), png.bytes);
    await assertPng(page, png, svg, file.caption, 'model view');

    // The head view shares the switch: its exported rows are renormalised too.
    await showView(page, 'head');
    const head = await json(page, 'export-json');
    const worstHead = worstRenormalised(head.weights, [ref[s].attention[5]], tokens);
    assert.ok(worstHead <= TOLERANCE, `the head view's renormalised tensor differs by up to ${worstHead}`);
    assert.match(await page.textContent('#head-view .view-caption'), /\[CLS\]\/\[SEP\] hidden, rows renormalised/);
    session.assertNoProblems();
    await page.close();
  });

  it('the focus view PNG is cropped to its figure, under the caption its JSON gives', { timeout: READY_TIMEOUT_MS + 60_000 }, async () => {
    const page = await session.open(query());
    const file = await json(page, 'export-json');
    assert.equal(file.caption, `bertscope · ${file.model} · raw attention · layer 6, mean of 12 heads · focus “apple” · 2 sentences`);
    const svg = await readSvg(page, (await downloadOf(page, 'export-svg')).bytes);
    assertSvg(svg, file.caption);
    assert.equal(svg.texts[0], file.caption, 'the caption is the figure’s first line');
    const png = await downloadOf(page, 'export-png');
    writeFileSync(join(artifacts, 'export-focus.png'), png.bytes);
    await assertPng(page, png, svg, file.caption, 'focus view');
    session.assertNoProblems();
    await page.close();
  });

  it('"All attention (JSON)" holds every sentence’s tokens, ids and [layer][head][q][k]', { timeout: READY_TIMEOUT_MS + 60_000 }, async () => {
    const page = await session.open(query());
    const run = await downloadOf(page, 'export-run');
    assert.equal(run.name, 'bertscope-run.json');
    const file = JSON.parse(run.bytes.toString('utf8'));
    assert.match(file.model, /MiniLM/i);
    assert.equal(file.layers, 6);
    assert.equal(file.heads, 12);
    assert.equal(file.measure, 'raw');
    assert.equal(file.hide_special, false);
    assert.equal(file.sentences.length, 2);
    file.sentences.forEach((sentence, s) => {
      assert.equal(sentence.text, ref[s].text);
      assert.deepEqual(sentence.tokens, ref[s].tokens);
      assert.deepEqual(sentence.input_ids, ref[s].ids);
      assert.deepEqual(sentence.shape, [6, 12, ref[s].len, ref[s].len]);
      const worst = worstDifference(sentence.weights, ref[s].attention, `sentence ${s + 1}`);
      assert.ok(worst <= TOLERANCE, `sentence ${s + 1}: the run's tensor differs from onnxruntime's by up to ${worst}`);
    });
    session.assertNoProblems();
    await page.close();
  });

  it('rollout: hidden specials renormalise every row, one scale per kind of row, row names in full', { timeout: READY_TIMEOUT_MS + 60_000 }, async () => {
    const page = await session.open(query([['view', 'rollout'], ['hide-special', 'on'], ['shared-scale', 'on']]));
    await page.waitForSelector('[data-testid="rollout-strips"]', { state: 'visible' });
    const file = await json(page, 'export-json');
    assert.equal(file.hide_special, true);
    const names = [...new Set(file.records.map((r) => r.measure))];
    assert.deepEqual(names, ['raw · layer 6, mean of 12 heads', 'rollout · to layer 6']);
    for (const s of [1, 2]) {
      for (const name of names) {
        const row = file.records.filter((r) => r.sentence === s && r.measure === name);
        const special = row.filter((r) => r.key_token === '[CLS]' || r.key_token === '[SEP]');
        assert.deepEqual(special.map((r) => r.weight), [0, 0], `sentence ${s}, ${name}: hidden tokens keep weight`);
        const sum = row.reduce((a, r) => a + r.weight, 0);
        assert.ok(Math.abs(sum - 1) < 1e-5, `sentence ${s}, ${name}: the row sums to ${sum}`);
      }
    }
    // The raw row is "apple"'s row of the layer-6 mean, renormalised: against onnxruntime.
    for (const s of [0, 1]) {
      const { tokens, attention } = ref[s];
      const mean = attention[5][0].map((row, q) => row.map((_, k) => attention[5].reduce((sum, head) => sum + head[q][k], 0) / 12));
      const apple = tokens.indexOf('apple');
      const row = file.records.filter((r) => r.sentence === s + 1 && r.measure === names[0]).map((r) => r.weight);
      const worst = worstRenormalised([row], [mean[apple]], tokens);
      assert.ok(worst <= TOLERANCE, `sentence ${s + 1}: rollout's raw row differs by up to ${worst}`);
    }
    const notes = await page.$$eval('#rollout-view [data-testid="scale-note"]', (ps) => ps.map((p) => p.textContent));
    assert.deepEqual(notes, Array(2).fill('Colours: [CLS]/[SEP] hidden, rows renormalised; one scale for all sentences (per row).'));
    // The names in full in the SVG (they were cut to "rollout · to laye…"), on two lines: what, and where.
    const svg = await readSvg(page, (await downloadOf(page, 'export-svg')).bytes);
    assertSvg(svg, file.caption);
    for (const line of ['raw', 'layer 6, mean of 12 heads', 'rollout', 'to layer 6']) assert.ok(svg.texts.includes(line), `no “${line}” in the SVG`);
    assert.ok(!svg.texts.some((t) => t.includes('…')), `a cut text: ${svg.texts.filter((t) => t.includes('…'))}`);
    // The hidden columns are empty cells: a number in every other cell of both rows.
    ref.forEach(({ len }, s) => {
      const numbers = svg.figureTexts[`rollout-${s + 1}`].filter((t) => /^\d\.\d\d$/.test(t));
      assert.equal(numbers.length, 2 * (len - 2), `sentence ${s + 1}: numbers in the strips`);
    });
    const png = await downloadOf(page, 'export-png');
    writeFileSync(join(artifacts, 'export-rollout.png'), png.bytes);
    await assertPng(page, png, svg, file.caption, 'rollout view');
    await urlWith(page, { 'hide-special': 'on', 'shared-scale': 'on' });
    session.assertNoProblems();
    await page.close();
  });
});

describe('exports on a phone, in dark mode', { concurrency: false }, () => {
  const phone = useSession({ screen: { ...PHONE, colorScheme: 'dark' } });
  const query = (extra = []) => `?${new URLSearchParams([...SENTENCES.map((s) => ['s', s]), ['focus', 'apple'], ...extra])}`;

  it('the export buttons read clearly: page colours, contrast of at least 4.5', { timeout: READY_TIMEOUT_MS + 30_000 }, async () => {
    const page = await phone.open(query());
    const colours = await page.$$eval('.export-bar button', (buttons) =>
      buttons.map((b) => {
        const style = getComputedStyle(b);
        return { text: b.textContent, fg: style.color, bg: style.backgroundColor };
      }),
    );
    const luminance = (css) => {
      const [r, g, b] = css.match(/[\d.]+/g).slice(0, 3).map(Number).map((c) => {
        const v = c / 255;
        return v <= 0.04045 ? v / 12.92 : ((v + 0.055) / 1.055) ** 2.4;
      });
      return 0.2126 * r + 0.7152 * g + 0.0722 * b;
    };
    const surface = await page.evaluate(() => getComputedStyle(document.documentElement).getPropertyValue('--surface').trim());
    for (const { text, fg, bg } of colours) {
      const [hi, lo] = [luminance(fg), luminance(bg)].sort((a, b) => b - a);
      const contrast = (hi + 0.05) / (lo + 0.05);
      assert.ok(contrast >= 4.5, `“${text}”: ${fg} on ${bg} has contrast ${contrast.toFixed(2)}`);
      assert.ok(luminance(bg) < 0.05, `“${text}”: a light button (${bg}) on the dark page`);
    }
    assert.ok(surface, 'the dark palette sets --surface');
    await page.locator('.export-bar').screenshot({ path: join(artifacts, 'export-bar-phone-dark.png') });
    phone.assertNoProblems();
    await page.close();
  });

  it('PNGs fit the phone panel; the colour bar’s caption moves under its numbers when the bar is narrow', { timeout: READY_TIMEOUT_MS + 60_000 }, async () => {
    // The norm-based measure's legend caption is long: on a small phone it would run into the numbers.
    const page = await phone.open(query([['measure', 'norm']]));
    for (const width of [390, 320]) {
      await page.setViewportSize({ width, height: 844 });
      await page.waitForFunction((w) => document.documentElement.clientWidth === w, width);
      await page.waitForTimeout(300);
      const legends = await legendGaps(page);
      assert.equal(legends.length, 2);
      for (const legend of legends) {
        assert.ok(legend.afterZero && legend.beforeMax, `${width} px: text within 6 px of a number on the ${legend.width}-px colour bar (caption ${legend.caption})`);
      }
      if (width === 320) assert.deepEqual(legends.map((l) => l.caption), ['below', 'below'], 'on a 320-px phone the long caption has its own line');
      await page.locator('#focus-view .heatmap-panel >> nth=0').screenshot({ path: join(artifacts, `export-legend-${width}-dark.png`) });
    }
    await page.setViewportSize(PHONE.viewport);
    const file = await json(page, 'export-json');
    const svg = await readSvg(page, (await downloadOf(page, 'export-svg')).bytes);
    // Laid out for the phone's panel (a strip of seven 30-px cells may stick out a little, as it scrolls on screen).
    const panel = await panelWidth(page, 'focus');
    assert.ok(svg.size[0] >= panel && svg.size[0] <= panel * 1.15, `the focus figure is ${svg.size[0]} px wide for a ${panel}-px panel`);
    const png = await downloadOf(page, 'export-png');
    writeFileSync(join(artifacts, 'export-focus-phone-dark.png'), png.bytes);
    const read = await assertPng(page, png, svg, file.caption, 'focus view on a phone');
    assert.equal(read.edges.background, '29,32,39,255', 'the dark page’s surface behind the figure');
    for (const view of ['head', 'rollout']) {
      await showView(page, view);
      if (view === 'rollout') await page.waitForSelector('[data-testid="rollout-strips"]', { state: 'visible' });
      const caption = (await json(page, 'export-json')).caption;
      const viewSvg = await readSvg(page, (await downloadOf(page, 'export-svg')).bytes);
      const viewPng = await downloadOf(page, 'export-png');
      writeFileSync(join(artifacts, `export-${view}-phone-dark.png`), viewPng.bytes);
      await assertPng(page, viewPng, viewSvg, caption, `${view} view on a phone`);
      await page.screenshot({ path: join(artifacts, `export-${view}-phone-dark-screen.png`), fullPage: true });
    }
    phone.assertNoProblems();
    await page.close();
  });
});
