// End-to-end tests of the embeddable widget, <bert-attention>, on the example blog post and test
// pages served WITH the strict Content-Security-Policy an author's blog may send. Reads canvas pixels
// from inside the widgets' shadow roots; saves screenshots to tests/artifacts/.
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { serve } from '../../scripts/serve.mjs';
import { artifacts, assertDrawn, dist, engineAttention, lastLayerMean, modelsDir, READY_TIMEOUT_MS, readCanvases, referenceStory, repoRoot, useSession } from './helpers.mjs';

/** The policy of issue 5: no inline script or style, no eval; wasm compilation allowed. */
const CSP = "default-src 'self'; script-src 'self' 'wasm-unsafe-eval'; style-src 'self'";
const WIDGET = 'bert-attention';
/** A second model from the models folder, which is mounted at /other-models. */
const TINY = join(modelsDir, 'distilbert-tiny-random', 'model_quantized.onnx');

/** Paths the server was asked for, in order. */
const requests = [];

/** Paths of conditional requests (the cache asking whether a file changed). */
const conditional = [];

const count = (suffix) => requests.filter((path) => path.endsWith(suffix)).length;
/** Requests for `suffix` that were not conditional: downloads of the whole file. */
const downloads = (suffix) => count(suffix) - conditional.filter((path) => path.endsWith(suffix)).length;

/** Everything a test reads of each widget, from inside its shadow root. */
function widgets(page) {
  return page.$$eval(WIDGET, (hosts) =>
    hosts.map((host) => {
      const root = host.shadowRoot;
      const one = (selector) => root?.querySelector(selector) ?? null;
      const all = (selector) => Array.from(root?.querySelectorAll(selector) ?? [], (e) => e.textContent);
      return {
        state: one('[data-testid="widget"]')?.dataset.state,
        status: one('[data-testid="widget-status"]')?.textContent ?? '',
        messages: all('[data-testid="widget-messages"] li'),
        caption: one('[data-testid="widget-caption"]')?.textContent ?? '',
        summaries: all('[data-testid="focus-summary"]'),
      };
    }),
  );
}

/** Pixel readings of widget `index`'s heatmap and head-view canvases, found through its shadow root. */
async function widgetCanvases(page, index) {
  const canvases = await page
    .locator(WIDGET)
    .nth(index)
    .evaluateHandle((host) => Array.from(host.shadowRoot.querySelectorAll('canvas[data-testid="focus-heatmap"], canvas[data-testid="head-view"]')));
  try {
    return await canvases.evaluate(readCanvases);
  } finally {
    await canvases.dispose();
  }
}

/** Scrolls widget `index` into view and waits until it has drawn (or failed, which fails the test unless `failing`). */
async function waitWidget(page, index, { failing = false } = {}) {
  await page.locator(WIDGET).nth(index).scrollIntoViewIfNeeded();
  await page.waitForFunction(
    ([tag, i]) => /^(ready|error)$/.test(document.querySelectorAll(tag)[i]?.shadowRoot?.querySelector('[data-testid="widget"]')?.dataset.state ?? ''),
    [WIDGET, index],
    { timeout: READY_TIMEOUT_MS, polling: 100 },
  );
  const widget = (await widgets(page))[index];
  assert.equal(widget.state, failing ? 'error' : 'ready', `widget ${index + 1} says: ${widget.status}`);
  return widget;
}

/** Sets attribute `name` of widget `index` (null removes it), as host page code would. */
function setAttribute(page, index, name, value) {
  return page.evaluate(
    ([tag, i, n, v]) => {
      const host = document.querySelectorAll(tag)[i];
      if (v === null) host.removeAttribute(n);
      else host.setAttribute(n, v);
    },
    [WIDGET, index, name, value],
  );
}

/** Waits until widget `index`'s caption matches `pattern` (it is rewritten on every drawing). */
async function waitCaption(page, index, pattern) {
  await page.waitForFunction(
    ([tag, i, source]) => new RegExp(source).test(document.querySelectorAll(tag)[i]?.shadowRoot?.querySelector('[data-testid="widget-caption"]')?.textContent ?? ''),
    [WIDGET, index, pattern.source],
    { timeout: 10_000 },
  );
}

