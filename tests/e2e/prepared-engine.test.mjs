// End-to-end tests of the prepared engine kept between visits (issue 15, cold start): on a plain
// host (one thread), once a model's first run is done, the engine worker writes its wasm memory to
// the origin private file system (www/src/engine/snapshot.ts); the next visit with the same files
// restores it instead of loading the model. What it draws must be what a fresh load draws, bit for
// bit, and a damaged copy must never be used. (A model changed on the server is loaded, not
// restored: cache.test.mjs, whose visits now restore.)
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ISOLATION_HEADERS } from '../../scripts/serve.mjs';
import { textOfTokens } from '../bench/common.js';
import { crashWatchedPage, fillAndWait, READY_TIMEOUT_MS, referenceAttention, runTensor, STATUS, threadsShown, useSession, waitReady, worstDifference } from './helpers.mjs';

const SENTENCES = ['Apple is huge enterprise', 'I am eating an apple'];
/** wasm against onnxruntime: raw attention agrees within 2e-4 (see mixing.test.mjs). */
const TOLERANCE = 2e-4;
const query = `?${new URLSearchParams([...SENTENCES.map((s) => ['s', s]), ['focus', 'apple']])}`;
const INPUT = '[data-testid="sentence-input"]';
/** The kept file (FILE_NAME in snapshot.ts) and where its image starts (HEADER_BYTES). */
const FILE = 'bertscope-prepared-engine.bin';
const HEADER_BYTES = 64 * 1024;
const KEEP = 'bertscope: keep the prepared engine';
const RESTORE = 'bertscope: restore the prepared engine';
const LOAD = 'bertscope: load the model';

const session = useSession();

/** The names of the engine worker's User Timing measures so far. */
async function measures(page) {
  const [worker] = page.workers().filter((w) => !w.url().includes('pool-thread'));
  return worker.evaluate(() => performance.getEntriesByType('measure').map((e) => e.name));
}

/** Waits until the engine worker has kept its prepared engine (after the first run). */
async function kept(page) {
  const deadline = Date.now() + 30_000;
  while (!(await measures(page)).includes(KEEP)) {
    assert.ok(Date.now() < deadline, 'the prepared engine was not kept within 30 s of the first run');
    await page.waitForTimeout(100);
  }
}

/** Changes the kept file in place: `bytes` at `at`. */
function overwrite(page, at, bytes) {
  return page.evaluate(
    async ({ name, at, bytes }) => {
      const root = await navigator.storage.getDirectory();
      const writable = await (await root.getFileHandle(name)).createWritable({ keepExistingData: true });
      await writable.write({ type: 'write', position: at, data: new Uint8Array(bytes) });
      await writable.close();
    },
    { name: FILE, at, bytes },
  );
}

/** The kept file's size and its header (JSON after the magic and its length). */
function keptHeader(page) {
  return page.evaluate(async (name) => {
    const file = await (await (await navigator.storage.getDirectory()).getFileHandle(name)).getFile();
    const length = new DataView(await file.slice(0, 8).arrayBuffer()).getUint32(4, true);
    return { size: file.size, header: JSON.parse(await file.slice(8, 8 + length).text()) };
  }, FILE);
}

/**
 * Moves the engine's place in the kept header by `move` bytes; with `sign`, also makes its checksum
 * right again (FNV-1a over the image's words, then the header's fields, as snapshot.ts does).
 */
function rewriteHeader(page, { move, sign }) {
  return page.evaluate(
    async ({ name, headerBytes, move, sign }) => {
      const handle = await (await navigator.storage.getDirectory()).getFileHandle(name);
      const file = await handle.getFile();
      const start = new Uint8Array(await file.slice(0, 8).arrayBuffer());
      const header = JSON.parse(await file.slice(8, 8 + new DataView(start.buffer).getUint32(4, true)).text());
      header.engine += move;
      if (sign) {
        const words = new Uint32Array(await file.slice(headerBytes).arrayBuffer());
        let hash = 0x811c9dc5;
        for (let i = 0; i < words.length; i++) hash = Math.imul(hash ^ words[i], 0x01000193);
        const said = JSON.stringify([header.key, header.engine, header.imageBytes, header.externrefs, header.values, header.info]);
        for (const byte of new TextEncoder().encode(said)) hash = Math.imul(hash ^ byte, 0x01000193);
        header.checksum = hash >>> 0;
      }
      const json = new TextEncoder().encode(JSON.stringify(header));
      const head = new Uint8Array(8 + json.length);
      head.set(start.subarray(0, 4));
      new DataView(head.buffer).setUint32(4, json.length, true);
      head.set(json, 8);
      const writable = await handle.createWritable({ keepExistingData: true });
      await writable.write({ type: 'write', position: 0, data: head });
      await writable.close();
    },
    { name: FILE, headerBytes: HEADER_BYTES, move, sign },
  );
}

