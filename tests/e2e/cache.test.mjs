// End-to-end tests of cache honesty (issue 18, defect 4): model and tokenizer files are checked,
// and accepted by the engine, before the Cache API keeps them; nothing else is kept; a cached copy
// is revalidated with the server on each visit (a conditional request), and a newer file replaces
// it with a notice. The "server" is a folder the tests rewrite between visits: first a maintenance
// page at the model's address, then the real model, then another model.
import assert from 'node:assert/strict';
import { copyFileSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { dist, modelsDir, READY_TIMEOUT_MS, STATUS, useSession, waitReady } from './helpers.mjs';

const folder = mkdtempSync(join(tmpdir(), 'bertscope-cache-'));
after(() => rmSync(folder, { recursive: true, force: true }));

const MODEL = join(folder, 'model.onnx');
const TOKENIZER = join(folder, 'tokenizer.json');
const MAINTENANCE = '<!doctype html>\n<html><head><title>Back soon</title></head><body><h1>Down for maintenance</h1></body></html>\n';

/** Puts `model` and `tokenizer` (files, or text) at the served addresses, as a server's files change. */
function serveFiles({ model, tokenizer }) {
  for (const [to, from] of [
    [MODEL, model],
    [TOKENIZER, tokenizer],
  ]) {
    rmSync(to, { force: true });
    if (from.text !== undefined) writeFileSync(to, from.text);
    else copyFileSync(from.file, to);
  }
}

const minilm = { model: { file: join(dist, 'models', 'default', 'model.onnx') }, tokenizer: { file: join(dist, 'models', 'default', 'tokenizer.json') } };
const tiny = { model: { file: join(modelsDir, 'distilbert-tiny-random', 'model_quantized.onnx') }, tokenizer: { file: join(modelsDir, 'distilbert-tiny-random', 'tokenizer.json') } };

/** Requests for the served model file: whether each was conditional. */
const modelRequests = [];
const session = useSession({
  mounts: { '/flaky': folder },
  onRequest: (_method, path, headers) => {
    if (path === '/flaky/model.onnx') modelRequests.push({ conditional: headers['if-none-match'] !== undefined });
  },
});

const PAGE = '?model=/flaky/model.onnx&tokenizer=/flaky/tokenizer.json&name=flaky';

/** Paths of what the model cache holds, as the page sees it. */
function cachedPaths(page) {
  return page.evaluate(async () => {
    const cache = await caches.open('bertscope-models-v2');
    return (await cache.keys()).map((request) => new URL(request.url).pathname).sort();
  });
}

/** The page's notices, one string each. */
const notices = (page) => page.$$eval('[data-testid="notices"] li', (items) => items.map((li) => li.textContent));

describe('the model cache', { concurrency: false }, () => {
  let page;

  it('a web page served at the model’s address is refused in words and not kept', { timeout: READY_TIMEOUT_MS }, async () => {
    serveFiles({ model: { text: MAINTENANCE }, tokenizer: minilm.tokenizer });
    page = await session.newPage();
    await page.goto(`${session.url}${PAGE}`);
    await page.waitForSelector(`${STATUS}[data-kind="error"]`, { timeout: READY_TIMEOUT_MS });
    assert.equal(
      await page.textContent(STATUS),
      `Could not load the model: ${session.url}flaky/model.onnx is a web page (HTML), not an ONNX model: the server may be showing an error or maintenance page`,
    );
    assert.deepEqual(await cachedPaths(page), [], 'nothing was kept, not even the good tokenizer');
  });

  it('once the server is fixed, the real model loads, and only model and tokenizer files are kept', { timeout: READY_TIMEOUT_MS }, async () => {
    serveFiles(minilm);
    await page.reload();
    await waitReady(page);
    assert.match(await page.textContent('[data-testid="model-info"]'), /^Model: flaky · 6 layers × 12 heads/);
    assert.deepEqual(await cachedPaths(page), ['/flaky/model.onnx', '/flaky/tokenizer.json']);
    assert.deepEqual(await notices(page), []);
  });

  it('the next visit asks whether the model changed and reads it from the cache', { timeout: READY_TIMEOUT_MS }, async () => {
    const before = modelRequests.length;
    await page.reload();
    await waitReady(page);
    assert.deepEqual(modelRequests.slice(before), [{ conditional: true }], 'one conditional request');
    assert.deepEqual(await notices(page), []);
  });

  it('a model changed on the server replaces the cached copy, and the page says so', { timeout: READY_TIMEOUT_MS }, async () => {
    serveFiles(tiny);
    await page.reload();
    await waitReady(page);
    assert.match(await page.textContent('[data-testid="model-info"]'), /^Model: flaky · 2 layers × 4 heads/);
    const said = await notices(page);
    for (const file of ['model.onnx', 'tokenizer.json']) {
      assert.ok(said.includes(`The copy of ${session.url}flaky/${file} this browser kept was out of date: the server's newer file replaced it.`), `notices: ${said.join(' | ')}`);
    }
    await page.reload();
    await waitReady(page);
    assert.match(await page.textContent('[data-testid="model-info"]'), /^Model: flaky · 2 layers × 4 heads/);
    assert.deepEqual(await notices(page), [], 'the new copy was kept: nothing replaced on the visit after');
  });

  it('a maintenance page where a cached model is: the cached copy is used', { timeout: READY_TIMEOUT_MS }, async () => {
    serveFiles({ model: { text: MAINTENANCE }, tokenizer: tiny.tokenizer });
    await page.reload();
    await waitReady(page);
    assert.match(await page.textContent('[data-testid="model-info"]'), /^Model: flaky · 2 layers × 4 heads/);
    assert.deepEqual(await cachedPaths(page), ['/flaky/model.onnx', '/flaky/tokenizer.json']);
    assert.deepEqual(await notices(page), []);
  });

  it('logged no console errors', () => {
    session.assertNoProblems();
  });
});

/** A server that declares a SHA-256 for every body (RFC 9530's Repr-Digest), the wrong one. */
const WRONG_DIGEST = `sha-256=:${Buffer.alloc(32).toString('base64')}:`;
const lying = useSession({ headers: { 'Repr-Digest': WRONG_DIGEST } });

describe('a download that does not match the digest its server gives', () => {
  it('is refused in words and not kept', { timeout: READY_TIMEOUT_MS }, async () => {
    const page = await lying.newPage();
    await page.goto(lying.url);
    await page.waitForSelector(`${STATUS}[data-kind="error"]`, { timeout: READY_TIMEOUT_MS });
    assert.match(await page.textContent(STATUS), /^Could not load the model: http:\/\/\S+\/models\/default\/(model\.onnx|tokenizer\.json) does not match the SHA-256 digest the server gave for it: the download is corrupt$/);
    assert.deepEqual(await cachedPaths(page), []);
    lying.assertNoProblems();
  });
});
