// The browser fixture of the e2e tests and the benchmark tools: a folder served on localhost, a
// Chromium context to look at it in, and every console error, uncaught exception and dialog of the
// pages it opens, collected so a test can assert there were none. Also opens the page (waiting for
// its `ready`) and the engine's benchmark page with the default model.
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { serve } from '../../scripts/serve.mjs';
import { dist, launchChromium, modelsDir, repoRoot, SCREEN, watchPage } from './environment.mjs';

/** Loading includes compiling ~18 MB of wasm and optimising the model: be generous on 2 cores. */
export const READY_TIMEOUT_MS = 180_000;

/** The page's status line: `ready`, or what it is busy with, or the error. */
export const STATUS = '[data-testid="status"]';

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

/** Throws, saying how to make them, unless the built page and its linked default model are there. */
function requireBuild() {
  for (const file of ['index.html', 'bert-attention.js', 'example-post.html']) {
    if (!existsSync(join(dist, file))) {
      throw new Error(`${dist}/${file} is missing: build the page first (cd www && npm ci && npm run build)`);
    }
  }
  if (!existsSync(join(dist, 'models', 'default', 'model.onnx'))) {
    throw new Error(`${dist}/models/default/model.onnx is missing: scripts/test (or scripts/run) links the default model there`);
  }
}

/**
 * One served folder and one browser context. `start()` serves `root` (the built page by default,
 * checked first) with `headers` on every response, `mounts` (URL prefix → folder) and
 * `onRequest(method, path, headers)`; then starts Chromium, unless given a `browser` to share, and opens a
 * context on `screen` whose pages run `init` before their own scripts. Pages from `newPage`, `open` and `freshPage` report their problems into
 * `problems`, and to `onProblem` when given.
 */
export class Session {
  /** Console errors, uncaught exceptions and dialogs of the watched pages, one line each. */
  problems = [];
  server = null;
  browser = null;
  context = null;

  constructor({ root = dist, headers = {}, mounts = {}, onRequest, browser = null, screen = SCREEN, init, onProblem } = {}) {
    this.options = { root, headers, mounts, onRequest, screen, init };
    this.sharedBrowser = browser;
    this.report = (problem) => {
      this.problems.push(problem);
      onProblem?.(problem);
    };
  }

  /** Serves the folder and opens the browser context; resolves to the session (or closes what it opened, and throws). */
  async start() {
    const { root, headers, mounts, onRequest, screen, init } = this.options;
    if (root === dist) requireBuild();
    try {
      this.server = await serve(root, { onRequest, headers, mounts });
      this.browser = this.sharedBrowser ?? (await launchChromium());
      this.context = await this.browser.newContext(screen);
      if (init) await this.context.addInitScript(init);
    } catch (error) {
      await this.close();
      throw error;
    }
    return this;
  }

  /** The served folder's address, ending in `/`. */
  get url() {
    return this.server.url;
  }

  /** A new page in the session's context whose problems go to `problems` (or to the array `into`). */
  async newPage({ into } = {}) {
    const report = into ? (problem) => into.push(problem) : this.report;
    return watchPage(await this.context.newPage(), report);
  }

  /** A watched page in a context of its own (no cache, no storage shared with the others), on the same screen. */
  async freshPage() {
    const context = await this.browser.newContext(this.options.screen);
    return watchPage(await context.newPage(), this.report);
  }

  /** A watched page showing the served `path` (after running `init` in it before its scripts), once it says `ready`. */
  async open(path = '', { init } = {}) {
    const page = await this.newPage();
    if (init) await page.addInitScript(init);
    await page.goto(`${this.url}${path}`);
    await waitReady(page);
    return page;
  }

  /** Asserts the watched pages logged no error, threw nothing and opened no dialog. */
  assertNoProblems() {
    assert.deepEqual(this.problems, []);
  }

  /** Closes what `start` opened (the browser only if the session started it); safe after a failed start. */
  async close() {
    await this.context?.close();
    if (!this.sharedBrowser) await this.browser?.close();
    await this.server?.close();
  }
}

/** The default model's files as the engine benchmark page sees them (under the `/models` mount). */
const DEFAULT_MODEL_FILES = { model: '/models/minilm-l6/model_weights_int8.onnx', tokenizer: '/models/minilm-l6/tokenizer.json' };

/**
 * `Session` options for tests/bench/engine.html (the engine on the page's main thread, making the
 * calls the worker makes): www served with the models folder at /models, tests/bench at /bench and,
 * if given, another wasm-pack output folder `pkg` in place of www/pkg.
 */
export function engineBenchOptions({ pkg } = {}) {
  const mounts = { '/models': modelsDir, '/bench': join(repoRoot, 'tests', 'bench'), ...(pkg ? { '/pkg': pkg } : {}) };
  return { root: join(repoRoot, 'www'), mounts };
}

/** Opens the engine benchmark page in `session` and loads the default model there: `{ page, loaded }` (what `bench.load` reports). */
export async function openEngineBench(session) {
  const page = await session.newPage();
  await page.goto(`${session.url}bench/engine.html`);
  await page.waitForFunction(() => window.bench, null, { timeout: 60_000 });
  const loaded = await page.evaluate((files) => window.bench.load(files), DEFAULT_MODEL_FILES);
  return { page, loaded };
}