describe('the prepared engine kept between visits', { concurrency: false }, () => {
  let page;
  let loaded;

  it('a first visit loads the model and, after its first run, keeps the prepared engine', { timeout: READY_TIMEOUT_MS + 30_000 }, async () => {
    page = await session.open(query);
    await kept(page);
    const names = await measures(page);
    assert.ok(names.includes(LOAD) && !names.includes(RESTORE), names.join(', '));
    loaded = await runTensor(page);
    referenceAttention(SENTENCES).forEach((want, s) => {
      const worst = worstDifference(loaded[s], want);
      assert.ok(worst <= TOLERANCE, `sentence ${s + 1}: differs from onnxruntime by up to ${worst}`);
    });
    const { size, header } = await keptHeader(page);
    assert.equal(size, HEADER_BYTES + header.imageBytes);
    assert.equal(header.info.layers, 6);
  });

  it('the next visit restores it instead of loading the model, and draws the same numbers', { timeout: READY_TIMEOUT_MS }, async () => {
    const modelLine = await page.textContent('[data-testid="model-info"]');
    await page.reload();
    await waitReady(page);
    const names = await measures(page);
    assert.ok(names.includes(RESTORE) && !names.includes(LOAD), names.join(', '));
    assert.equal(await page.textContent('[data-testid="model-info"]'), modelLine);
    assert.equal(worstDifference(await runTensor(page), loaded), 0);
  });

  it('the restored engine runs other sentences exactly as a freshly loaded one does', { timeout: 2 * READY_TIMEOUT_MS }, async () => {
    // A longer input than the kept plan ever ran, then a shorter one: the plan's symbolic length, and
    // a sentence added (a batch of three: a plan of its own, typed from the restored graph).
    const edits = ['The bank near the river bank flooded after the storm, so the people moved their cars.', 'Hi'];
    const fresh = await session.freshPage();
    await fresh.goto(`${session.url}${query}`);
    await waitReady(fresh);
    assert.ok(!(await measures(fresh)).includes(RESTORE), 'a context of its own has nothing kept');
    const want = [];
    for (const edit of edits) {
      await fillAndWait(fresh, `${INPUT} >> nth=0`, edit);
      want.push(await runTensor(fresh));
    }
    await fresh.click('[data-testid="add-sentence"]');
    await fillAndWait(fresh, `${INPUT} >> nth=2`, 'An apple a day keeps the doctor away');
    want.push(await runTensor(fresh));
    await fresh.context().close();

    for (const [i, edit] of edits.entries()) {
      await fillAndWait(page, `${INPUT} >> nth=0`, edit);
      assert.equal(worstDifference(await runTensor(page), want[i]), 0, edit);
    }
    await page.click('[data-testid="add-sentence"]');
    await fillAndWait(page, `${INPUT} >> nth=2`, 'An apple a day keeps the doctor away');
    assert.equal(worstDifference(await runTensor(page), want[2]), 0, 'three sentences');
    assert.ok((await measures(page)).includes(RESTORE));
  });

  it('a damaged copy is noticed, deleted and never used: the model loads as usual and is kept again', { timeout: READY_TIMEOUT_MS + 30_000 }, async () => {
    const { size } = await keptHeader(page);
    await overwrite(page, HEADER_BYTES + Math.floor((size - HEADER_BYTES) / 2), [0xde, 0xad, 0xbe, 0xef]);
    await page.goto(`${session.url}${query}`);
    await waitReady(page);
    const names = await measures(page);
    assert.ok(names.includes(LOAD) && !names.includes(RESTORE), names.join(', '));
    assert.equal(worstDifference(await runTensor(page), loaded), 0);
    await kept(page);
    await page.reload();
    await waitReady(page);
    assert.ok((await measures(page)).includes(RESTORE), 'the copy kept again is restored');
    session.assertNoProblems();
  });

  it('a damaged header is noticed too: the model loads as usual', { timeout: READY_TIMEOUT_MS + 30_000 }, async () => {
    await page.reload();
    await waitReady(page);
    assert.ok((await measures(page)).includes(RESTORE));
    await rewriteHeader(page, { move: 8, sign: false });
    await page.reload();
    await waitReady(page);
    const names = await measures(page);
    assert.ok(names.includes(LOAD) && !names.includes(RESTORE), names.join(', '));
    assert.equal(worstDifference(await runTensor(page), loaded), 0);
    await kept(page);
    session.assertNoProblems();
  });

  it('a copy made to pass the checks whose engine does not answer as it was kept stops that engine; a new one loads the model', { timeout: 2 * READY_TIMEOUT_MS }, async () => {
    // Only a file written on purpose gets here: the engine's place moved and the checksum made
    // right again. The engine's own description of itself tells; the instance is lost by then.
    await rewriteHeader(page, { move: 8, sign: true });
    await page.close();
    const { page: watched, problems, crashes } = await crashWatchedPage(session);
    await watched.goto(`${session.url}${query}`);
    await watched.waitForFunction((selector) => document.querySelector(selector)?.textContent === 'ready', STATUS, { timeout: READY_TIMEOUT_MS, polling: 100 });
    assert.equal(crashes.length, 1, `the engine stopped ${crashes.length} times: ${crashes.join(' | ')}`);
    assert.match(crashes[0], /the copy of the prepared engine this browser kept was damaged/);
    assert.deepEqual(problems, []);
    assert.equal(worstDifference(await runTensor(watched), loaded), 0);
    const names = await measures(watched);
    assert.ok(names.includes(LOAD) && !names.includes(RESTORE), names.join(', '));
    await watched.close();
  });

  it('the footer says what this browser keeps, by keyboard, and forgets it all on request', { timeout: 2 * READY_TIMEOUT_MS }, async () => {
    const page = await session.open(query);
    await kept(page);
    await page.focus('[data-testid="kept-files"] summary');
    await page.keyboard.press('Enter');
    const items = page.locator('[data-testid="kept-list"] li');
    await items.first().waitFor();
    const lines = await items.allTextContents();
    assert.equal(lines.length, 2, lines.join(' | '));
    const size = (line) => Number(/: ([\d.]+) MB$/.exec(line)?.[1]);
    assert.match(lines[0], /^Model and tokenizer files it downloaded/);
    assert.ok(size(lines[0]) > 23, lines[0]);
    assert.match(lines[1], /^The prepared engine/);
    const { size: bytes } = await keptHeader(page);
    assert.equal(size(lines[1]), Number((bytes / 1e6).toFixed(1)));
    await page.click('[data-testid="forget-kept"]');
    await page.waitForFunction(() => document.querySelector('[data-testid="kept-list"]')?.textContent?.includes('Nothing: the next visit downloads the model again.'));
    const left = await page.evaluate(async (name) => {
      const root = await navigator.storage.getDirectory();
      const file = await root.getFileHandle(name).then(() => true, () => false);
      return { file, caches: await caches.keys() };
    }, FILE);
    assert.deepEqual(left, { file: false, caches: [] });
    // The model in use still runs.
    await fillAndWait(page, `${INPUT} >> nth=0`, 'Apples are red');
    await page.goto(`${session.url}${query}`);
    await waitReady(page);
    const names = await measures(page);
    assert.ok(names.includes(LOAD) && !names.includes(RESTORE), names.join(', '));
    assert.equal(worstDifference(await runTensor(page), loaded), 0);
    await page.close();
  });

  it('logged no console errors', () => {
    session.assertNoProblems();
  });
});

