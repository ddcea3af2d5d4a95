// Shared by the end-to-end tests: the session fixture (the built page served locally, Debian's
// Chromium driven by playwright-core, the pages' problems collected; see ../lib/session.mjs) and
// small reads of the page (status, token tables, canvas pixels).
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before } from 'node:test';
import { dist, modelsDir, repoRoot } from '../lib/environment.mjs';
import { Session, waitReady } from '../lib/session.mjs';

export { dist, modelsDir, repoRoot } from '../lib/environment.mjs';
export { READY_TIMEOUT_MS, STATUS, waitReady } from '../lib/session.mjs';

/** Where the tests save screenshots. */
export const artifacts = join(repoRoot, 'tests', 'artifacts');

/**
 * The fixture of one test file: a `Session` (see ../lib/session.mjs for `options`) started before
 * the file's tests and closed after them. Every test file opens its pages through it, so their
 * console errors, uncaught exceptions and dialogs land in `session.problems`.
 */
export function useSession(options) {
  const session = new Session(options);
  before(async () => {
    mkdirSync(artifacts, { recursive: true });
    await session.start();
  });
  after(() => session.close());
  return session;
}

/**
 * A page of `session` whose problems go to its own list (an engine crash's own reports are expected
 * there) and whose crash warnings ("bertscope: the engine stopped: …", one per crash) are counted.
 */
export async function crashWatchedPage(session) {
  const problems = [];
  const page = await session.newPage({ into: problems });
  const crashes = [];
  page.on('console', (message) => {
    if (message.type() === 'warning' && message.text().startsWith('bertscope: the engine stopped')) crashes.push(message.text());
  });
  return { page, problems, crashes };
}

