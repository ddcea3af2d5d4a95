// End-to-end test of the built page (www/dist) in Debian's Chromium, driven by playwright-core.
// Needs `cd www && npm ci && npm run build` first; links the default model into www/dist/models/.
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';
import { serve } from '../../scripts/serve.mjs';

const repoRoot = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');
const dist = join(repoRoot, 'www', 'dist');
const artifacts = join(repoRoot, 'tests', 'artifacts');
const executablePath = process.env.CHROMIUM || '/usr/bin/chromium';
const CHROMIUM_FLAGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];
/** Loading includes compiling ~18 MB of wasm and optimising the model: be generous on 2 cores. */
const READY_TIMEOUT_MS = 180_000;

const STATUS = '[data-testid="status"]';

let server;
let browser;
let context;
/** Paths of model.onnx requests the server saw. */
const modelRequests = [];
/** Console errors and uncaught exceptions of the pages that should have none. */
const problems = [];

function watch(page) {
  page.on('console', (message) => {
    if (message.type() === 'error') problems.push(`console: ${message.text()}`);
  });
  page.on('pageerror', (error) => problems.push(`page error: ${error.message}`));
  return page;
}

/** Waits until the status says `ready`; fails at once, with its words, if it shows an error. */
async function waitReady(page) {
  await page.waitForFunction(
    (selector) => {
      const status = document.querySelector(selector);
      return status?.textContent === 'ready' || status?.dataset.kind === 'error';
    },
    STATUS,
    { timeout: READY_TIMEOUT_MS, polling: 100 },
  );
  const text = await page.textContent(STATUS);
  assert.equal(text, 'ready', `the page reported: ${text}`);
}

/**
 * What the reference says "apple" attends to most (special tokens and itself aside) in each
 * seed sentence, at the last layer averaged over heads: the page's default view. Computed from
 * the onnxruntime reference of the default model, never written down by hand.
 */
function referenceStory() {
  const models = process.env.BERTSCOPE_MODELS || join(repoRoot, '..', 'shared', 'models');
  const reference = JSON.parse(readFileSync(join(models, 'references', 'minilm-l6.weights_int8.ort.json'), 'utf8'));
  const { tokens, attentions } = reference.batch;
  return tokens.map((sentenceTokens, s) => {
    const layer = attentions[s][attentions[s].length - 1];
    const query = sentenceTokens.indexOf('apple');
    const mean = sentenceTokens.map((_, k) => layer.reduce((sum, head) => sum + head[query][k], 0) / layer.length);
    let best = -1;
    sentenceTokens.forEach((token, k) => {
      if (k === query || /^\[(CLS|SEP|PAD)\]$/.test(token)) return;
      if (best < 0 || mean[k] > mean[best]) best = k;
    });
    return { target: sentenceTokens[best], weight: mean[best] };
  });
}

/** Per sentence: the token table's rows. */
function tokenTables(page) {
  return page.$$eval('[data-testid="token-table"] table', (tables) =>
    tables.map((table) => {
      const cells = (row) => Array.from(table.querySelectorAll(`tr[data-row="${row}"] td`), (td) => td.textContent);
      return { tokens: cells('tokens'), ids: cells('input_ids').map(Number), mask: cells('attention_mask').map(Number) };
    }),
  );
}

/** Per heatmap canvas: size, a hash of its pixels, how many colours and how much of it is painted. */
function heatmapPixels(page) {
  return page.$$eval('[data-testid="focus-heatmap"]', (canvases) =>
    canvases.map((canvas) => {
      const { data } = canvas.getContext('2d').getImageData(0, 0, canvas.width, canvas.height);
      let hash = 0x811c9dc5;
      let painted = 0;
      const colours = new Set();
      for (let i = 0; i < data.length; i += 4) {
        for (let j = 0; j < 4; j++) hash = Math.imul(hash ^ data[i + j], 0x01000193) >>> 0;
        if (data[i + 3] > 0) {
          painted++;
          colours.add((data[i] << 16) | (data[i + 1] << 8) | data[i + 2]);
        }
      }
      return { width: canvas.width, height: canvas.height, hash, colours: colours.size, painted: painted / (data.length / 4) };
    }),
  );
}

before(async () => {
  if (!existsSync(join(dist, 'index.html'))) {
    throw new Error(`${dist}/index.html is missing: build the page first (cd www && npm ci && npm run build)`);
  }
  if (!existsSync(join(dist, 'models', 'default', 'model.onnx'))) {
    throw new Error(`${dist}/models/default/model.onnx is missing: scripts/test (or scripts/run) links the default model there`);
  }
  mkdirSync(artifacts, { recursive: true });
  server = await serve(dist, {
    onRequest: (_method, path) => {
      if (path.endsWith('/model.onnx')) modelRequests.push(path);
    },
  });
  browser = await chromium.launch({ executablePath, args: CHROMIUM_FLAGS, headless: true });
  context = await browser.newContext({ viewport: { width: 1280, height: 900 }, deviceScaleFactor: 2 });
});

