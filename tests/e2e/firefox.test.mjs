// The page and the widget in Firefox (Debian's firefox-esr through geckodriver; the other e2e files
// drive Chromium): the classic demo's ids, the focus summaries against the onnxruntime reference,
// heatmaps drawn, a typed sentence run again; cross-origin isolated (the threaded build) and on a
// plain static host (one thread) with identical pixels, the engine kept there restored on a
// returning visit; the example post's widgets. Firefox is
// found as /usr/bin/firefox-esr (or FIREFOX), geckodriver in cargo's bin folder (or GECKODRIVER).
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { ISOLATION_HEADERS, serve } from '../../scripts/serve.mjs';
import { Firefox } from '../lib/webdriver.mjs';
import { dist, engineAttention, lastLayerMean, READY_TIMEOUT_MS, readCanvases, referenceStory } from './helpers.mjs';

const DEMO_IDS = [
  [101, 6207, 2003, 4121, 6960, 102, 0],
  [101, 1045, 2572, 5983, 2019, 6207, 102],
];

/** The page's status once it reads `ready` or an error (in the page). */
function settledStatus() {
  const status = document.querySelector('[data-testid="status"]');
  return status && (status.textContent === 'ready' || status.dataset.kind === 'error') ? status.textContent : null;
}

/** What the page shows (in the page): ids, summaries, model line, and whether it is cross-origin isolated. */
function pageReading() {
  const ids = Array.from(document.querySelectorAll('[data-testid="token-table"] table'), (table) =>
    Array.from(table.querySelectorAll('tr[data-row="input_ids"] td'), (td) => Number(td.textContent)),
  );
  return {
    ids,
    summaries: Array.from(document.querySelectorAll('[data-testid="focus-summary"]'), (p) => p.textContent),
    model: document.querySelector('[data-testid="model-info"]')?.textContent ?? '',
    isolated: self.crossOriginIsolated,
  };
}

/** Whether the engine worker has kept its prepared engine in the origin private file system (in the page; see prepared-engine.test.mjs). */
async function keptEngineWritten() {
  try {
    const file = await (await (await navigator.storage.getDirectory()).getFileHandle('bertscope-prepared-engine.bin')).getFile();
    return file.size > 64 * 1024 && new DataView(await file.slice(0, 4).arrayBuffer()).getUint32(0, true) !== 0;
  } catch {
    return false;
  }
}

/** `pageReading` and, per focus heatmap, its size, colours and a hash of its pixels (helpers.mjs `readCanvases`). */
async function read(firefox) {
  const heatmaps = await firefox.run(`(selector) => (${readCanvases})(Array.from(document.querySelectorAll(selector)))`, '[data-testid="focus-heatmap"]');
  return { ...(await firefox.run(pageReading)), heatmaps };
}

/** Threads the model line names ("· 2 threads", "· 1 thread"). */
function threadsOf(model) {
  const match = / · (\d+) threads?/.exec(model);
  assert.ok(match, `the model line names no thread count: ${model}`);
  return Number(match[1]);
}

