// Headless Chromium side: one page per engine configuration, alternating runs, memory, fidelity.
import path from 'node:path';
import { serve } from '../../scripts/serve.mjs';
import { launchChromium, modelsDir, repoRoot, watchPage } from '../lib/environment.mjs';
import { engineBenchOptions, openEngineBench, Session } from '../lib/session.mjs';
import { textOfTokens } from './common.js';

/**
 * For the tools beside the benchmark (ab.mjs, profile.mjs): in `browser`, a session serving www with
 * the models folder and, if given, another wasm build `pkg` as /pkg (see `engineBenchOptions`), its
 * pages' problems printed on stderr; opens engine.html and loads the default model there.
 * Resolves to `{ session, page, loaded }`; `session.close()` ends it.
 */
export async function openDefaultModel(browser, { pkg } = {}) {
  const onProblem = (problem) => console.error(`${pkg ?? 'www/pkg'}: ${problem}`);
  const session = await new Session({ ...engineBenchOptions({ pkg }), browser, onProblem }).start();
  try {
    return { session, ...(await openEngineBench(session)) };
  } catch (error) {
    await session.close();
    throw error;
  }
}

/**
 * For the threaded build's tools (profile-threads.mjs, handoff-threads.mjs): www/pkg-threads, or
 * the copy $PKG names, in one cross-origin isolated headless Chromium page (engine-threads.html,
 * the engine in a worker with a pool of `threads` threads) with MiniLM loaded; its problems are
 * printed on stderr. Resolves to `{ browser, page, loaded, close }`.
 */
export async function openThreadedMiniLM(threads) {
  const mounts = { '/models': modelsDir, '/bench': path.join(repoRoot, 'tests/bench'), ...(process.env.PKG ? { '/pkg-threads': process.env.PKG } : {}) };
  const server = await serve(path.join(repoRoot, 'www'), { mounts, isolated: true });
  const browser = await launchChromium();
  const close = async () => {
    await browser.close();
    await server.close();
  };
  try {
    const page = watchPage(await browser.newPage(), (problem) => console.error(problem));
    await page.goto(`${server.url}bench/engine-threads.html?threads=${threads}`);
    await page.waitForFunction(() => window.bench);
    const files = { model: '/models/minilm-l6/model_weights_int8.onnx', tokenizer: '/models/minilm-l6/tokenizer.json' };
    const loaded = await page.evaluate((f) => window.bench.load(f), files);
    return { browser, page, loaded, close };
  } catch (error) {
    await close();
    throw error;
  }
}

/**
 * Opens `config.page` (default `config.kind`.html: engine.html | ort.html) in a fresh context,
 * from `config.baseUrl` if it names a server of its own, and loads `config.model` there.
 */
async function openEngine(browser, baseUrl, config, log) {
  const page = watchPage(await browser.newPage(), (problem) => log(`${config.name}: ${problem}`));
  await page.goto(`${config.baseUrl ?? baseUrl}bench/${config.page ?? (config.kind === 'bertscope' ? 'engine.html' : 'ort.html')}`);
  await page.waitForFunction(() => window.bench);
  const loaded = await page.evaluate((c) => window.bench.load(c), { model: config.model, tokenizer: config.tokenizer, measure: config.measure ?? null });
  log(`${config.name}: loaded in ${loaded.load_ms.toFixed(0)} ms`);
  return { ...config, page, loaded };
}

/** Untimed runs before the first timed one: until the browser's optimising wasm tier has caught up. */
const WARMUP = { runs: 3, ms: 1500 };

/** `runs` timed runs of the `n`-token input in one engine's page, after `warmup` untimed ones lasting `warmupMs`. */
function timeRuns(engine, n, ids, runs, warmup = 1, warmupMs = 0) {
  const input = engine.kind === 'bertscope' ? textOfTokens(n) : ids;
  return engine.page.evaluate(([x, ...k]) => window.bench.time(x, ...k), [input, runs, warmup, warmupMs]);
}

/**
 * Latency of every configuration at every length on the same ids, in `rounds` rounds of runs/rounds
 * runs each; within a round and length the engines take turns, in an order that rotates.
 * Then each page's wasm memory and, if `fidelity` is given, attention fidelity against
 * `fidelity.reference`: bertscope's, and that of each onnxruntime engine with a Softmax copy in
 * `fidelity.copies`.
 */
export async function browserBench(browser, { baseUrl, configs, ids, lengths, runs, rounds, fidelity, log }) {
  const engines = [];
  for (const config of configs) engines.push(await openEngine(browser, baseUrl, config, log));
  try {
    for (const engine of engines.filter((e) => e.kind === 'bertscope' && !e.measure)) {
      for (const n of lengths) {
        const got = await engine.page.evaluate((text) => window.bench.tokenize(text), textOfTokens(n));
        if (got.join() !== ids[n].join()) throw new Error(`the wasm tokenizer gave other ids than the native one for ${n} tokens`);
      }
    }
    log(`browser warm-up (${WARMUP.runs} runs and ${WARMUP.ms} ms per engine and length)`);
    for (const engine of engines) for (const n of lengths) await timeRuns(engine, n, ids[n], 0, WARMUP.runs, WARMUP.ms);
    const perRound = Math.max(1, Math.ceil(runs / rounds));
    const times = Object.fromEntries(engines.map((e) => [e.name, {}]));
    for (let round = 0; round < rounds; round++) {
      log(`browser round ${round + 1}/${rounds}`);
      for (const [i, n] of lengths.entries()) {
        for (let k = 0; k < engines.length; k++) {
          const engine = engines[(round + i + k) % engines.length];
          (times[engine.name][n] ??= []).push(...(await timeRuns(engine, n, ids[n], perRound)));
        }
      }
    }
    const result = { times, load_ms: {}, memory: {}, fidelity: {} };
    for (const engine of engines) {
      result.load_ms[engine.name] = engine.loaded.load_ms;
      if (engine.loaded.compile_ms !== undefined) result.load_ms[`${engine.name}_wasm_compile`] = engine.loaded.compile_ms;
      if (engine.measure) continue;
      result.memory[engine.name] = {
        after_load_bytes: engine.loaded.memory_bytes,
        after_512_bytes: await engine.page.evaluate(() => window.bench.memory()),
      };
    }
    const checked = fidelity ? engines.filter((e) => !e.measure && (e.kind === 'bertscope' || fidelity.copies?.[e.name])) : [];
    for (const engine of checked) {
      log(`${engine.name}: fidelity`);
      const copy = fidelity.copies?.[engine.name];
      result.fidelity[engine.name] = engine.kind === 'bertscope'
        ? await engine.page.evaluate((ref) => window.bench.fidelity(ref), fidelity.reference)
        : await engine.page.evaluate(([ref, url, names]) => window.bench.fidelity(ref, url, names), [fidelity.reference, copy.url, copy.softmax]);
    }
    result.ort_web_version = await engines.find((e) => e.kind === 'ort')?.page.evaluate(() => window.bench.version);
    return result;
  } finally {
    for (const engine of engines) await engine.page.context().close();
  }
}
