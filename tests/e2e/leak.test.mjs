// No leaks: 1,000 engine runs of mixed lengths must leave wasm linear memory where the warm-up
// left it. Drives tests/bench/engine.html (the engine on the page's main thread, the same calls
// the worker makes: run, copy the attention out, free the result).
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { engineBenchOptions, openEngineBench } from '../lib/session.mjs';
import { useSession } from './helpers.mjs';

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

const session = useSession(engineBenchOptions());

describe('engine memory', () => {
  it('plateaus over 1,000 runs of mixed lengths', { timeout: 600_000 }, async () => {
    const { page } = await openEngineBench(session);
    const warm = await page.evaluate((texts) => window.bench.soak(texts, texts.length * 3, texts.length * 3), TEXTS);
    const plateau = warm.at(-1).wasm_bytes;
    const samples = await page.evaluate((texts) => window.bench.soak(texts, 1000, 100), TEXTS);
    console.log(`# wasm memory after warm-up ${plateau} bytes; every 100 runs: ${samples.map((s) => s.wasm_bytes).join(', ')}`);
    console.log(`# JS heap every 100 runs: ${samples.map((s) => s.js_heap_bytes).join(', ')}`);
    const last = samples.at(-1).wasm_bytes;
    assert.ok(last - plateau <= MARGIN_BYTES, `wasm memory grew by ${last - plateau} bytes after the warm-up`);
    assert.equal(samples.at(-1).wasm_bytes, samples[4].wasm_bytes, 'wasm memory still grows in the second half of the soak');
    session.assertNoProblems();
  });
});
