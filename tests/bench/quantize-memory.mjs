// How much memory the page uses to make a big fp32 model smaller: drops MODEL (default: the 265 MB
// fp32 DistilBERT-base `scripts/bench quantize` folds back from distilbert-base-random, kept in
// $CARGO_TARGET_DIR/bench) with its tokenizer into the built page in headless Chromium, loads it
// as it is, accepts the offer to make it about 4× smaller, then reloads and drops it again (the
// kept copy). Prints, after each step, the engine's wasm memory (it only grows: the peak so far)
// in copies of the file, the peak resident memory of the browser's renderer processes (sampled
// every 50 ms from /proc, over what they held before the drop), the page's main-thread JS heap
// and the time of each stage. A measurement, never a pass/fail test. Saves a screenshot of the
// progress bar while quantizing in tests/artifacts.
//
//   node tests/bench/quantize-memory.mjs [MODEL.onnx] [TOKENIZER.json]
//
// Needs the built page (scripts/run, or build_page in scripts/lib/common.sh).
import { mkdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { modelsDir, repoRoot } from '../lib/environment.mjs';
import { Session, waitReady } from '../lib/session.mjs';

const target = process.env.CARGO_TARGET_DIR || join(repoRoot, 'target');
const [model = join(target, 'bench', 'distilbert-base-fp32.onnx'), tokenizer = join(modelsDir, 'distilbert-base-random', 'tokenizer.json')] =
  process.argv.slice(2);
const artifacts = join(repoRoot, 'tests', 'artifacts');
const fileBytes = (() => {
  try {
    return statSync(model).size;
  } catch {
    console.error(`${model} is missing: make it with \`scripts/bench quantize\`, or give an fp32 .onnx file`);
    process.exit(2);
  }
})();
const mb = (bytes) => `${(bytes / 1e6).toFixed(0)} MB`;
const copies = (bytes) => `${(bytes / fileBytes).toFixed(2)} copies`;

/** Resident memory of a process in bytes (0 once it is gone). */
function rss(pid) {
  try {
    const line = readFileSync(`/proc/${pid}/status`, 'utf8').match(/^VmRSS:\s+(\d+) kB/m);
    return line ? Number(line[1]) * 1024 : 0;
  } catch {
    return 0;
  }
}

/** Samples the summed resident memory of the browser's renderer processes; `peak()` since the last `reset()`. */
class RendererMemory {
  constructor(pids) {
    this.pids = pids;
    this.max = 0;
    this.timer = setInterval(() => this.sample(), 50);
  }

  sample() {
    const total = this.pids.reduce((sum, pid) => sum + rss(pid), 0);
    this.max = Math.max(this.max, total);
    return total;
  }

  reset() {
    this.max = this.sample();
    return this.max;
  }

  peak() {
    this.sample();
    return this.max;
  }

  stop() {
    clearInterval(this.timer);
  }
}

/** The page's main-thread JS heap in bytes (Chromium's performance.memory). */
const jsHeap = (page) => page.evaluate(() => performance.memory?.usedJSHeapSize ?? 0);

/** Records when each stage of the panel's progress bar starts. */
const watchStages = (page) =>
  page.evaluate(() => {
    const box = document.querySelector('[data-testid="quantize-progress"]');
    window.stagesSeen = [];
    new MutationObserver(() => {
      const stage = box.dataset.stage;
      if (!box.hidden && stage && window.stagesSeen.at(-1)?.[0] !== stage) window.stagesSeen.push([stage, performance.now()]);
    }).observe(box, { attributes: true, subtree: true });
  });

async function dropFiles(page) {
  if (!(await page.isVisible('[data-testid="byo-model-file"]'))) await page.click('[data-testid="byo-summary"]');
  await page.setInputFiles('[data-testid="byo-tokenizer-file"]', tokenizer);
  await page.setInputFiles('[data-testid="byo-model-file"]', model);
}

const wasmBytes = async (page) => Number(await page.getAttribute('#byo-model', 'data-wasm-bytes'));

mkdirSync(artifacts, { recursive: true });
const session = new Session();
await session.start();
let memory;
try {
  const page = await session.open();
  const cdp = await session.browser.newBrowserCDPSession();
  const { processInfo } = await cdp.send('SystemInfo.getProcessInfo');
  memory = new RendererMemory(processInfo.filter((p) => p.type === 'renderer').map((p) => p.id));
  console.log(`fp32 file: ${model} (${mb(fileBytes)})`);
  const say = async (step, started, base) => {
    const wasm = await wasmBytes(page);
    const peak = memory.peak();
    console.log(
      `${step} (${((performance.now() - started) / 1000).toFixed(1)} s): wasm memory ${mb(wasm)} = ${copies(wasm)}; ` +
        `renderer peak ${mb(peak)}, ${mb(peak - base)} = ${copies(peak - base)} over before the drop; main-thread JS heap ${mb(await jsHeap(page))}`,
    );
  };

  let base = memory.reset();
  console.log(`the page with its default model: renderer ${mb(base)}, main-thread JS heap ${mb(await jsHeap(page))}`);
  let started = performance.now();
  await dropFiles(page);
  await page.locator('[data-testid="quantize-accept"]').waitFor({ timeout: 600_000 });
  await waitReady(page);
  await say('loaded as it is and run', started, base);

  await watchStages(page);
  started = performance.now();
  await page.click('[data-testid="quantize-accept"]');
  // Mid-way through the tensors, for the screenshot.
  await page.waitForFunction(
    () => {
      const box = document.querySelector('[data-testid="quantize-progress"]');
      const bar = box.querySelector('progress');
      return box.dataset.stage === 'quantizing' && bar.value >= bar.max / 3;
    },
    null,
    { timeout: 600_000, polling: 20 },
  );
  await page.locator('#byo-model').screenshot({ path: join(artifacts, 'quantize-progress.png') });
  await page.locator('[data-testid="quantize-result"][data-state]').waitFor({ timeout: 600_000 });
  await waitReady(page);
  await say('made smaller, loaded and run', started, base);
  const stages = await page.evaluate(() => [...window.stagesSeen, ['(done)', performance.now()]]);
  console.log(`  stages: ${stages.slice(0, -1).map(([name, t], i) => `${name} ${((stages[i + 1][1] - t) / 1000).toFixed(2)} s`).join(', ')}`);
  console.log(`  the page said: ${await page.textContent('[data-testid="quantize-result"]')}`);

  await page.reload();
  await waitReady(page);
  base = memory.reset();
  started = performance.now();
  await dropFiles(page);
  await page.locator('[data-testid="quantize-result"][data-state="reused"]').waitFor({ timeout: 600_000 });
  await waitReady(page);
  await say('after a reload, the same file: the kept copy loaded and run', started, base);
  if (session.problems.length) console.log(`page problems:\n${session.problems.join('\n')}`);
} finally {
  memory?.stop();
  await session.close();
}
