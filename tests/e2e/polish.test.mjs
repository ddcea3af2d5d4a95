// End-to-end tests of the explorer's smaller promises (issue 16, item 7): the status says "ready"
// only once what the view shows is computed; the link carries the rollout slider, the heatmap zoom
// and the head chips, and Back steps through focus and view changes; a layer asked for by a link
// or kept from a smaller model is fitted and explained.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { join } from 'node:path';
import { dist, modelsDir, READY_TIMEOUT_MS, urlWith, useSession, waitReady } from './helpers.mjs';

const SENTENCES = ['Apple is huge enterprise', 'I am eating an apple'];
/** A 2-layer model (the page's default has 6), served under /other-models. */
const TINY = 'other-models/distilbert-tiny-random';

const session = useSession({ mounts: { '/other-models': modelsDir } });

/** The notices under the status. */
function notices(page) {
  return page.$$eval('[data-testid="notices"] li', (items) => items.map((li) => li.textContent));
}

/** The page at `params` (an object or entries), ready. */
function open(params) {
  return session.open(`?${new URLSearchParams(params)}`);
}

describe('the explorer’s smaller promises', { concurrency: false }, () => {
  it('the status is not "ready" while rollout is still being computed', { timeout: READY_TIMEOUT_MS }, async () => {
    const page = await open([...SENTENCES.map((s) => ['s', s]), ['focus', 'apple']]);
    // Every status the page shows, with what the rollout card says at that moment.
    await page.evaluate(() => {
      window.__seen = [];
      const status = document.querySelector('[data-testid="status"]');
      new MutationObserver(() => {
        window.__seen.push([status.textContent, document.querySelector('[data-testid="rollout-summary"]')?.textContent ?? null]);
      }).observe(status, { childList: true, characterData: true, subtree: true });
    });
    await page.click('[data-testid="tab-rollout"]');
    await waitReady(page);
    await page.waitForSelector('[data-testid="rollout-summary"]:not(:empty)');
    const seen = await page.evaluate(() => window.__seen);
    assert.ok(seen.some(([status]) => status === 'computing rollout…'), `the status never said rollout was computing: ${JSON.stringify(seen)}`);
    for (const [status, summary] of seen) assert.ok(!(status === 'ready' && summary === 'computing rollout…'), `"ready" while the card says ${summary}`);
    assert.notEqual(await page.textContent('[data-testid="rollout-summary"]'), 'computing rollout…');
    session.assertNoProblems();
    await page.close();
  });

  it('the link carries the rollout slider, the heatmap zoom and the head chips', { timeout: READY_TIMEOUT_MS }, async () => {
    const page = await open([...SENTENCES.map((s) => ['s', s]), ['focus', 'apple']]);
    // Zoom: either card's buttons zoom both (so their cells compare), and the link says so.
    await page.click('#focus-view article >> nth=0 >> [data-testid="zoom-in"]');
    await page.click('#focus-view article >> nth=1 >> [data-testid="zoom-in"]');
    assert.deepEqual(await page.$$eval('[data-testid="zoom-level"]', (e) => e.map((x) => x.textContent)), ['200%', '200%']);
    await urlWith(page, { zoom: '200' });
    await page.click('[data-testid="tab-rollout"]');
    await waitReady(page);
    await page.locator('[data-testid="rollout-layer"]').fill('2');
    await urlWith(page, { 'rollout-layer': '2' });
    await page.click('[data-testid="tab-head"]');
    await waitReady(page);
    await page.click('[data-testid="heads-none"]');
    await page.click('[data-testid="head-chip"][data-head="2"]');
    await page.click('[data-testid="head-chip"][data-head="7"]');
    const url = await urlWith(page, { heads: '3,8', view: 'head' });

    const again = await session.open(url.slice(session.url.length));
    const pressed = await again.$$eval('[data-testid="head-chip"]', (chips) => chips.map((c) => c.getAttribute('aria-pressed') === 'true'));
    assert.deepEqual(pressed, Array.from({ length: 12 }, (_, h) => h === 2 || h === 7), 'the head chips of the link');
    await again.click('[data-testid="tab-rollout"]');
    await waitReady(again);
    assert.equal(await again.inputValue('[data-testid="rollout-layer"]'), '2');
    assert.equal(await again.textContent('[data-testid="rollout-layer-value"]'), '2 of 6');
    await again.click('[data-testid="tab-focus"]');
    await waitReady(again);
    assert.deepEqual(await again.$$eval('[data-testid="zoom-level"]', (e) => e.map((x) => x.textContent)), ['200%', '200%']);
    // Choosing a head in the select shows that head alone again, and the link forgets the chips.
    await again.selectOption('[data-testid="head-select"]', '4');
    await urlWith(again, { heads: null, head: '5' });
    session.assertNoProblems();
    await again.close();
    await page.close();
  });

  it('Back steps through focus words and views, within the page', { timeout: READY_TIMEOUT_MS }, async () => {
    const page = await open([...SENTENCES.map((s) => ['s', s]), ['focus', 'apple']]);
    // The page writes its whole state into the address a moment after it settles (which a fast
    // start, the engine restored from this browser, reaches before the page says ready).
    await urlWith(page, { view: 'focus', focus: 'apple' });
    const first = page.url();
    await page.click('[data-testid="tab-head"]');
    await urlWith(page, { view: 'head' });
    await page.click('[data-testid="token-table"] table button[data-index="3"]');
    await urlWith(page, { view: 'head', focus: 'huge' });
    await page.click('[data-testid="tab-model"]');
    await urlWith(page, { view: 'model', focus: 'huge' });

    const selected = () => page.$eval('[role="tab"][aria-selected="true"]', (t) => t.dataset.view);
    await page.goBack();
    await urlWith(page, { view: 'head', focus: 'huge' });
    assert.equal(await selected(), 'head');
    await page.goBack();
    await urlWith(page, { view: 'head', focus: 'apple' });
    assert.equal(await page.inputValue('[data-testid="focus-input"]'), 'apple');
    await page.waitForFunction(() => document.querySelector('[data-testid="head-view"]')?.getAttribute('aria-label')?.includes('“apple” attends most to'));
    await page.goBack();
    await urlWith(page, { view: 'focus', focus: 'apple' });
    assert.equal(page.url(), first);
    assert.equal(await selected(), 'focus');
    await page.goForward();
    await urlWith(page, { view: 'head', focus: 'apple' });
    assert.equal(await selected(), 'head');
    await waitReady(page);
    session.assertNoProblems();
    await page.close();
  });

  it('a layer or head the link asks for and the model lacks is explained, and fitted', { timeout: READY_TIMEOUT_MS }, async () => {
    const page = await open([...SENTENCES.map((s) => ['s', s]), ['layer', '99'], ['head', '40']]);
    const said = await notices(page);
    assert.ok(said.some((n) => /^This view asks for layer 99, but .+ has layers 1–6: showing layer 6\.$/.test(n)), JSON.stringify(said));
    assert.ok(said.some((n) => /^This view asks for head 40, but .+ has heads 1–12: showing the mean of all heads\.$/.test(n)), JSON.stringify(said));
    assert.equal(await page.inputValue('[data-testid="layer-select"]'), '5');
    await urlWith(page, { layer: null, head: 'mean' });
    // Once another layer is chosen, the note has done its job.
    await page.selectOption('[data-testid="layer-select"]', '2');
    await urlWith(page, { layer: '3' });
    assert.deepEqual((await notices(page)).filter((n) => n.startsWith('This view asks')), []);
    session.assertNoProblems();
    await page.close();
  });

  it('after a 2-layer model, a 6-layer model opens on its own last layer', { timeout: READY_TIMEOUT_MS * 2 }, async () => {
    const page = await open([...SENTENCES.map((s) => ['s', s]), ['model', `/${TINY}/model_quantized.onnx`], ['tokenizer', `/${TINY}/tokenizer.json`], ['name', 'tiny']]);
    assert.equal(await page.inputValue('[data-testid="layer-select"]'), '1', 'the 2-layer model shows its last layer');
    await page.click('[data-testid="byo-summary"]');
    await page.setInputFiles('[data-testid="byo-model-file"]', join(dist, 'models', 'default', 'model.onnx'));
    await page.setInputFiles('[data-testid="byo-tokenizer-file"]', join(dist, 'models', 'default', 'tokenizer.json'));
    await page.locator('[data-testid="byo-message"][data-kind="ok"]').waitFor({ timeout: 120_000 });
    await waitReady(page);
    assert.match(await page.textContent('[data-testid="model-info"]'), /6 layers/);
    assert.equal(await page.inputValue('[data-testid="layer-select"]'), '5', 'the 6-layer model opened on layer 2 of 6');
    assert.match(await page.textContent('#focus-view [data-testid="focus-summary"] >> nth=0'), /→/);
    session.assertNoProblems();
    await page.close();
  });

  it('the focus strip’s chips are buttons that make their word the focus word', { timeout: READY_TIMEOUT_MS }, async () => {
    const page = await open([['s', 'The bank near the river bank flooded'], ['focus', 'river'], ['compare', 'off']]);
    const chips = page.locator('#focus-view [data-testid="focus-strip"] button.chip');
    assert.deepEqual(await chips.evaluateAll((b) => b.map((c) => c.querySelector('.chip-token').textContent)), ['[CLS]', 'the', 'bank', 'near', 'the', 'river', 'bank', 'flooded', '[SEP]']);
    await chips.nth(6).click();
    await urlWith(page, { focus: 'bank', nth: '2' });
    await page.waitForFunction(() => document.querySelector('#focus-view button.chip-focus')?.dataset.token === '6');
    // By keyboard too: Tab to a chip, Enter.
    await page.locator('#focus-view button.chip[data-token="3"]').focus();
    await page.keyboard.press('Enter');
    await urlWith(page, { focus: 'near', nth: null });
    session.assertNoProblems();
    await page.close();
  });

  it('the drift chart snaps the pointer to the nearest level; the token map writes labels only where they fit', { timeout: READY_TIMEOUT_MS }, async () => {
    const page = await open([...SENTENCES.map((s) => ['s', s]), ['focus', 'apple'], ['view', 'drift']]);
    await page.waitForSelector('[data-testid="drift-chart"][data-marks]');
    const marks = (await page.getAttribute('[data-testid="drift-chart"]', 'data-marks')).split(';').map((m) => m.split(',').map(Number));
    const cells = await page.$$eval('[data-testid="drift-table"] tbody tr td', (tds) => tds.map((td) => td.textContent));
    assert.equal(marks.length, cells.length, 'one point per table cell');
    const gap = marks[1][0] - marks[0][0];
    await page.locator('[data-testid="drift-chart"]').scrollIntoViewIfNeeded();
    const box = await page.locator('[data-testid="drift-chart"]').boundingBox();
    for (const level of [0, 3, marks.length - 1]) {
      const [x, y] = marks[level];
      // Well away from the point (a third of the way to the next level, 25 px below): still that point.
      await page.mouse.move(box.x + x + (level === marks.length - 1 ? -1 : 1) * gap / 3, box.y + y + 25);
      const text = await page.textContent('[data-testid="drift-readout"]');
      assert.ok(text.startsWith(`${cells[level]} · cosine of “apple”`), `level ${level + 1}: the read-out says ${text}`);
    }

    // The token map: no label over another; with 13 tokens most are written.
    const labels = async () => {
      const text = await page.getAttribute('[data-testid="token-map"]', 'data-labels');
      return text ? text.split(';').map((b) => b.split(',').map(Number)) : [];
    };
    const assertApart = (boxes, what) => {
      for (let i = 0; i < boxes.length; i++) {
        for (let j = i + 1; j < boxes.length; j++) {
          const [, ax, ay, aw, ah] = boxes[i];
          const [, bx, by, bw, bh] = boxes[j];
          assert.ok(!(ax < bx + bw && bx < ax + aw && ay < by + bh && by < ay + ah), `${what}: labels of points ${boxes[i][0]} and ${boxes[j][0]} overlap`);
        }
      }
    };
    const few = await labels();
    assertApart(few, '13 tokens');
    assert.ok(few.length >= 11, `only ${few.length} of 13 labels written`);
    const focus = await page.$eval('[data-testid="token-map"]', (c) => c.getAttribute('aria-label'));
    assert.match(focus, /^Token map: /);

    // Four long sentences (hundreds of tokens): labels where they fit, and the summary says so.
    const long = Array.from({ length: 4 }, (_, i) => Array.from({ length: 22 }, (_, k) => `word${i}x${k} runs quickly`).join(' '));
    await page.goto(`${session.url}?${new URLSearchParams([...long.map((s) => ['s', s]), ['focus', 'runs'], ['view', 'drift']])}`);
    await waitReady(page);
    await page.waitForSelector('[data-testid="token-map"][data-labels]');
    const many = await labels();
    const points = (await page.getAttribute('[data-testid="token-map"]', 'data-marks')).split(';').length;
    assert.ok(points > 300, `${points} tokens`);
    assertApart(many, `${points} tokens`);
    assert.ok(many.length > 10 && many.length < points, `${many.length} of ${points} labels written`);
    assert.match(await page.textContent('[data-testid="tokenmap-summary"]'), new RegExp(`Labels are written where they fit \\(${many.length} of ${points}\\)`));
    session.assertNoProblems();
    await page.close();
  });
});
