// End to end: "Use your own model" with an fp32 file. The page loads it as it is and offers to make
// it about 4× smaller; accepted (by keyboard), the worker quantizes it with a progress bar, shows
// the sizes and the largest attention change, and the smaller copy becomes the model shown. Every
// number shown is checked against what it claims: the real file's size, the int8 copy kept in the
// Cache API, and the attention the page exports before and after (the "before" also against the
// onnxruntime reference of the fp32 file). After a reload, dropping the same file loads the kept
// copy at once, without quantizing. Then: an already-quantized file, a file changed on disk after
// it was loaded, and the panel at 390 px wide and in dark mode.
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { copyFileSync, mkdtempSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { artifacts, modelsDir, useSession, waitReady } from './helpers.mjs';

const session = useSession();

const FOLDER = join(modelsDir, 'distilbert-tiny-random');
const FP32 = join(FOLDER, 'model.onnx');
const TOKENIZER = join(FOLDER, 'tokenizer.json');
const DYNAMIC_INT8 = join(FOLDER, 'model_quantized.onnx');
const REFERENCE = join(modelsDir, 'references', 'distilbert-tiny-random.fp32.ort.json');
/** What the shared models README and the wasm tests hold tract to against onnxruntime on fp32 files. */
const FP32_TOL = 1e-5;
/** The quantized tiny DistilBERT against its fp32 file, as measured natively (bertscope-testkit, QUANTIZED_TINY_VS_FP32). */
const QUANTIZED_TOL = 4e-4;

const RESULT = '[data-testid="quantize-result"]';
const MODEL_INFO = '[data-testid="model-info"]';

/** Opens "Use your own model" (a reload may have opened it already) and drops `model` with the tiny tokenizer. */
async function dropFiles(page, model) {
  if (!(await page.isVisible('[data-testid="byo-model-file"]'))) await page.click('[data-testid="byo-summary"]');
  await page.setInputFiles('[data-testid="byo-tokenizer-file"]', TOKENIZER);
  await page.setInputFiles('[data-testid="byo-model-file"]', model);
}

/** Records, in the page, every state the quantize progress bar shows: `[stage, value, max]`. */
function watchProgress(page) {
  return page.evaluate(() => {
    const box = document.querySelector('[data-testid="quantize-progress"]');
    const bar = box.querySelector('progress');
    window.progressSeen = [];
    new MutationObserver(() => {
      if (!box.hidden) window.progressSeen.push([box.dataset.stage ?? '', bar.value, bar.max]);
    }).observe(box, { attributes: true, subtree: true });
  });
}

/** Clicks `testId` and returns the download's text. */
async function downloadText(page, testId) {
  const [download] = await Promise.all([page.waitForEvent('download'), page.click(`[data-testid="${testId}"]`)]);
  return readFileSync(await download.path(), 'utf8');
}

/**
 * Every attention weight the page shows for the real tokens, through its JSON export of the focus
 * view (both sentences) for each layer and head: Map `sentence,layer,head,query,key` (all from 0) → weight.
 */
async function exportedAttention(page, layers, heads) {
  const weights = new Map();
  for (let layer = 0; layer < layers; layer++) {
    for (let head = 0; head < heads; head++) {
      await page.selectOption('[data-testid="layer-select"]', String(layer));
      await page.selectOption('[data-testid="head-select"]', String(head));
      const { records } = JSON.parse(await downloadText(page, 'export-json'));
      assert.ok(records.length > 0, `layer ${layer + 1}, head ${head + 1} exported nothing`);
      for (const r of records) weights.set([r.sentence - 1, layer, head, r.query - 1, r.key - 1].join(), r.weight);
    }
  }
  return weights;
}

/** The first number of `text` after `label`. */
function numberAfter(text, label) {
  const match = text.match(new RegExp(`${label}[^0-9]*([0-9.]+(?:e[-+]?[0-9]+)?)`));
  assert.ok(match, `no number after “${label}” in: ${text}`);
  return Number(match[1]);
}

describe('making a dropped fp32 model about 4× smaller', { concurrency: false }, () => {
  let page;
  let before;
  const inputBytes = statSync(FP32).size;
  const sha = createHash('sha256').update(readFileSync(FP32)).digest('hex');

  it('loads the fp32 file as it is and offers to make it smaller', { timeout: 240_000 }, async () => {
    page = await session.open();
    await page.evaluate(() => caches.delete('bertscope-quantized-v1'));
    await dropFiles(page, FP32);
    await page.locator('[data-testid="byo-message"][data-kind="ok"]').waitFor({ timeout: 120_000 });
    await waitReady(page);
    const mb = (inputBytes / 1e6).toFixed(1);
    assert.equal(await page.textContent(MODEL_INFO), `Model: model.onnx (your file) · 2 layers × 4 heads · fp32 · ${mb} MB · 1 thread`);
    assert.ok(await page.isVisible('[data-testid="quantize-accept"]'), 'the offer is shown');
    assert.equal(await page.textContent('[data-testid="quantize-accept"]'), 'Make it about 4× smaller, faithful');
    assert.match(await page.textContent('.quantize-pitch'), new RegExp(`^model\\.onnx stores each weight as a 32-bit number \\(${mb} MB\\)\\. .*8 bits`));
  });

  it('shows the fp32 file’s attention: onnxruntime’s for the same file', { timeout: 120_000 }, async () => {
    before = await exportedAttention(page, 2, 4);
    const reference = JSON.parse(readFileSync(REFERENCE, 'utf8')).batch.attentions;
    let worst = 0;
    for (const [key, weight] of before) {
      const [s, l, h, q, k] = key.split(',').map(Number);
      worst = Math.max(worst, Math.abs(weight - reference[s][l][h][q][k]));
    }
    console.log(`  fp32 in the page vs onnxruntime: ${before.size} weights, max abs diff ${worst.toExponential(2)}`);
    assert.equal(before.size, 2 * 4 * (6 * 6 + 7 * 7), 'every real-token weight of both sentences');
    assert.ok(worst < FP32_TOL, `max diff ${worst}`);
  });

  it('quantizes in the worker with a moving progress bar, started from the keyboard', { timeout: 240_000 }, async () => {
    await watchProgress(page);
    await page.focus('[data-testid="quantize-accept"]');
    await page.keyboard.press('Enter');
    await page.locator(`${RESULT}[data-state="done"]`).waitFor({ timeout: 200_000 });
    await waitReady(page);
    const seen = await page.evaluate(() => window.progressSeen);
    const quantizing = seen.filter(([stage]) => stage === 'quantizing');
    console.log(`  progress seen: ${seen.map(([s, v, m]) => `${s} ${v}/${m}`).join(', ')}`);
    assert.deepEqual([...new Set(seen.map(([stage]) => stage))], ['measuring', 'reading', 'quantizing', 'loading', 'checking']);
    assert.deepEqual(
      quantizing.map(([, value]) => value),
      Array.from({ length: 15 }, (_, i) => i),
      'one step per weight matrix, 0 to 14',
    );
    assert.ok(quantizing.every(([, , max]) => max === 14));
    assert.equal(await page.evaluate(() => document.activeElement?.dataset.testid), 'quantize-result', 'focus moves to the outcome');
  });

  it('shows the size of the real files and the attention change the page measured', { timeout: 120_000 }, async () => {
    const text = await page.textContent(RESULT);
    console.log(`  the page said: ${text}`);
    // The int8 copy is the one kept in the Cache API under the file's SHA-256.
    const kept = await page.evaluate(async (key) => {
      const cache = await caches.open('bertscope-quantized-v1');
      const model = await cache.match(`${location.origin}/bertscope-quantized/${key}.onnx`);
      const record = await cache.match(`${location.origin}/bertscope-quantized/${key}.json`);
      return model && record ? { bytes: (await model.arrayBuffer()).byteLength, record: await record.json() } : null;
    }, sha);
    assert.ok(kept, 'the int8 copy and its record are in the cache under the file’s SHA-256');
    const share = ((100 * kept.bytes) / inputBytes).toFixed(1);
    const ratio = (inputBytes / kept.bytes).toFixed(2);
    assert.ok(
      text.startsWith(`model.onnx is now smaller: ${(inputBytes / 1e6).toFixed(1)} MB → ${(kept.bytes / 1e6).toFixed(1)} MB (${share}% of the original, ${ratio}× smaller): 14 weight matrices stored in 8 bits.`),
      text,
    );
    assert.equal(kept.record.report.output_bytes, kept.bytes);
    assert.equal(kept.record.report.input_bytes, inputBytes);
    assert.ok(text.includes('Kept in this browser: dropping model.onnx again loads the smaller copy at once, without quantizing.'));

    // The largest change shown = the largest difference between what the page showed before and after.
    const after = await exportedAttention(page, 2, 4);
    let max = 0;
    let at = '';
    for (const [key, weight] of before) {
      const d = Math.abs(weight - after.get(key));
      if (d > max) [max, at] = [d, key];
    }
    const [s, l, h] = at.split(',').map(Number);
    const shown = numberAfter(text, 'Largest attention change on your 2 sentences:');
    console.log(`  largest change: shown ${shown}, from the exports ${max.toExponential(4)} at sentence ${s + 1}, layer ${l + 1}, head ${h + 1}`);
    assert.ok(Math.abs(shown - max) <= 0.006 * max, `shown ${shown}, exported attention differs by up to ${max}`);
    assert.ok(text.includes(`(sentence ${s + 1}, layer ${l + 1}, head ${h + 1}, where “`), text);
    assert.ok(max > 0 && max < QUANTIZED_TOL, `the int8 copy moved attention by ${max}`);
    assert.ok(numberAfter(text, 'On average:') < max);
  });

  it('runs the smaller copy as the model shown', async () => {
    const mb = (statSync(FP32).size / 1e6).toFixed(1);
    const info = await page.textContent(MODEL_INFO);
    assert.match(info, /^Model: model\.onnx \(your file, quantized in this browser\) · 2 layers × 4 heads · weight-only int8 \(per-channel\) · \d+\.\d MB · 1 thread$/);
    assert.notEqual(info.match(/([\d.]+) MB · 1 thread$/)[1], mb);
    assert.equal(await page.textContent('[data-testid="byo-message"]'), 'Loaded the smaller copy of model.onnx: 2 layers × 4 heads, weight-only int8 (per-channel).');
  });

  it('after a reload, the same file loads the kept copy at once, without quantizing', { timeout: 240_000 }, async () => {
    const infoBefore = await page.textContent(MODEL_INFO);
    await page.reload();
    await waitReady(page);
    await watchProgress(page);
    await dropFiles(page, FP32);
    await page.locator(`${RESULT}[data-state="reused"]`).waitFor({ timeout: 120_000 });
    await waitReady(page);
    const text = await page.textContent(RESULT);
    console.log(`  the page said: ${text}`);
    assert.match(text, /^Reused the smaller copy of model\.onnx made in this browser on .+ \(kept in its cache\): it was not quantized again\. /);
    const stages = new Set((await page.evaluate(() => window.progressSeen)).map(([stage]) => stage));
    assert.deepEqual([...stages], ['reading'], 'only read and fingerprinted: not run, not quantized');
    assert.equal(await page.textContent(MODEL_INFO), infoBefore);
    assert.ok(!(await page.isVisible('[data-testid="quantize-accept"]')), 'no offer for the smaller copy');
    assert.ok(await page.isVisible('[data-testid="use-original"]'));
  });

  it('can still use the original file instead', { timeout: 240_000 }, async () => {
    await page.click('[data-testid="use-original"]');
    await page.locator('[data-testid="quantize-accept"]').waitFor({ timeout: 120_000 });
    await waitReady(page);
    assert.match(await page.textContent(MODEL_INFO), /^Model: model\.onnx \(your file\) · 2 layers × 4 heads · fp32 · /);
  });

  it('an already-quantized file is used as it is, and says what it is', { timeout: 240_000 }, async () => {
    await dropFiles(page, DYNAMIC_INT8);
    await page.locator('[data-testid="byo-message"][data-kind="ok"]').waitFor({ timeout: 120_000 });
    await waitReady(page);
    assert.equal(
      await page.textContent('[data-testid="byo-message"]'),
      'Loaded model_quantized.onnx: 2 layers × 4 heads, dynamic int8 (QUInt8). It is already quantized (dynamic int8 (QUInt8)), so there is nothing to make smaller: it is used as it is.',
    );
    assert.ok(!(await page.isVisible('[data-testid="quantize"]')), 'no offer');
  });

  it('a file changed on disk after loading is not quantized, and the original stays', { timeout: 240_000 }, async () => {
    const copy = join(mkdtempSync(join(tmpdir(), 'bertscope-')), 'model.onnx');
    copyFileSync(FP32, copy);
    await dropFiles(page, copy);
    await page.locator(`${RESULT}[data-state="reused"]`).waitFor({ timeout: 120_000 });
    await page.click('[data-testid="use-original"]');
    await page.locator('[data-testid="quantize-accept"]').waitFor({ timeout: 120_000 });
    await waitReady(page);
    // The same bytes written again: a File is a snapshot, and this one is now out of date.
    await new Promise((resolve) => setTimeout(resolve, 1100));
    writeFileSync(copy, readFileSync(FP32));
    await page.click('[data-testid="quantize-accept"]');
    await page.locator(`${RESULT}[data-state="error"]`).waitFor({ timeout: 120_000 });
    assert.equal(
      await page.textContent(RESULT),
      'model.onnx was not made smaller: model.onnx changed on disk since it was loaded; drop it again. The original file is still the model shown.',
    );
    await waitReady(page);
    assert.match(await page.textContent(MODEL_INFO), /^Model: model\.onnx \(your file\) · 2 layers × 4 heads · fp32 · /);
  });

  it('reads well at 390 px wide and in dark mode', { timeout: 240_000 }, async () => {
    await dropFiles(page, FP32);
    await page.locator('[data-testid="quantize-result"][data-state="reused"]').waitFor({ timeout: 120_000 });
    await waitReady(page);
    await page.setViewportSize({ width: 390, height: 844 });
    await page.emulateMedia({ colorScheme: 'dark' });
    const panel = page.locator('[data-testid="quantize"]');
    const box = await panel.boundingBox();
    assert.ok(box.x >= 0 && box.x + box.width <= 390, `the panel fits the screen: ${JSON.stringify(box)}`);
    const wide = await page.$$eval('#byo-model *', (elements) =>
      elements.filter((e) => e.getClientRects().length > 0 && e.getBoundingClientRect().right > 390).map((e) => e.outerHTML.slice(0, 80)),
    );
    assert.deepEqual(wide, [], 'nothing of “Use your own model” runs past the screen');
    await panel.screenshot({ path: join(artifacts, 'quantize-reused-390-dark.png') });
    await page.click('[data-testid="use-original"]');
    await page.locator('[data-testid="quantize-accept"]').waitFor({ timeout: 120_000 });
    await panel.screenshot({ path: join(artifacts, 'quantize-offer-390-dark.png') });
    await page.emulateMedia({ colorScheme: 'light' });
    await panel.screenshot({ path: join(artifacts, 'quantize-offer-390-light.png') });
  });

  it('logged no errors', () => session.assertNoProblems());
});
