/** Small, pure reads of attention buffers: one head's matrix, the focus token, the top targets. */
import type { AttentionShape, Sentence } from './engine/protocol';

/** A head index, or the mean over all heads of a layer. */
export type HeadChoice = number | 'mean';

/** One attended token: its position, text and weight. */
export interface Target {
  index: number;
  token: string;
  weight: number;
}

/** Layer `layer`'s `n×n` attention (row = query, column = key) for one head or the mean of all. */
export function headMatrix(attention: Float32Array, shape: AttentionShape, layer: number, head: HeadChoice): Float32Array {
  const [layers, heads, n, m] = shape;
  if (layer < 0 || layer >= layers) throw new RangeError(`layer ${layer} is outside 0..${layers - 1}`);
  const size = n * m;
  const layerStart = layer * heads * size;
  if (head !== 'mean') {
    if (head < 0 || head >= heads) throw new RangeError(`head ${head} is outside 0..${heads - 1}`);
    return attention.slice(layerStart + head * size, layerStart + (head + 1) * size);
  }
  const mean = new Float32Array(size);
  for (let h = 0; h < heads; h++) {
    const start = layerStart + h * size;
    for (let i = 0; i < size; i++) mean[i]! += attention[start + i]!;
  }
  for (let i = 0; i < size; i++) mean[i]! /= heads;
  return mean;
}

/** Row `row` of a square row-major matrix. */
export function matrixRow(matrix: Float32Array, n: number, row: number): Float32Array {
  return matrix.subarray(row * n, (row + 1) * n);
}

/** Position of the first non-special token equal to `word` (ignoring case), or -1. */
export function findFocus(sentence: Sentence, word: string): number {
  const wanted = word.trim().toLowerCase();
  if (!wanted) return -1;
  return sentence.tokens.findIndex((t, i) => !sentence.special[i] && t.toLowerCase() === wanted);
}

/** Whether position `i` is a real, non-special token (not [CLS], [SEP] or padding). */
export function isContent(sentence: Sentence, i: number): boolean {
  return sentence.attention_mask[i] === 1 && !sentence.special[i];
}

/** The `k` heaviest weights of `row` on real non-special tokens other than `exclude`, heaviest first. */
export function topTargets(row: Float32Array, sentence: Sentence, k: number, exclude = -1): Target[] {
  const targets: Target[] = [];
  for (let i = 0; i < row.length; i++) {
    if (i !== exclude && isContent(sentence, i)) {
      targets.push({ index: i, token: sentence.tokens[i] ?? '', weight: row[i] ?? 0 });
    }
  }
  return targets.sort((a, b) => b.weight - a.weight).slice(0, k);
}

/** Total attention each key position receives from the real query positions. */
export function receivedAttention(matrix: Float32Array, sentence: Sentence): Float32Array {
  const n = sentence.input_ids.length;
  const received = new Float32Array(n);
  for (let q = 0; q < n; q++) {
    if (sentence.attention_mask[q] !== 1) continue;
    for (let k = 0; k < n; k++) received[k]! += matrix[q * n + k]!;
  }
  return received;
}

/** Largest value of `matrix` over cells whose row and column are both real (unpadded). */
export function maxUnmasked(matrix: Float32Array, sentence: Sentence): number {
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
