// Shared by the benchmark's Node side and its browser pages (plain ES module, no imports).

/** Words that are one word piece each in the BERT uncased vocabulary (same list as `bertscope bench`). */
const WORDS = ['the', 'bank', 'raised', 'its', 'interest', 'rates', 'and', 'we', 'ate', 'an', 'apple'];

/** A sentence of `n - 2` words: `n` tokens with `[CLS]`/`[SEP]` (the ids are checked, not assumed). */
export const textOfTokens = (n) => Array.from({ length: Math.max(0, n - 2) }, (_, i) => WORDS[i % WORDS.length]).join(' ');

/** Median and 90th percentile (nearest rank) of a list of times; nulls when empty. */
export function summarize(times) {
  if (!times?.length) return { median_ms: null, p90_ms: null, runs: 0 };
  const sorted = [...times].sort((a, b) => a - b);
  const at = (p) => sorted[Math.min(sorted.length - 1, Math.floor(sorted.length * p))];
  return { median_ms: at(0.5), p90_ms: at(0.9), runs: sorted.length };
}

/** Running max / mean of absolute differences, fed one flat buffer and one nested reference at a time. */
export class AbsDiff {
  constructor() {
    this.max = 0;
    this.sum = 0;
    this.count = 0;
  }

  /** Compares a flat row-major buffer with a nested array of the same shape. */
  add(flat, nested) {
    const ref = nested.flat(Infinity);
    if (ref.length !== flat.length) throw new Error(`shape mismatch: ${flat.length} values vs ${ref.length} in the reference`);
    for (let i = 0; i < ref.length; i++) {
      const d = Math.abs(flat[i] - ref[i]);
      if (!(d <= this.max)) this.max = Number.isNaN(d) ? Infinity : d;
      this.sum += d;
    }
    this.count += ref.length;
    return this;
  }

  result() {
    return { max: this.count ? this.max : null, mean: this.count ? this.sum / this.count : null, values: this.count };
  }
}

/** The reference sentences that carry full attentions (the short public ones). */
export const fullSentences = (reference) => reference.sentences.filter((s) => Array.isArray(s.attentions));

/** Largest byteLength over a set of WebAssembly.Memory objects (0 when none). */
export const largestMemory = (memories) => Math.max(0, ...[...memories].map((m) => m.buffer.byteLength));

/** `runs` timed calls of `once(input)` (ms each) after at least `warmup` untimed ones lasting at least `warmupMs` in all. */
export function timeCalls(once, input, runs, warmup = 1, warmupMs = 0) {
  const until = performance.now() + warmupMs;
  for (let i = 0; i < warmup || performance.now() < until; i++) once(input);
  const times = [];
  for (let i = 0; i < runs; i++) {
    const start = performance.now();
    once(input);
    times.push(performance.now() - start);
  }
  return times;
}
