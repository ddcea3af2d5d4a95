// Shared by the end-to-end tests: the built page served locally, Debian's Chromium driven by
// playwright-core, and small reads of the page (status, token tables, canvas pixels).
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';
import { serve } from '../../scripts/serve.mjs';

export const repoRoot = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');
export const dist = join(repoRoot, 'www', 'dist');
export const artifacts = join(repoRoot, 'tests', 'artifacts');
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
export const READY_TIMEOUT_MS = 180_000;
export const STATUS = '[data-testid="status"]';

/**
 * Checks the build is there, serves it (each response with `headers`, other folders at `mounts`)
 * and starts Chromium: `{server, browser, context}`.
 */
export async function startPage({ onRequest, headers = {}, mounts = {} } = {}) {
  for (const file of ['index.html', 'bert-attention.js', 'example-post.html']) {
    if (!existsSync(join(dist, file))) {
      throw new Error(`${dist}/${file} is missing: build the page first (cd www && npm ci && npm run build)`);
    }
  }
  if (!existsSync(join(dist, 'models', 'default', 'model.onnx'))) {
    throw new Error(`${dist}/models/default/model.onnx is missing: scripts/test (or scripts/run) links the default model there`);
  }
  mkdirSync(artifacts, { recursive: true });
  const server = await serve(dist, { onRequest, headers, mounts });
  const browser = await chromium.launch({ executablePath, args: CHROMIUM_FLAGS, headless: true });
  const context = await browser.newContext({ viewport: { width: 1280, height: 900 }, deviceScaleFactor: 2 });
  return { server, browser, context };
}

/** Records the page's console errors, uncaught exceptions and dialogs into `problems`. */
export function watch(page, problems) {
  page.on('console', (message) => {
    if (message.type() === 'error') problems.push(`console: ${message.text()}`);
  });
  page.on('pageerror', (error) => problems.push(`page error: ${error.message}`));
  page.on('dialog', (dialog) => {
    problems.push(`dialog: ${dialog.type()} ${dialog.message()}`);
    void dialog.dismiss();
  });
  return page;
}

/** Waits until the status says `ready`; fails at once, with its words, if it shows an error. */
export async function waitReady(page) {
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

/** Per sentence: the token table's rows and caption. */
export function tokenTables(page) {
  return page.$$eval('[data-testid="token-table"] table', (tables) =>
    tables.map((table) => {
      const cells = (row) => Array.from(table.querySelectorAll(`tr[data-row="${row}"] td`), (td) => td.textContent);
      return {
        caption: table.querySelector('caption')?.textContent ?? '',
        tokens: cells('tokens'),
        ids: cells('input_ids').map(Number),
        mask: cells('attention_mask').map(Number),
      };
    }),
  );
}

/**
 * In the page: per visible canvas of `canvases`, its size, a hash of its pixels, how many colours and
 * how much is painted. Self-contained, so it can be handed to `$$eval` or a handle's `evaluate`.
 */
export function readCanvases(canvases) {
  return canvases
    .filter((canvas) => canvas.getClientRects().length > 0)
    .map((canvas) => {
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
    });
}

/** Per visible canvas with `data-testid=testId`: size, a hash of its pixels, how many colours and how much is painted. */
export function canvasPixels(page, testId) {
  return page.$$eval(`[data-testid="${testId}"]`, readCanvases);
}

/** Asserts a canvas reading is a real drawing: big enough, many colours. */
export function assertDrawn(canvas, what, minColours = 20) {
  assert.ok(canvas, `${what}: no visible canvas`);
  assert.ok(canvas.width > 100 && canvas.height > 100, `${what}: canvas is ${canvas.width}×${canvas.height}`);
  assert.ok(canvas.colours > minColours, `${what}: only ${canvas.colours} colours drawn`);
}

/** The status right after an edit must not claim `ready` for the old result. */
export async function fillAndWait(page, selector, text) {
  await page.fill(selector, text);
  await waitReady(page);
}

/**
 * What the reference says "apple" attends to most (special tokens and itself aside) in each
 * seed sentence, at the last layer averaged over heads: the page's default view. Computed from
 * the onnxruntime reference of the default model, never written down by hand.
 */
export function referenceStory() {
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

/** Closes what `startPage` opened: the browser context, the browser and the server. */
export async function closePage({ server, browser, context }) {
  await context?.close();
  await browser?.close();
  await server?.close();
}
