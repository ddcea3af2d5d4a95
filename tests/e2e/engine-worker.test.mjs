// End-to-end tests of the engine worker's cold start and attention hand-off (issue 15). Loading
// and the first run are timed phase by phase (User Timing measures, read by
// tests/bench/cold-ab.mjs). Once the page draws a newer result, it moves the attention buffers of the one it
// drew before back to the worker, which copies the next runs' attention into them instead of into
// fresh arrays (www/src/engine/buffer-pool.ts): a run into reused buffers must show the same
// numbers as the first run into fresh ones, and those are the onnxruntime reference's.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { downloadOf, fillAndWait, READY_TIMEOUT_MS, referenceAppleRows, useSession } from './helpers.mjs';

const INPUT = '[data-testid="sentence-input"]';
/** Raw attention in wasm against onnxruntime on the same file (the integer products' bound, docs/ENGINE.md). */
const TOLERANCE = 3e-4;

const session = useSession();

/** The focus view's exported attention (the last layer, mean of heads): one row of numbers per sentence and query. */
async function focusRows(page) {
  const { records } = JSON.parse((await downloadOf(page, 'export-json')).bytes.toString('utf8'));
  const rows = new Map();
  for (const r of records) {
    const key = `${r.sentence}:${r.query}`;
    if (!rows.has(key)) rows.set(key, []);
    rows.get(key)[r.key - 1] = r.weight;
  }
  return rows;
}

/**
 * Each run's "copy the attention out" measure in the engine worker: how many sentences, how many
 * into reused buffers, how many lent in place (none: this page is not cross-origin isolated, so
 * its engine runs the single-thread build and copies; threads.test.mjs tests lending).
 */
function copies(page) {
  const [worker] = page.workers();
  return worker.evaluate(() => performance.getEntriesByName('bertscope: copy the attention out').map(({ detail: { sentences, reused, lent } }) => ({ sentences, reused, lent })));
}

/** Asserts "apple"'s row of each seed sentence is the onnxruntime reference's. */
function assertReference(rows, when) {
  referenceAppleRows().forEach(({ tokens, query, mean }, s) => {
    const row = rows.get(`${s + 1}:${query + 1}`);
    const real = tokens.filter((t) => t !== '[PAD]').length;
    assert.equal(row?.length, real, `${when}, sentence ${s + 1}: the row of “apple”`);
    row.forEach((v, k) => assert.ok(Math.abs(v - mean[k]) <= TOLERANCE, `${when}, sentence ${s + 1}, key ${tokens[k]}: ${v} vs ${mean[k]}`));
  });
}

describe('the engine worker', { concurrency: false }, () => {
  it('times loading and the first run phase by phase', { timeout: READY_TIMEOUT_MS }, async () => {
    const page = await session.open();
    const [worker] = page.workers();
    const names = await worker.evaluate(() => performance.getEntriesByType('measure').map((e) => e.name.replace(/^bertscope: /, '')));
    for (const phase of ['start the wasm', 'read the model file', 'load the model', 'decode the file', 'rewrite the file', 'parse the graph', 'parse the tokenizer', 'run', 'declutter', 'optimise', 'copy the attention out', 'analyse', 'post the result']) {
      assert.ok(names.includes(phase), `no “${phase}” in ${names.join(', ')}`);
    }
    // Once, at load, for the page's two sentences (it reads the model's shapes from that typing), and the
    // first run's plan starts from it: see docs/BENCHMARKS.md, "Cold start, second round".
    assert.equal(names.filter((n) => n === 'type the graph').length, 1, 'the graph is typed once, at load, for the first run');
    assert.equal(names.filter((n) => n === 'pack the weights').length, 36, 'the 36 int8 products of MiniLM are packed once');
    await page.close();
  });

  it('a rerun into buffers the page gave back shows the same numbers as the first run, the reference’s', { timeout: READY_TIMEOUT_MS + 60_000 }, async () => {
    const page = await session.open();
    const first = await focusRows(page);
    assertReference(first, 'first run');
    assert.deepEqual(await copies(page), [{ sentences: 2, reused: 0, lent: 0 }], 'the first run fills fresh buffers');

    // Another sentence (fresh buffers of another size), then the seed sentence again: that run
    // fills the first run's buffers, given back when the second result was drawn.
    await fillAndWait(page, `${INPUT} >> nth=0`, 'The bank raised its interest rates again');
    await fillAndWait(page, `${INPUT} >> nth=0`, 'Apple is huge enterprise');
    const runs = await copies(page);
    assert.equal(runs.length, 3, `runs: ${JSON.stringify(runs)}`);
    assert.deepEqual(runs.at(-1), { sentences: 2, reused: 2, lent: 0 }, 'the third run fills the first run’s buffers');
    const again = await focusRows(page);
    assert.deepEqual(again, first, 'the same numbers from reused buffers');
    assertReference(again, 'run into reused buffers');
    session.assertNoProblems();
  });
});
