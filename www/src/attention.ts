/** Small, pure reads of attention buffers: one head's matrix, the top targets, text alternatives. */
import type { AttentionShape, Encoding, Word } from './engine/protocol';
import { wordRow } from './words';

/** A head index, or the mean or maximum over all heads of a layer. */
export type HeadChoice = number | 'mean' | 'max';

/** One attended token: its position, text and weight. */
export interface Target {
  index: number;
  token: string;
  weight: number;
}

/** Layer `layer`'s `n×n` attention (row = query, column = key) for one head, or the mean or max of all. */
export function headMatrix(attention: Float32Array, shape: AttentionShape, layer: number, head: HeadChoice): Float32Array {
  const [layers, heads, n, m] = shape;
  if (layer < 0 || layer >= layers) throw new RangeError(`layer ${layer} is outside 0..${layers - 1}`);
  const size = n * m;
  const layerStart = layer * heads * size;
  if (typeof head === 'number') {
    if (head < 0 || head >= heads) throw new RangeError(`head ${head} is outside 0..${heads - 1}`);
    return attention.slice(layerStart + head * size, layerStart + (head + 1) * size);
  }
  const out = attention.slice(layerStart, layerStart + size);
  for (let h = 1; h < heads; h++) {
    const start = layerStart + h * size;
    if (head === 'mean') for (let i = 0; i < size; i++) out[i]! += attention[start + i]!;
    else for (let i = 0; i < size; i++) out[i] = Math.max(out[i]!, attention[start + i]!);
  }
  if (head === 'mean') for (let i = 0; i < size; i++) out[i]! /= heads;
  return out;
}

/** The top-left `len×len` block of a square row-major `n×n` matrix (the real tokens, padding dropped). */
export function cropMatrix(matrix: Float32Array, n: number, len: number): Float32Array {
  if (len >= n) return matrix;
  const out = new Float32Array(len * len);
  for (let r = 0; r < len; r++) out.set(matrix.subarray(r * n, r * n + len), r * len);
  return out;
}

/** Row `row` of a square row-major matrix. */
export function matrixRow(matrix: Float32Array, n: number, row: number): Float32Array {
  return matrix.subarray(row * n, (row + 1) * n);
}

/** Whether the sentence has no words (empty or only spaces). */
export function isBlank(sentence: Encoding): boolean {
  return sentence.text.trim() === '';
}

/**
 * The `k` heaviest words of `row` (a query row over tokens), heaviest first: each word weighs the
 * sum over its pieces (`Encoding::words`); special tokens, padding and the word `exclude` left out.
 * A target's `index` is the word's first piece.
 */
export function topTargets(row: Float32Array, sentence: Encoding, k: number, exclude: Word | null = null): Target[] {
  const targets: Target[] = [];
  for (const word of sentence.words) {
    if (exclude !== null && word.start === exclude.start) continue;
    let weight = 0;
    for (let i = word.start; i < word.end; i++) weight += row[i] ?? 0;
    targets.push({ index: word.start, token: word.text, weight });
  }
  return targets.sort((a, b) => b.weight - a.weight).slice(0, k);
}

/** Total attention each key position receives from the real query positions. */
export function receivedAttention(matrix: Float32Array, sentence: Encoding): Float32Array {
  const n = sentence.input_ids.length;
  const received = new Float32Array(n);
  for (let q = 0; q < n; q++) {
    if (sentence.attention_mask[q] !== 1) continue;
    for (let k = 0; k < n; k++) received[k]! += matrix[q * n + k]!;
  }
  return received;
}

/** Largest value of `matrix` over cells whose row and column are both real (unpadded). */
export function maxUnmasked(matrix: Float32Array, sentence: Encoding): number {
  const n = sentence.input_ids.length;
  let max = 0;
  for (let q = 0; q < n; q++) {
    if (sentence.attention_mask[q] !== 1) continue;
    for (let k = 0; k < n; k++) {
      if (sentence.attention_mask[k] === 1) max = Math.max(max, matrix[q * n + k]!);
    }
  }
  return max;
}

/** "layer 2, head 5", "layer 2, mean of 12 heads" or "layer 2, max of 12 heads" (1-based, as people count). */
export function describeHead(layer: number, head: HeadChoice, heads: number): string {
  if (typeof head === 'number') return `layer ${layer + 1}, head ${head + 1}`;
  return `layer ${layer + 1}, ${head} of ${heads} heads`;
}

/** "enterprise (0.31), is (0.12)". */
export function listTargets(targets: readonly Target[]): string {
  return targets.map((t) => `${t.token} (${t.weight.toFixed(2)})`).join(', ');
}

/**
 * The text alternative of a view of one sentence's `n×n` matrix: what the focus word (`focus`, see
 * ../words) attends to most, or, without one, which words receive the most attention on average.
 */
export function describeAttention(matrix: Float32Array, sentence: Encoding, focus: Word | null, k: number): string {
  const n = sentence.input_ids.length;
  if (focus) {
    const top = topTargets(wordRow(matrix, n, focus), sentence, k, focus);
    return top.length ? `“${focus.text}” attends most to ${listTargets(top)}.` : `“${focus.text}” attends only to special tokens.`;
  }
  const received = receivedAttention(matrix, sentence).map((v) => v / Math.max(1, sentence.len));
  const top = topTargets(received, sentence, k);
  return top.length ? `Words receiving the most attention on average: ${listTargets(top)}.` : '';
}
