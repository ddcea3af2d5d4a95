// End-to-end tests of crash containment on the threaded engine (issue 15 follow-up, issue 18): the
// explorer page served cross-origin isolated runs the engine on a pool of Web Workers (see
// threads.test.mjs). A pool thread that traps leaves the engine's worker waiting for its part for
// ever; the pool worker must tell the page itself, which ends the engine, says so in the crash
// notice and restarts it. The trap is the threaded build's test-only fault `testPanicInPoolThreads`
// (crates/bertscope-wasm/src/threads.rs: every pool thread but the engine's own panics while the
// engine waits for them), armed in the engine worker for its next run: which thread runs which part
// of a real product is up to rayon's work stealing, so no model makes a pool thread, and only one,
// trap every time. A model that exhausts memory on the engine's own thread (crash.test.mjs) is
// contained on the threaded page too. Needs build_wasm_threads before build_page; BERTSCOPE_THREADS=0 skips.
import assert from 'node:assert/strict';
import { mkdtempSync, readdirSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { ISOLATION_HEADERS } from '../../scripts/serve.mjs';
import { assertDrawn, assertOnlyAllocationFailures, canvasPixels, crashWatchedPage, dist, READY_TIMEOUT_MS, threadsShown, tokenTables, useSession, waitReady } from './helpers.mjs';
import { runCrashModel } from './onnx.mjs';

const crashDir = mkdtempSync(join(tmpdir(), 'bertscope-pool-crash-'));
writeFileSync(join(crashDir, 'crasher.onnx'), runCrashModel());
after(() => rmSync(crashDir, { recursive: true, force: true }));

const session = useSession({ headers: ISOLATION_HEADERS, mounts: { '/crash': crashDir } });

const SENTENCES = ['Apple is huge enterprise', 'I am eating an apple'];
const SECOND = '[data-testid="sentence-input"] >> nth=1';
const CRASH_NOTICE = '[data-testid="notices"] li[data-kind="crash"]';
/** How long the page may take to notice a stopped pool thread and end the engine: a hang fails here. */
const NOTICE_TIMEOUT_MS = 60_000;
/** What the page says when a pool thread traps (pool-thread.ts; the engine's own trap says "it ran out …"). */
const POOL_THREAD_TRAP = 'one of its threads ran out of memory or hit an internal error';
/** What the page says when the engine's own thread exhausts its memory. */
const ENGINE_TRAP = 'it ran out of memory or hit an internal error';
/** Time given to a looping page to show itself, in ms. */
const LOOP_WATCH_MS = 5_000;

/**
 * The page's engine workers as Playwright lists them (the pool's workers, nested in the engine's,
 * are listed too, but answer nothing: they wait in the pool, so their URL tells them apart).
 */
function engineWorkers(page) {
  return page.workers().filter((worker) => !worker.url().includes('/pool-thread-'));
}

const skip = process.env.BERTSCOPE_THREADS === '0' ? 'BERTSCOPE_THREADS=0: no threaded engine was built' : false;

describe('crashes of the threaded engine', { concurrency: false, skip }, () => {
  it('a pool thread that traps during a run: the page ends the engine, says so and restarts it', { timeout: 3 * READY_TIMEOUT_MS }, async () => {
    const { page, problems, crashes } = await crashWatchedPage(session);
    await page.goto(`${session.url}?${new URLSearchParams([...SENTENCES.map((s) => ['s', s]), ['focus', 'apple']])}`);
    await waitReady(page);
    assert.equal(await page.evaluate(() => crossOriginIsolated), true);
    const threads = await threadsShown(page);
    assert.ok(threads > 1, 'the engine runs on one thread: this test needs the threaded build and 2 cores');

    // The fault, armed in the engine worker: its next run request makes the pool threads panic while
    // it waits for them (the same module instance as the engine's: one module per URL and worker).
    const [engine, ...others] = engineWorkers(page);
    assert.equal(others.length, 0, 'one engine worker');
    assert.equal(await engine.evaluate(() => self.name), 'bertscope-engine');
    await engine.evaluate(async () => {
      const glue = await import(new URL('../threads/bertscope_wasm.js', self.location.href).href);
      let armed = true;
      self.addEventListener('message', (event) => {
        if (!armed || event.data?.type !== 'run') return;
        armed = false;
        glue.testPanicInPoolThreads();
      });
    });
    const edited = 'A thread of the pool stops here';
    await page.fill(SECOND, edited);

    const notice = page.locator(CRASH_NOTICE);
    await notice.waitFor({ timeout: NOTICE_TIMEOUT_MS });
    const said = await notice.textContent();
    console.log(`  the page said: ${said}`);
    assert.match(said, new RegExp(`^The engine stopped while running all-MiniLM-L6-v2 [^:]*: ${POOL_THREAD_TRAP}\\. It restarted with all-MiniLM-L6-v2 .*; your sentences are kept\\.$`));

    // The fresh engine is threaded again and runs the edited sentences.
    await waitReady(page);
    assert.ok((await threadsShown(page)) > 1, 'the restarted engine runs on several threads');
    const tables = await tokenTables(page);
    assert.deepEqual(tables[1].tokens.filter((t) => !/^\[(CLS|SEP|PAD)\]$/.test(t)), ['a', 'thread', 'of', 'the', 'pool', 'stops', 'here']);
    assert.equal((await canvasPixels(page, 'focus-heatmap')).length, 2, 'both heatmaps drawn');
    await page.waitForTimeout(LOOP_WATCH_MS);
    assert.equal(crashes.length, 1, `the engine stopped ${crashes.length} times:\n${crashes.join('\n')}`);
    assert.equal(await page.locator(CRASH_NOTICE).count(), 1);
    assert.equal(await page.textContent('[data-testid="status"]'), 'ready');
    const engines = engineWorkers(page);
    assert.equal(engines.length, 1, 'one engine worker, the fresh one');
    assert.notEqual(engines[0], engine, 'the engine worker was replaced');
    assert.equal(page.workers().length, threads, 'the ended engine’s pool workers are gone: the fresh engine and its pool are left');
    // The pool threads' own reports, one each: the panic and what the pool worker told the page.
    const panics = problems.filter((p) => /^console: panicked at .*test fault: pool thread \d+ panics on purpose/s.test(p));
    const alarms = problems.filter((p) => p === `console: bertscope: a pool thread of the engine stopped: ${POOL_THREAD_TRAP}`);
    assert.equal(panics.length, threads - 1, problems.join('\n'));
    assert.equal(alarms.length, threads - 1, problems.join('\n'));
    assert.equal(problems.length, panics.length + alarms.length, problems.join('\n'));
    await page.close();
  });

  it('a model that exhausts memory on the engine’s own thread: one crash, a restart, no loop', { timeout: 2 * READY_TIMEOUT_MS }, async () => {
    const { page, problems, crashes } = await crashWatchedPage(session);
    await page.goto(`${session.url}?model=/crash/crasher.onnx&tokenizer=/models/default/tokenizer.json&name=crasher`);
    const notice = page.locator(CRASH_NOTICE);
    await notice.waitFor({ timeout: READY_TIMEOUT_MS });
    const said = await notice.textContent();
    console.log(`  the page said: ${said}`);
    assert.match(said, new RegExp(`^The engine stopped while running crasher: ${ENGINE_TRAP}\\. It restarted with all-MiniLM-L6-v2 .*; your sentences are kept\\. crasher is not loaded again unless you reload the page\\.$`));
    await waitReady(page);
    assert.ok((await threadsShown(page)) > 1, 'the restarted engine runs on several threads');
    await page.waitForTimeout(LOOP_WATCH_MS);
    assert.equal(crashes.length, 1, `the engine stopped ${crashes.length} times:\n${crashes.join('\n')}`);
    assert.equal(await page.textContent('[data-testid="status"]'), 'ready');
    assertOnlyAllocationFailures(problems, 1);
    await page.close();
  });
});

/**
 * The built page's assets with the pool thread's script replaceable (`poolScript`): every other
 * asset is a link to the real one. Routing cannot stand in for it: Playwright does not see the
 * requests of workers started by a worker.
 */
const assetsDir = mkdtempSync(join(tmpdir(), 'bertscope-pool-start-'));
after(() => rmSync(assetsDir, { recursive: true, force: true }));
const realAssets = join(dist, 'assets');
const poolScriptName = readdirSync(realAssets).find((name) => name.startsWith('pool-thread-'));
for (const name of readdirSync(realAssets)) if (name !== poolScriptName) symlinkSync(join(realAssets, name), join(assetsDir, name));
const unstartable = useSession({ headers: ISOLATION_HEADERS, mounts: { '/assets': assetsDir } });

/** A fresh page of `unstartable` whose pool-thread script is `body`, with its console warnings. */
async function pageWithPoolScript(body) {
  writeFileSync(join(assetsDir, poolScriptName ?? 'pool-thread-missing.js'), body);
  const page = await unstartable.freshPage();
  const warnings = [];
  page.on('console', (message) => {
    if (message.type() === 'warning') warnings.push(message.text());
  });
  return { page, warnings };
}

describe('pool threads that do not start', { concurrency: false, skip }, () => {
  it('a pool worker that never answers: after the time-out the engine runs on one thread', { timeout: 3 * READY_TIMEOUT_MS }, async () => {
    const { page, warnings } = await pageWithPoolScript('// this thread never says it runs\n');
    const started = Date.now();
    await page.goto(unstartable.url);
    await waitReady(page);
    console.log(`  ready on one thread after ${Date.now() - started} ms; the page warned: ${warnings.join(' | ')}`);
    assert.equal(await threadsShown(page), 1);
    assert.ok(warnings.some((w) => /^bertscope: the engine runs on one thread \(a thread of the engine did not start in time \(10 s\)\)$/.test(w)), warnings.join('\n'));
    const heatmaps = await canvasPixels(page, 'focus-heatmap');
    assert.equal(heatmaps.length, 2, 'both heatmaps drawn');
    for (const [i, heatmap] of heatmaps.entries()) assertDrawn(heatmap, `heatmap ${i + 1}`);
    await page.context().close();
  });

  it('a pool worker whose script fails: the engine runs on one thread at once', { timeout: 2 * READY_TIMEOUT_MS }, async () => {
    const { page, warnings } = await pageWithPoolScript('throw new Error("this thread\'s script is broken");\n');
    await page.goto(unstartable.url);
    await waitReady(page);
    assert.equal(await threadsShown(page), 1);
    assert.ok(warnings.some((w) => /^bertscope: the engine runs on one thread \(a thread of the engine could not start: /.test(w)), warnings.join('\n'));
    await page.context().close();
  });

  it('logged no console errors', () => {
    unstartable.assertNoProblems();
  });
});