/** Own properties of `window` the page's scripts added, and CSP violations it saw (recorded by the init script). */
function pageRecords(page) {
  return page.evaluate(() => ({
    added: Object.getOwnPropertyNames(window).filter((name) => !window.__before.includes(name) && name !== '__before' && name !== '__violations'),
    violations: window.__violations,
  }));
}

/** Asserts the page added no globals and broke no CSP rule. */
async function assertClean(page) {
  const { added, violations } = await pageRecords(page);
  assert.deepEqual(violations, [], 'Content-Security-Policy violations');
  assert.deepEqual(added, [], 'globals leaked into the host page');
}

const session = useSession({
  headers: { 'Content-Security-Policy': CSP },
  mounts: { '/fixtures': join(repoRoot, 'tests', 'e2e', 'fixtures'), '/other-models': modelsDir },
  onRequest: (_method, path, headers) => {
    requests.push(path);
    if (headers['if-none-match']) conditional.push(path);
  },
  // Before any page script: the window's own properties, and a listener for CSP violations
  // (they bubble out of shadow roots: the event is composed).
  init: () => {
    Object.defineProperty(window, '__before', { value: Object.getOwnPropertyNames(window) });
    Object.defineProperty(window, '__violations', { value: [] });
    document.addEventListener('securitypolicyviolation', (e) => window.__violations.push(`${e.violatedDirective} ${e.blockedURI}`), true);
  },
});

