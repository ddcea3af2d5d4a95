// Where the threaded engine's time goes, thread by thread: runs the default model on the threaded
// build (engine-threads.html, cross-origin isolated) in headless Chromium while Chrome traces its
// V8 sampling profiler, then prints each busy thread's self time per function. profile.mjs does
// the same for the single-thread build on the page's main thread; a worker's samples reach only
// the trace. A tool for deciding what to split next, not a benchmark.
//
//   node tests/bench/profile-threads.mjs [TOKENS=512] [RUNS=10] [THREADS=2] [TOP=25]
//
// PKG=DIR profiles a copy of www/pkg-threads instead. Needs a threaded build with function names
// (BERTSCOPE_WASM_NAMES=1 when running build_wasm_threads) and the models folder (BERTSCOPE_MODELS,
// else ../shared/models).
import { openThreadedMiniLM } from './browser.mjs';
import { textOfTokens } from './common.js';

const [tokens = 512, runs = 10, threads = 2, top = 25] = process.argv.slice(2).map(Number);

/**
 * Samples per thread and function from a Chrome trace's `ProfileChunk` events: Map profile id (one per thread) ->
 * { total, counts: Map function -> samples }. Idle and garbage-collector pseudo-frames are kept
 * under their own names, so a thread's shares add up to its sampled time.
 */
function samplesByThread(events) {
  const nodes = new Map();
  const threadsSeen = new Map();
  for (const event of events) {
    if (event.name !== 'ProfileChunk') continue;
    // Chrome writes the chunks from its profiler's thread: one profile id per sampled thread.
    const thread = `profile ${event.id}`;
    const profile = event.args?.data?.cpuProfile;
    if (!profile) continue;
    for (const node of profile.nodes ?? []) nodes.set(`${event.id}:${node.id}`, node.callFrame);
    const seen = threadsSeen.get(thread) ?? { total: 0, counts: new Map() };
    threadsSeen.set(thread, seen);
    for (const id of profile.samples ?? []) {
      const frame = nodes.get(`${event.id}:${id}`);
      const name = frame?.functionName || `(${frame?.url?.split('/').pop() || 'program'})`;
      seen.counts.set(name, (seen.counts.get(name) ?? 0) + 1);
      seen.total += 1;
    }
  }
  return threadsSeen;
}

const { browser, page, loaded, close } = await openThreadedMiniLM(threads);
try {
  const text = textOfTokens(tokens);
  await page.evaluate((t) => window.bench.time(t, 0, 3, 1500), text);
  await browser.startTracing(page, { categories: ['disabled-by-default-v8.cpu_profiler', '__metadata'] });
  const times = await page.evaluate(([t, n]) => window.bench.time(t, n), [text, runs]);
  const trace = JSON.parse((await browser.stopTracing()).toString('utf8'));
  const median = [...times].sort((a, b) => a - b)[Math.floor(times.length / 2)];
  console.log(`${tokens} tokens, ${loaded.threads} threads, ${runs} runs, median ${median.toFixed(1)} ms (under the profiler)`);
  const byThread = [...samplesByThread(trace.traceEvents ?? trace)].sort((a, b) => b[1].total - a[1].total);
  for (const [thread, { total, counts }] of byThread) {
    const busy = [...counts].filter(([name]) => name !== '(idle)' && name !== '(program)').reduce((sum, [, n]) => sum + n, 0);
    if (busy < total / 10) continue;
    console.log(`\n${thread}: ${total} samples, ${((busy / total) * 100).toFixed(0)}% not idle; self time by function:`);
    for (const [name, n] of [...counts].sort((a, b) => b[1] - a[1]).slice(0, top)) {
      console.log(`${((n / total) * 100).toFixed(1).padStart(6)}%  ${name.slice(0, 140)}`);
    }
  }
} finally {
  await close();
}