describe('the page in Firefox', { concurrency: false, timeout: 4 * READY_TIMEOUT_MS }, () => {
  let firefox;
  let isolated;
  let plain;
  const story = referenceStory();

  before(async () => {
    [isolated, plain] = await Promise.all([serve(dist, { headers: ISOLATION_HEADERS }), serve(dist)]);
    firefox = await Firefox.launch();
  });
  after(async () => {
    await firefox?.close();
    await isolated?.close();
    await plain?.close();
  });

  /** Opens the page at `base` and waits until it is ready; what it shows. */
  async function open(base) {
    await firefox.navigate(base);
    const status = await firefox.waitFor(settledStatus, { timeout: READY_TIMEOUT_MS, what: 'ready' });
    assert.equal(status, 'ready', `the page reported: ${status}`);
    return read(firefox);
  }

  /** Asserts the classic demo: its ids, and the summaries of the onnxruntime reference. */
  function assertDemo(shown, where) {
    assert.deepEqual(shown.ids, DEMO_IDS, `${where}: input_ids`);
    assert.deepEqual(
      shown.summaries,
      story.map(({ target, weight }) => `apple → ${target} (${weight.toFixed(2)})`),
      `${where}: what "apple" attends to, against onnxruntime`,
    );
    assert.match(shown.model, /all-MiniLM-L6-v2 .*6 layers × 12 heads/, `${where}: the model line`);
    assert.equal(shown.heatmaps.length, 2, `${where}: two heatmaps`);
    for (const heatmap of shown.heatmaps) {
      assert.ok(heatmap.width > 100 && heatmap.height > 100 && heatmap.colours > 20, `${where}: a heatmap is not drawn (${JSON.stringify(heatmap)})`);
    }
  }

  let threaded;
  it('runs the classic demo cross-origin isolated, on the threaded build', async () => {
    threaded = await open(isolated.url);
    assert.equal(threaded.isolated, true, 'the isolation headers made the page cross-origin isolated');
    assertDemo(threaded, 'isolated');
    // `BERTSCOPE_THREADS=0 scripts/test` builds no threaded engine: the isolated page then runs on one thread too.
    if (process.env.BERTSCOPE_THREADS !== '0') assert.ok(threadsOf(threaded.model) >= 2, `more than one thread: ${threaded.model}`);
  });

  it('runs it on one thread on a plain static host, drawing the same pixels', async () => {
    const single = await open(plain.url);
    assert.equal(single.isolated, false);
    assertDemo(single, 'plain host');
    assert.equal(threadsOf(single.model), 1);
    assert.deepEqual(
      single.heatmaps.map((h) => h.hash),
      threaded.heatmaps.map((h) => h.hash),
      'the threaded and single-thread engines drew different heatmaps',
    );
  });

  it('a returning visit on the plain host restores the engine the first visit kept, drawing the same pixels', async () => {
    await firefox.waitFor(keptEngineWritten, { what: 'the prepared engine to be kept' });
    const again = await open(plain.url);
    assertDemo(again, 'returning visit');
    assert.equal(await firefox.run(() => performance.getEntriesByName('bertscope: engine restored').length), 1, 'the engine was restored, not loaded');
    assert.deepEqual(
      again.heatmaps.map((h) => h.hash),
      threaded.heatmaps.map((h) => h.hash),
      'the restored engine drew different heatmaps',
    );
  });

  it('runs again when a sentence is typed, and says what is wrong with a bad pair', async () => {
    const typed = 'I am eating a red apple';
    await firefox.type('[data-testid="sentence-input"]', typed, 1);
    await firefox.waitFor(() => document.querySelectorAll('[data-testid="token-table"] table')[1]?.textContent.includes('red'), { what: 'the new tokens' });
    assert.equal(await firefox.waitFor(settledStatus, { what: 'ready' }), 'ready');
    const shown = await read(firefox);
    // The native engine, given the same two sentences, as the reference for the ids and the summary.
    const native = engineAttention(['Apple is huge enterprise', typed]);
    assert.deepEqual(shown.ids, native.input_ids, 'the ids of the batch with the typed sentence');
    const tokens = native.tokens[1];
    const row = lastLayerMean(native, 1)[tokens.indexOf('apple')];
    let best = -1;
    tokens.forEach((token, k) => {
      if (token !== 'apple' && !/^\[(CLS|SEP|PAD)\]$/.test(token) && (best < 0 || row[k] > row[best])) best = k;
    });
    assert.equal(shown.summaries[1], `apple → ${tokens[best]} (${row[best].toFixed(2)})`);

    await firefox.type('[data-testid="sentence-input"]', 'a | b | c', 0);
    const error = await firefox.waitFor(
      () => {
        const status = document.querySelector('[data-testid="status"]');
        return status?.dataset.kind === 'error' ? status.textContent : null;
      },
      { what: 'the bad pair\'s message' },
    );
    assert.match(error, /^Sentence 1 has 2 “\|”/);
  });

  it('draws the example post\'s widgets', async () => {
    await firefox.navigate(`${plain.url}example-post.html`);
    // Widgets load when scrolled near: bring the first one still waiting into view each time.
    const states = await firefox.waitFor(
      () => {
        const widgets = Array.from(document.querySelectorAll('bert-attention'));
        const states = widgets.map((host) => host.shadowRoot?.querySelector('[data-testid="widget"]')?.dataset.state ?? '');
        const waiting = states.findIndex((s) => s !== 'ready' && s !== 'error');
        if (waiting >= 0) widgets[waiting].scrollIntoView();
        return widgets.length > 0 && waiting < 0 ? states : null;
      },
      { timeout: READY_TIMEOUT_MS, what: 'the widgets' },
    );
    assert.ok(states.length >= 2, `${states.length} widgets`);
    assert.deepEqual(states, states.map(() => 'ready'), 'every widget drew');
    const drawn = await firefox.run(() =>
      Array.from(document.querySelectorAll('bert-attention'), (host) => {
        const canvases = Array.from(host.shadowRoot.querySelectorAll('canvas')).filter((c) => c.width > 100 && c.height > 50);
        return canvases.length;
      }),
    );
    assert.ok(drawn.every((n) => n > 0), `a widget has no drawing: ${drawn}`);
  });
});
