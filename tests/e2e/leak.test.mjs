// No leaks: 1,000 engine runs of mixed lengths must leave wasm linear memory where the warm-up
// left it. Drives tests/bench/engine.html (the engine on the page's main thread, the same calls
// the worker makes: run, copy the attention out, free the result).
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { closePage, repoRoot, startPage } from './helpers.mjs';

const models = process.env.BERTSCOPE_MODELS || join(repoRoot, '..', 'shared', 'models');
const WORDS = ['the', 'bank', 'raised', 'its', 'interest', 'rates', 'and', 'we', 'ate', 'an', 'apple'];
const textOf = (tokens) => Array.from({ length: tokens - 2 }, (_, i) => WORDS[i % WORDS.length]).join(' ');
/** Mixed lengths, the longest included, so the warm-up meets every buffer size the soak will. */
const TEXTS = [7, 32, 7, 128, 16, 256, 7, 64].map(textOf);
/**
 * Growth allowed after the warm-up. wasm memory grows in 64 KiB pages and never shrinks, so a leak
 * shows as steady growth: even 1 KiB kept per run is 1 MB over 1,000 runs. One allocator growth step
 * for fragmentation (the 256-token attention buffer alone is 18.9 MB) is not a leak, so the margin is
 * one such buffer's worth, and the curve must also be flat over the last half of the soak.
 */
const MARGIN_BYTES = 20 * 1024 * 1024;

let session;
before(async () => {
  session = await startPage({
    mounts: { '/pkg': join(repoRoot, 'www', 'pkg'), '/bench': join(repoRoot, 'tests', 'bench'), '/models': models },
  });
});
after(() => closePage(session));

describe('engine memory', () => {
  it('plateaus over 1,000 runs of mixed lengths', { timeout: 600_000 }, async () => {
    const page = await session.context.newPage();
    await page.goto(`${session.server.url}bench/engine.html`);
    await page.waitForFunction(() => window.bench, null, { timeout: 60_000 });
    await page.evaluate(
      (files) => window.bench.load(files),
      { model: '/models/minilm-l6/model_weights_int8.onnx', tokenizer: '/models/minilm-l6/tokenizer.json' },
    );
    const warm = await page.evaluate((texts) => window.bench.soak(texts, texts.length * 3, texts.length * 3), TEXTS);
    const plateau = warm.at(-1).wasm_bytes;
    const samples = await page.evaluate((texts) => window.bench.soak(texts, 1000, 100), TEXTS);
    console.log(`# wasm memory after warm-up ${plateau} bytes; every 100 runs: ${samples.map((s) => s.wasm_bytes).join(', ')}`);
    console.log(`# JS heap every 100 runs: ${samples.map((s) => s.js_heap_bytes).join(', ')}`);
    const last = samples.at(-1).wasm_bytes;
    assert.ok(last - plateau <= MARGIN_BYTES, `wasm memory grew by ${last - plateau} bytes after the warm-up`);
    assert.equal(samples.at(-1).wasm_bytes, samples[4].wasm_bytes, 'wasm memory still grows in the second half of the soak');
  });
});