describe('the <bert-attention> widget', { concurrency: false }, () => {
  let page;

  it('the example post is served with the strict CSP header', async () => {
    const response = await fetch(`${session.url}example-post.html`);
    assert.equal(response.status, 200);
    assert.equal(response.headers.get('content-security-policy'), CSP);
    const html = await response.text();
    assert.equal((html.match(/<bert-attention\b/g) ?? []).length, 3, 'the post has three widgets');
    assert.equal((html.match(/<script\b/g) ?? []).length, 1, 'one script tag includes the widget');
    assert.doesNotMatch(html, /<style|style=/, 'the post has no inline style');
    // scripts/run serves the post with a policy at least as strict (plus data: images for the explorer's icon).
    const run = readFileSync(join(repoRoot, 'scripts', 'run'), 'utf8');
    assert.ok(run.includes(`Content-Security-Policy: ${CSP}`), 'scripts/run sends the strict policy');
  });

  it('loads widgets only when scrolled near, and all share one worker, one wasm and one model download', { timeout: READY_TIMEOUT_MS * 3 }, async () => {
    page = await session.newPage();
    await page.goto(`${session.url}example-post.html`);
    await page.waitForFunction((tag) => customElements.get(tag) !== undefined, WIDGET);
    const first = await widgets(page);
    assert.equal(first.length, 3);
    assert.equal(first[2].state, 'idle', 'the third widget, far below, started loading before it was scrolled near');
    assert.ok(count('/model.onnx') <= 1);

    for (let i = 0; i < 3; i++) await waitWidget(page, i);
    assert.equal(count('/model.onnx'), 1, 'model.onnx downloaded once for three widgets');
    assert.equal(count('/tokenizer.json'), 1, 'tokenizer.json downloaded once');
    assert.equal(requests.filter((p) => p.endsWith('.wasm')).length, 1, 'the wasm downloaded once');
    assert.equal(page.workers().length, 1, 'one engine worker for all widgets');
    const scripts = count('/bert-attention.js');
    assert.ok(scripts >= 1 && scripts <= 2, `the widget file was fetched ${scripts} times (by the page and, as the worker, once more unless cached)`);
  });

  it('every widget draws, and the first tells the apple story of the reference', async () => {
    for (let i = 0; i < 3; i++) {
      const canvases = await widgetCanvases(page, i);
      assert.equal(canvases.length, 2, `widget ${i + 1} draws one canvas per sentence`);
      canvases.forEach((canvas, s) => assertDrawn(canvas, `widget ${i + 1}, sentence ${s + 1}`));
    }
    const [focus] = await widgets(page);
    const story = referenceStory();
    assert.deepEqual(
      focus.summaries,
      story.map((s) => `apple → ${s.target} (${s.weight.toFixed(2)})`),
    );
    assert.match(focus.caption, /^Layer 6 of 6 · mean of 12 heads/);
    const [, head, heatmap] = await widgets(page);
    assert.match(head.caption, /^Layer 1 of 6 · head 4 of 12/);
    assert.match(heatmap.caption, /^Layer 6 of 6 · head 4 of 12/);
    await page.screenshot({ path: join(artifacts, 'widget-post.png'), fullPage: true });
    for (let i = 0; i < 3; i++) await page.locator(WIDGET).nth(i).screenshot({ path: join(artifacts, `widget-post-figure-${i + 1}.png`) });
  });

  it('redraws when the layer attribute changes', async () => {
    const before = await widgetCanvases(page, 2);
    const downloads = requests.length;
    await setAttribute(page, 2, 'layer', '1');
    await waitCaption(page, 2, /^Layer 1 of 6 · head 4 of 12/);
    const after = await widgetCanvases(page, 2);
    after.forEach((canvas, s) => {
      assertDrawn(canvas, `layer 1, sentence ${s + 1}`);
      assert.notEqual(canvas.hash, before[s].hash, `sentence ${s + 1}: layer 1 looks exactly like layer 6`);
    });
    assert.equal(requests.length, downloads, 'a new layer downloaded something');
  });

  it('a bad layer="99" shows a message and falls back; the other widgets keep working', async () => {
    await setAttribute(page, 1, 'layer', '99');
    await waitCaption(page, 1, /^Layer 6 of 6 · head 4 of 12/);
    const [, bad] = await widgets(page);
    assert.equal(bad.state, 'ready');
    assert.deepEqual(bad.messages, ['layer="99" does not exist: this model has layers 1–6. Showing layer 6.']);
    (await widgetCanvases(page, 1)).forEach((canvas, s) => assertDrawn(canvas, `the widget with layer 99, sentence ${s + 1}`));

    const before = await widgetCanvases(page, 0);
    await setAttribute(page, 0, 'head', '4');
    await waitCaption(page, 0, /^Layer 6 of 6 · head 4 of 12/);
    const after = await widgetCanvases(page, 0);
    assert.notEqual(after[0].hash, before[0].hash, 'the first widget did not redraw for head 4');
    await setAttribute(page, 2, 'layer', '2');
    await waitCaption(page, 2, /^Layer 2 of 6 · head 4 of 12/);
    const states = (await widgets(page)).map((w) => w.state);
    assert.deepEqual(states, ['ready', 'ready', 'ready']);

    await setAttribute(page, 1, 'layer', '3');
    await waitCaption(page, 1, /^Layer 3 of 6 · head 4 of 12/);
    assert.deepEqual((await widgets(page))[1].messages, [], 'the message stays after the layer was fixed');
    await assertClean(page);
  });

  it('focus-nth names an occurrence (the 2nd “bank”); pieces shows a word piece by piece', { timeout: READY_TIMEOUT_MS }, async () => {
    const banks = 'The bank near the river bank flooded';
    const mean = lastLayerMean(engineAttention([banks]), 0);
    const tokens = ['[CLS]', 'the', 'bank', 'near', 'the', 'river', 'bank', 'flooded', '[SEP]'];
    /** The bank at token `q`: its strongest other word and the weight (the summary prints two decimals; wasm and native differ by up to 2e-4). */
    const strongest = (q) => {
      const [k] = tokens.map((_, k) => k).filter((k) => k !== q && !tokens[k].startsWith('[')).sort((a, b) => mean[q][b] - mean[q][a]);
      return { token: tokens[k], weight: mean[q][k] };
    };
    const [first, second] = [strongest(2), strongest(6)];
    assert.ok(Math.abs(first.weight - second.weight) > 0.02, 'the two banks read alike: pick another sentence');
    const summaries = async () => (await widgets(page))[0].summaries;
    /** Waits until the widget's summary is the one of `want`. */
    const summaryOf = async (want) => {
      const deadline = Date.now() + 10_000;
      for (;;) {
        const [text = ''] = await summaries();
        const match = /^bank → (.+) \((\d\.\d\d)\)$/.exec(text);
        if (match && match[1] === want.token && Math.abs(Number(match[2]) - want.weight) <= 0.005 + 2e-4) return;
        assert.ok(Date.now() < deadline, `the summary says ${text}, not bank → ${want.token} (${want.weight.toFixed(3)})`);
        await page.waitForTimeout(100);
      }
    };
    await setAttribute(page, 0, 'head', 'mean');
    await setAttribute(page, 0, 'sentences', banks);
    await setAttribute(page, 0, 'focus', 'bank');
    await setAttribute(page, 0, 'focus-nth', '2');
    await summaryOf(second);
    assert.deepEqual((await widgets(page))[0].messages, []);
    await setAttribute(page, 0, 'focus-nth', '3');
    await summaryOf(first);
    assert.deepEqual((await widgets(page))[0].messages, ['focus-nth="3": no sentence has “bank” 3 times: showing its first occurrence.']);
    await setAttribute(page, 0, 'focus-nth', 'two');
    await page.waitForFunction((tag) => document.querySelector(tag)?.shadowRoot?.querySelector('[data-testid="widget-messages"] li')?.textContent.startsWith('focus-nth="two"'), WIDGET, { timeout: 10_000 });
    assert.deepEqual((await widgets(page))[0].messages, ['focus-nth="two" is not an occurrence number (1, 2, …): showing the first occurrence.']);
    await summaryOf(first);

    // pieces: "tokenization" as its two pieces, each with its own strip.
    await setAttribute(page, 0, 'focus-nth', null);
    await setAttribute(page, 0, 'sentences', 'Tokenization is fun');
    await setAttribute(page, 0, 'focus', 'tokenization');
    await setAttribute(page, 0, 'pieces', '');
    await page.waitForFunction((tag) => document.querySelector(tag)?.shadowRoot?.querySelectorAll('[data-testid="piece-strips"]').length === 2, WIDGET, { timeout: 10_000 });
    assert.deepEqual(await page.locator(WIDGET).first().evaluate((host) => Array.from(host.shadowRoot.querySelectorAll('[data-testid="piece-strips"]'), (b) => b.dataset.piece)), ['token', '##ization']);
    await setAttribute(page, 0, 'pieces', null);
    await page.waitForFunction((tag) => document.querySelector(tag)?.shadowRoot?.querySelectorAll('[data-testid="piece-strips"]').length === 0, WIDGET, { timeout: 10_000 });
    assert.match((await summaries())[0], /^tokenization → /);
    // Back as the tests before left it.
    await setAttribute(page, 0, 'sentences', 'Apple is huge enterprise|I am eating an apple');
    await setAttribute(page, 0, 'focus', 'apple');
    await setAttribute(page, 0, 'head', '4');
    await waitCaption(page, 0, /^Layer 6 of 6 · head 4 of 12/);
    await assertClean(page);
  });

  it('turns every invalid attribute into a message and a default, and treats markup as text', { timeout: READY_TIMEOUT_MS }, async () => {
    const cases = await session.newPage();
    await cases.goto(`${session.url}fixtures/attributes.html`);
    const names = await cases.$$eval(WIDGET, (hosts) => hosts.map((h) => h.dataset.case));
    for (let i = 0; i < names.length; i++) await waitWidget(cases, i);
    const all = await widgets(cases);
    const by = Object.fromEntries(names.map((name, i) => [name, { ...all[i], index: i }]));

    assert.deepEqual(by.defaults.messages, []);
    assert.deepEqual(by.defaults.summaries.map((s) => s.split(' → ')[0]), ['apple', 'apple'], 'the default focus is the word both sentences share');

    const tables = await cases
      .locator(WIDGET)
      .nth(by.tokens.index)
      .evaluate((host) => Array.from(host.shadowRoot.querySelectorAll('table'), (t) => Array.from(t.querySelectorAll('tr[data-row="input_ids"] td'), (td) => Number(td.textContent))));
    assert.deepEqual(tables, [
      [101, 6207, 2003, 4121, 6960, 102, 0],
      [101, 1045, 2572, 5983, 2019, 6207, 102],
    ]);

    const dark = await cases
      .locator(WIDGET)
      .nth(by.dark.index)
      .evaluate((host) => getComputedStyle(host.shadowRoot.querySelector('[data-testid="widget"]')).backgroundColor);
    assert.equal(dark, 'rgb(20, 22, 27)', 'theme="dark" on a light page');
    assert.equal((await widgetCanvases(cases, by.dark.index)).length, 1);
    await cases.locator(WIDGET).nth(by.dark.index).screenshot({ path: join(artifacts, 'widget-dark.png') });

    assert.deepEqual(by.invalid.messages, [
      'sentences has 6 sentences; a widget shows at most 4: showing the first 4.',
      'layer="0" is not a layer number (1, 2, …): showing the last layer.',
      'head="x" is not a head number or "mean": showing the mean of all heads.',
      'view="pie" is not one of focus, heatmap, head, tokens: showing focus.',
      'theme="purple" is not light, dark or auto: using auto.',
      'model="javascript:alert(1)" is not an http(s) URL: using the default model.',
      'focus="banana" is not a word of any sentence: showing “one”.',
    ]);
    assert.match(by.invalid.caption, /^Layer 6 of 6 · mean of 12 heads/);
    assert.equal((await widgetCanvases(cases, by.invalid.index)).length, 4, 'the first four sentences are drawn');

    const markup = await cases
      .locator(WIDGET)
      .nth(by.markup.index)
      .evaluate((host) => ({
        elements: host.shadowRoot.querySelectorAll('img, script, b').length,
        titles: Array.from(host.shadowRoot.querySelectorAll('.sentence-title'), (h) => h.textContent),
      }));
    assert.equal(markup.elements, 0, 'markup in an attribute became elements');
    assert.match(markup.titles[0], /<img src=x onerror=alert\(1\)> apple/);
    assert.match(by.markup.messages.join(' '), /focus="<b>" is not a word of any sentence/);

    // Attributes changed at run time: the view, the theme, the sentences.
    await setAttribute(cases, by.tokens.index, 'view', 'head');
    await cases.waitForFunction(
      ([tag, i]) => document.querySelectorAll(tag)[i].shadowRoot.querySelectorAll('canvas[data-testid="head-view"]').length === 2,
      [WIDGET, by.tokens.index],
    );
    (await widgetCanvases(cases, by.tokens.index)).forEach((canvas, s) => assertDrawn(canvas, `head view, sentence ${s + 1}`));
    await setAttribute(cases, by.dark.index, 'theme', 'light');
    await setAttribute(cases, by.dark.index, 'sentences', 'The cat sat on the mat|The dog ate my homework');
    await cases.waitForFunction(
      ([tag, i]) => document.querySelectorAll(tag)[i].shadowRoot.querySelectorAll('canvas[data-testid="focus-heatmap"]').length === 2,
      [WIDGET, by.dark.index],
    );
    const light = await cases
      .locator(WIDGET)
      .nth(by.dark.index)
      .evaluate((host) => getComputedStyle(host.shadowRoot.querySelector('[data-testid="widget"]')).backgroundColor);
    assert.equal(light, 'rgb(246, 247, 249)');
    await cases.screenshot({ path: join(artifacts, 'widget-attributes.png'), fullPage: true });
    await assertClean(cases);
    assert.equal(downloads('/model.onnx'), 1, 'another page of the same site downloaded the model again (the Cache API should have it)');
    assert.equal(count('/model.onnx'), 2, 'it only asked whether the model changed (a conditional request)');
    await cases.close();
  });

  it('looks right in a page with hostile global CSS', { timeout: READY_TIMEOUT_MS }, async () => {
    const hostile = await session.newPage();
    await hostile.goto(`${session.url}fixtures/hostile.html`);
    await waitWidget(hostile, 0);
    const canvases = await widgetCanvases(hostile, 0);
    assert.equal(canvases.length, 2, 'the hostile `canvas { display: none !important }` hid the heatmaps');
    canvases.forEach((canvas, s) => assertDrawn(canvas, `hostile page, sentence ${s + 1}`));
    const inside = await hostile.locator(WIDGET).evaluate((host) => {
      const root = host.shadowRoot;
      const style = (selector) => getComputedStyle(root.querySelector(selector));
      const widget = style('[data-testid="widget"]');
      const title = style('.sentence-title');
      const canvas = style('canvas[data-testid="focus-heatmap"]');
      return {
        widgetFont: widget.fontSize,
        titleFont: title.fontSize,
        titleTransform: title.textTransform,
        titleSpacing: title.letterSpacing,
        titleColour: title.color,
        canvasDisplay: canvas.display,
        cardVisibility: style('.card').visibility,
        width: root.querySelector('[data-testid="widget"]').getBoundingClientRect().width,
      };
    });
    assert.deepEqual(
      { ...inside, width: inside.width > 600 },
      {
        widgetFont: '15px',
        titleFont: '15px',
        titleTransform: 'none',
        titleSpacing: 'normal',
        titleColour: 'rgb(27, 29, 35)',
        canvasDisplay: 'block',
        cardVisibility: 'visible',
        width: true,
      },
    );
    await hostile.locator(WIDGET).screenshot({ path: join(artifacts, 'widget-hostile-css.png') });
    await hostile.screenshot({ path: join(artifacts, 'widget-hostile-page.png'), fullPage: true });
    await assertClean(hostile);
    await hostile.close();
  });

  it('the README snippet, pasted into a plain HTML file on a plain static server, shows the figure', { timeout: READY_TIMEOUT_MS }, async () => {
    const readme = readFileSync(join(repoRoot, 'README.md'), 'utf8');
    const section = readme.split(/^## /m).find((s) => s.startsWith('Embed the widget'));
    assert.ok(section, 'README has a section "## Embed the widget"');
    const snippet = section.match(/```html\n([\s\S]*?)```/)?.[1];
    assert.ok(snippet, 'the section has an html snippet');
    const prefix = snippet.match(/src="\/([^/"]+)\/bert-attention\.js"/)?.[1];
    assert.ok(prefix, 'the snippet loads /<folder>/bert-attention.js');

    const dir = mkdtempSync(join(tmpdir(), 'bertscope-blog-'));
    writeFileSync(join(dir, 'post.html'), `<!doctype html>\n<meta charset="utf-8">\n<link rel="icon" href="data:,">\n<title>My post</title>\n<h1>My post</h1>\n${snippet}`);
    // Another server, no CSP, the built folder copied under the snippet's folder name.
    const blog = await serve(dir, { mounts: { [`/${prefix}`]: dist } });
    const plain = await session.newPage();
    try {
      await plain.goto(`${blog.url}post.html`);
      const widget = await waitWidget(plain, 0);
      assert.deepEqual(widget.messages, []);
      const canvases = await widgetCanvases(plain, 0);
      assert.ok(canvases.length >= 1);
      canvases.forEach((canvas, s) => assertDrawn(canvas, `README snippet, sentence ${s + 1}`));
      await assertClean(plain);
    } finally {
      await plain.close();
      await blog.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('shows other models, and a missing one as a message, on one page and one worker', { skip: !existsSync(TINY) && `no ${TINY}`, timeout: READY_TIMEOUT_MS }, async () => {
    const seen = [];
    const several = await session.newPage({ into: seen }); // the missing model's 404 is expected here, nothing else
    const tinyBefore = count('/distilbert-tiny-random/model_quantized.onnx');
    const defaultBefore = count('/models/default/model.onnx');
    const defaultAskedBefore = conditional.filter((p) => p.endsWith('/models/default/model.onnx')).length;
    await several.goto(`${session.url}fixtures/models.html`);
    const names = await several.$$eval(WIDGET, (hosts) => hosts.map((h) => h.dataset.case));
    for (let i = 0; i < names.length; i++) await waitWidget(several, i, { failing: names[i] === 'missing' });
    const by = Object.fromEntries((await widgets(several)).map((w, i) => [names[i], { ...w, index: i }]));
    assert.match(by.default.caption, /^Layer 6 of 6 · mean of 12 heads/);
    assert.match(by.tiny.caption, /^Layer 2 of 2 · mean of 4 heads/);
    assert.deepEqual(by.tiny.messages, ['layer="6" does not exist: this model has layers 1–2. Showing layer 2.']);
    assert.match(by['tiny-head'].caption, /^Layer 2 of 2 · mean of 4 heads/);
    assert.match(by.missing.status, /^Could not load the model: could not download http:\/\/\S+\/other-models\/missing\.onnx: the server answered 404/);
    for (const name of ['default', 'tiny', 'tiny-head']) {
      (await widgetCanvases(several, by[name].index)).forEach((canvas, s) => assertDrawn(canvas, `${name}, sentence ${s + 1}`, 4));
    }
    assert.equal(count('/distilbert-tiny-random/model_quantized.onnx') - tinyBefore, 1, 'the second model downloaded once');
    // A new page asks the server once whether the cached model changed (a conditional request, answered 304).
    assert.equal(count('/models/default/model.onnx') - defaultBefore, 1, 'the default model came from the Cache API');
    assert.equal(conditional.filter((p) => p.endsWith('/models/default/model.onnx')).length - defaultAskedBefore, 1, 'and the request for it was conditional');
    assert.equal(several.workers().length, 1);
    assert.deepEqual(seen.filter((p) => !/404/.test(p)), []);
    assert.ok(seen.length <= 1, `more than the one expected 404: ${seen.join('; ')}`);
    await assertClean(several);
    await several.close();
  });

  it('works from another origin (a CDN sending CORS headers): the worker starts from a blob: module', { timeout: READY_TIMEOUT_MS }, async () => {
    const cdn = await serve(dist, { headers: { 'Access-Control-Allow-Origin': '*' } });
    const dir = mkdtempSync(join(tmpdir(), 'bertscope-xo-'));
    writeFileSync(
      join(dir, 'post.html'),
      `<!doctype html>\n<meta charset="utf-8">\n<link rel="icon" href="data:,">\n<title>Post</title>\n` +
        `<script type="module" src="${cdn.url}bert-attention.js"></script>\n<bert-attention view="head"></bert-attention>\n`,
    );
    // 127.0.0.1 and localhost are different origins.
    const blog = await serve(dir, { host: 'localhost' });
    const page2 = await session.newPage();
    try {
      assert.notEqual(new URL(blog.url).origin, new URL(cdn.url).origin);
      await page2.goto(`${blog.url}post.html`);
      await waitWidget(page2, 0);
      (await widgetCanvases(page2, 0)).forEach((canvas, s) => assertDrawn(canvas, `cross-origin, sentence ${s + 1}`));
      assert.match(page2.workers()[0]?.url() ?? '', /^blob:/);
      await assertClean(page2);
    } finally {
      await page2.close();
      await blog.close();
      await cdn.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('the CSP listener does see a violation (so its silence above means something)', async () => {
    const canary = await session.context.newPage(); // its refused style is expected, so not watched
    await canary.goto(`${session.url}fixtures/hostile.html`);
    await canary.evaluate(() => document.head.append(Object.assign(document.createElement('style'), { textContent: 'p { color: red }' })));
    await canary.waitForFunction(() => window.__violations.length > 0, null, { timeout: 10_000 });
    const { violations } = await pageRecords(canary);
    assert.match(violations[0], /^style-src-elem inline$/);
    await canary.close();
  });

  it('logged no console errors', async () => {
    await page?.close();
    session.assertNoProblems();
  });
});
