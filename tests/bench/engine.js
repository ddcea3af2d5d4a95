// Times the wasm engine in the browser: load + optimise, then each length's median and p90.
// Parameters come from the query string: model, tokenizer, lengths, runs.
import init, { Explorer } from '/pkg/bertscope_wasm.js';

const WORDS = ['the', 'bank', 'raised', 'its', 'interest', 'rates', 'and', 'we', 'ate', 'an', 'apple'];
const textOfTokens = (n) => Array.from({ length: Math.max(0, n - 2) }, (_, i) => WORDS[i % WORDS.length]).join(' ');
const percentile = (sorted, p) => sorted[Math.min(sorted.length - 1, Math.floor(sorted.length * p))];

async function main() {
  const params = new URLSearchParams(location.search);
  const lengths = (params.get('lengths') ?? '7,32,128,512').split(',').map(Number);
  const runs = Number(params.get('runs') ?? 20);
  const [model, tokenizer] = await Promise.all(
    [params.get('model'), params.get('tokenizer')].map(async (url) => new Uint8Array(await (await fetch(url)).arrayBuffer())),
  );
  let t = performance.now();
  await init({ module_or_path: '/pkg/bertscope_wasm_bg.wasm' });
  const compileMs = performance.now() - t;
  t = performance.now();
  const explorer = new Explorer(model, tokenizer, false);
  const loadMs = performance.now() - t;
  const result = { compile_ms: compileMs, load_ms: loadMs, lengths: {} };
  for (const n of lengths) {
    const text = textOfTokens(n);
    explorer.run([text]).free();
    const times = [];
    for (let i = 0; i < runs; i++) {
      const start = performance.now();
      explorer.run([text]).free();
      times.push(performance.now() - start);
    }
    times.sort((a, b) => a - b);
    result.lengths[n] = { median_ms: percentile(times, 0.5), p90_ms: percentile(times, 0.9) };
  }
  window.benchResult = result;
}

main().catch((e) => { window.benchResult = { error: String(e?.message ?? e) }; });