/** The same page served cross-origin isolated: the threaded build, kept as it was before its pool started. */
const isolated = useSession({ headers: ISOLATION_HEADERS });
/** `BERTSCOPE_THREADS=0 scripts/test` builds no threaded engine, and these tests skip, saying so. */
const noThreads = process.env.BERTSCOPE_THREADS === '0' ? 'BERTSCOPE_THREADS=0: no threaded engine was built' : false;

describe('the threaded engine kept between visits', { concurrency: false, skip: noThreads }, () => {
  let page;
  let loaded;

  it('a first visit of the isolated page keeps the engine as it was before its pool started', { timeout: READY_TIMEOUT_MS + 30_000 }, async () => {
    page = await isolated.open(query);
    assert.ok((await threadsShown(page)) > 1, 'this test needs the threaded build and 2 cores');
    await kept(page);
    const names = await measures(page);
    // Taken after the load and the first plan, before the pool's threads started.
    const order = ['load the model', 'take the prepared engine', 'start the pool threads'].map((name) => names.indexOf(`bertscope: ${name}`));
    assert.ok(order.every((at, i) => at >= 0 && (i === 0 || at > order[i - 1])), names.join(', '));
    loaded = await runTensor(page);
    referenceAttention(SENTENCES).forEach((want, s) => {
      const worst = worstDifference(loaded[s], want);
      assert.ok(worst <= TOLERANCE, `sentence ${s + 1}: differs from onnxruntime by up to ${worst}`);
    });
  });

  it('the next visit restores it, starts the pool, and draws the same numbers on the threads, the first plan already made', { timeout: READY_TIMEOUT_MS }, async () => {
    await page.reload();
    await waitReady(page);
    const names = await measures(page);
    assert.ok(names.includes(RESTORE) && !names.includes(LOAD) && !names.includes('bertscope: declutter'), names.join(', '));
    assert.ok(names.indexOf(RESTORE) < names.indexOf('bertscope: start the pool threads'), names.join(', '));
    assert.ok((await threadsShown(page)) > 1);
    assert.equal(worstDifference(await runTensor(page), loaded), 0);
  });

  it('a long sentence on the restored engine’s threads gives the bits of a fresh single-thread load', { timeout: 2 * READY_TIMEOUT_MS }, async () => {
    // 150 tokens: every split of the products and of tract's row-wise ops is used.
    const long = textOfTokens(150);
    await fillAndWait(page, `${INPUT} >> nth=0`, long);
    const [split] = await runTensor(page);
    assert.equal(split[0][0].length, 150);
    const fresh = await session.freshPage();
    await fresh.goto(`${session.url}?${new URLSearchParams([['s', long], ['s', SENTENCES[1]]])}`);
    await waitReady(fresh);
    assert.equal(await threadsShown(fresh), 1);
    const [want] = await runTensor(fresh);
    await fresh.context().close();
    assert.equal(worstDifference(split, want), 0);
    isolated.assertNoProblems();
    await page.close();
  });
});