/** Asserts `problems` are only the engine's own reports of failed allocations, `count` of them. */
export function assertOnlyAllocationFailures(problems, count) {
  assert.equal(problems.length, count, problems.join('\n'));
  for (const problem of problems) assert.match(problem, /^console: panicked at .*\nfailed to allocate|memory allocation of \d+ bytes failed/);
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
 * Per seed sentence, its tokens and "apple"'s attention row at the last layer averaged over heads
 * (the page's default view), from the onnxruntime reference of the default model.
 */
export function referenceAppleRows() {
  const reference = JSON.parse(readFileSync(join(modelsDir, 'references', 'minilm-l6.weights_int8.ort.json'), 'utf8'));
  const { tokens, attentions } = reference.batch;
  return tokens.map((sentenceTokens, s) => {
    const layer = attentions[s][attentions[s].length - 1];
    const query = sentenceTokens.indexOf('apple');
    return { tokens: sentenceTokens, query, mean: sentenceTokens.map((_, k) => layer.reduce((sum, head) => sum + head[query][k], 0) / layer.length) };
  });
}

/**
 * What the reference says "apple" attends to most (special tokens and itself aside) in each
 * seed sentence, at the last layer averaged over heads: the page's default view. Computed from
 * the onnxruntime reference of the default model, never written down by hand.
 */
export function referenceStory() {
  return referenceAppleRows().map(({ tokens, query, mean }) => {
    let best = -1;
    tokens.forEach((token, k) => {
      if (k === query || /^\[(CLS|SEP|PAD)\]$/.test(token)) return;
      if (best < 0 || mean[k] > mean[best]) best = k;
    });
    return { target: tokens[best], weight: mean[best] };
  });
}

/** The onnxruntime reference of the default model on `sentences` (the seed's): per sentence `[layer][head][q][k]` over its real tokens. */
export function referenceAttention(sentences) {
  const file = JSON.parse(readFileSync(join(modelsDir, 'references', 'minilm-l6.weights_int8.ort.json'), 'utf8'));
  const { texts, attention_mask: masks, attentions } = file.batch;
  assert.deepEqual(texts, sentences, 'the reference is of other sentences');
  return attentions.map((sentence, s) => {
    const len = masks[s].filter(Boolean).length;
    return sentence.map((layer) => layer.map((head) => head.slice(0, len).map((row) => row.slice(0, len))));
  });
}

/** The largest difference between two nested arrays of numbers of the same shape. */
export function worstDifference(a, b) {
  if (typeof a === 'number') return Math.abs(a - b);
  assert.equal(a.length, b.length);
  return a.reduce((worst, x, i) => Math.max(worst, worstDifference(x, b[i])), 0);
}

/** Every sentence's `[layer][head][q][k]` from the page's "All attention (JSON)" download. */
export async function runTensor(page) {
  const file = JSON.parse((await downloadOf(page, 'export-run')).bytes.toString('utf8'));
  return file.sentences.map((sentence) => sentence.weights);
}

/** Clicks `testId` and returns the download's file name and bytes. */
export async function downloadOf(page, testId) {
  const [download] = await Promise.all([page.waitForEvent('download'), page.click(`[data-testid="${testId}"]`)]);
  const path = await download.path();
  return { name: download.suggestedFilename(), bytes: readFileSync(path) };
}

/** RFC 4180 CSV (quoted cells with doubled quotes), enough for what the page writes. */
export function parseCsv(text) {
  const rows = [];
  let row = [];
  let cell = '';
  let quoted = false;
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if (quoted) {
      if (c === '"' && text[i + 1] === '"') (cell += '"'), i++;
      else if (c === '"') quoted = false;
      else cell += c;
    } else if (c === '"') quoted = true;
    else if (c === ',') row.push(cell), (cell = '');
    else if (c === '\n') row.push(cell), rows.push(row), (row = []), (cell = '');
    else if (c !== '\r') cell += c;
  }
  if (cell || row.length) row.push(cell), rows.push(row);
  return rows;
}

/** Waits until the page URL carries `params` (a null value: the parameter is absent), and returns it. */
export async function urlWith(page, params) {
  await page.waitForFunction((wanted) => {
    const search = new URL(location.href).searchParams;
    return Object.entries(wanted).every(([k, v]) => (v === null ? !search.has(k) : search.get(k) === v));
  }, params);
  return page.url();
}

/** Threads the page's model line names ("· 2 threads", "· 1 thread"): what the engine runs on. */
export async function threadsShown(page) {
  const text = await page.textContent('[data-testid="model-info"]');
  const match = / · (\d+) threads?/.exec(text);
  assert.ok(match, `the model line names no thread count: ${text}`);
  return Number(match[1]);
}

/**
 * The `bertscope` binary: $BERTSCOPE_CLI, else the release build in the cargo target folder, else
 * the debug one (`cargo test --workspace`, which scripts/test runs first, builds it).
 */
const CLI_TARGET = process.env.CARGO_TARGET_DIR || join(repoRoot, 'target');

/** The path of the `bertscope` binary; throws, saying how to build it, when there is none. */
export function bertscopeCli() {
  const found = process.env.BERTSCOPE_CLI || [join(CLI_TARGET, 'release', 'bertscope'), join(CLI_TARGET, 'debug', 'bertscope')].find((path) => existsSync(path));
  if (!found || !existsSync(found)) throw new Error(`no bertscope binary under ${CLI_TARGET}: build it with cargo build --release -p bertscope-cli, or name it in BERTSCOPE_CLI`);
  return found;
}

/** What `bertscope <args>` prints on stdout (it throws, with the child's stderr, when the command fails). */
export function runCli(args) {
  return execFileSync(bertscopeCli(), args, { encoding: 'utf8', stdio: 'pipe', maxBuffer: 1 << 28 });
}

/** What `bertscope attention` prints for the page's default model and `texts` (tokens, every layer's attention), parsed. */
export function engineAttention(texts) {
  const model = join(dist, 'models', 'default');
  const args = ['attention', '--model', join(model, 'model.onnx'), '--tokenizer', join(model, 'tokenizer.json'), ...texts.flatMap((t) => ['--text', t])];
  return JSON.parse(runCli(args));
}

/** What `bertscope rollout` prints for the page's default model and `texts` (tokens, every layer's rollout), parsed. */
export function engineRollout(texts) {
  const model = join(dist, 'models', 'default');
  const args = ['rollout', '--model', join(model, 'model.onnx'), '--tokenizer', join(model, 'tokenizer.json'), ...texts.flatMap((t) => ['--text', t])];
  return JSON.parse(runCli(args));
}

/** Sentence `s`'s last layer averaged over heads, `[query][key]` over the padded length, from `engineAttention`'s output. */
export function lastLayerMean(attention, s) {
  const layer = attention.attentions[s].at(-1);
  const n = layer[0].length;
  return Array.from({ length: n }, (_, q) => Array.from({ length: n }, (_, k) => layer.reduce((sum, head) => sum + head[q][k], 0) / layer.length));
}