after(async () => {
  await context?.close();
  await browser?.close();
  await server?.close();
});

describe('the explorer page', { concurrency: false }, () => {
  let page;

  it('loads the model and shows the tokenization of both sentences', { timeout: READY_TIMEOUT_MS + 30_000 }, async () => {
    page = watch(await context.newPage());
    await page.goto(server.url);
    await waitReady(page);
    assert.equal(modelRequests.length, 1, 'the first visit downloads model.onnx once');

    const tables = await tokenTables(page);
    assert.deepEqual(
      tables.map((t) => t.ids),
      [
        [101, 6207, 2003, 4121, 6960, 102, 0],
        [101, 1045, 2572, 5983, 2019, 6207, 102],
      ],
    );
    assert.deepEqual(
      tables.map((t) => t.mask),
      [
        [1, 1, 1, 1, 1, 1, 0],
        [1, 1, 1, 1, 1, 1, 1],
      ],
    );
    assert.deepEqual(tables[0].tokens, ['[CLS]', 'apple', 'is', 'huge', 'enterprise', '[SEP]', '[PAD]']);

    const info = await page.textContent('[data-testid="model-info"]');
    assert.match(info, /all-MiniLM-L6-v2 .*6 layers × 12 heads .*int8.* MB/);
    const summaries = await page.$$eval('[data-testid="focus-summary"]', (ps) => ps.map((p) => p.textContent));
    assert.equal(summaries.length, 2);
    const story = referenceStory();
    summaries.forEach((summary, i) => {
      assert.equal(summary, `apple → ${story[i].target} (${story[i].weight.toFixed(2)})`, `sentence ${i + 1}`);
    });
  });

  it('draws the heatmap and redraws it for another layer', async () => {
    const [first, second] = await heatmapPixels(page);
    for (const canvas of [first, second]) {
      assert.ok(canvas.width > 100 && canvas.height > 100, `canvas is ${canvas.width}×${canvas.height}`);
      assert.ok(canvas.colours > 20, `only ${canvas.colours} colours drawn`);
      assert.ok(canvas.painted > 0.3, `only ${(canvas.painted * 100).toFixed(0)}% of the canvas painted`);
    }
    const label = await page.getAttribute('[data-testid="focus-heatmap"]', 'aria-label');
    assert.match(label, /“apple” attends most to \S+ \(0\.\d\d\)/);
    await page.screenshot({ path: join(artifacts, 'explorer.png'), fullPage: true });

    await page.selectOption('[data-testid="layer-select"]', '3');
    await waitReady(page);
    const [changed] = await heatmapPixels(page);
    assert.notEqual(changed.hash, first.hash, 'layer 4 looks exactly like layer 1');

    await page.selectOption('[data-testid="head-select"]', '0');
    await waitReady(page);
    const [oneHead] = await heatmapPixels(page);
    assert.notEqual(oneHead.hash, changed.hash, 'head 1 looks exactly like the mean of heads');

    await page.emulateMedia({ colorScheme: 'dark' });
    await page.screenshot({ path: join(artifacts, 'explorer-dark.png'), fullPage: true });
    await page.emulateMedia({ colorScheme: 'light' });
  });

  it('runs again when a sentence changes', async () => {
    await page.fill('[data-testid="sentence-input"] >> nth=0', 'Apple released a phone');
    assert.notEqual(await page.textContent(STATUS), 'ready', 'status says ready before the new result is drawn');
    await waitReady(page);
    const tables = await tokenTables(page);
    assert.deepEqual(tables[0].tokens.slice(0, 3), ['[CLS]', 'apple', 'released']);
    assert.equal(modelRequests.length, 1, 'a new sentence does not download the model again');
  });

  it('reads the model from the Cache API on the next visit', { timeout: READY_TIMEOUT_MS + 30_000 }, async () => {
    const again = watch(await context.newPage());
    await again.goto(server.url);
    await waitReady(again);
    assert.equal(modelRequests.length, 1, 'the second visit requested model.onnx again');
    const [canvas] = await heatmapPixels(again);
    assert.ok(canvas.colours > 20, 'the heatmap is blank on the second visit');
    await again.close();
  });

  it('shows a plain error, and keeps the page, when the model is missing', async () => {
    const broken = await context.newPage(); // its 404 console message is expected, so not watched
    await broken.goto(`${server.url}?model=./models/default/missing.onnx`);
    await broken.waitForSelector(`${STATUS}[role="alert"]`, { timeout: 60_000 });
    const text = await broken.textContent(STATUS);
    assert.match(text, /^Could not load the model: .*missing\.onnx.*404/);
    assert.equal(await broken.locator('[data-testid="sentence-input"]').count(), 2);
    await broken.close();
  });

  it('logged no console errors', () => {
    assert.deepEqual(problems, []);
  });
});
