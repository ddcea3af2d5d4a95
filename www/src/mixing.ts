/**
 * Small, pure reads of a run for the measure a view draws: raw attention (attention.ts) or the
 * engine's context-mixing buffers, as the matrices the views take. The mixing measures cover a
 * sentence's real tokens only; matrices here are laid out over the padded length like attention,
 * so every view keeps its rows, columns and hatched padding where they were.
 */
import { cropMatrix, describeHead, headMatrix, type HeadChoice } from './attention';
import type { AttentionShape, BatchRun, SentenceMixing } from './engine/protocol';
import { MEASURE_INFO, mixingNeed, serves, type Measure, type MixingNeed } from './measure';

/** One sentence's matrix of a measure at one layer (and head), as the views draw it. */
export interface MeasuredMatrix {
  /** The measure drawn: the one asked for, or `raw` when the run has no mixing measures. */
  measure: Measure;
  /** What is drawn, `n×n` over the padded length (row = query): weights, or each row's share; 0 on padding. */
  values: Float32Array;
  /** The engine's own numbers, `len×len` over the real tokens: weights, `N_ij`, or ALTI contributions. */
  exact: Float32Array;
  /** Real tokens of the sentence. */
  len: number;
  /** Padded length of the batch. */
  n: number;
  /** Which layer and heads, in words: "layer 6, mean of 12 heads", "up to layer 6". */
  where: string;
}

/** What the run's mixing measures cover: none, the norm-based ones, or those and ALTI. */
export function mixingMade(output: BatchRun): MixingNeed {
  if (!output.mixing) return 'none';
  return output.mixing.every((m) => m.alti.length > 0) ? 'alti' : 'norm';
}

/** Why `output` cannot show `measure`, or null when it can (raw attention always can). */
export function mixingProblem(output: BatchRun, measure: Measure): string | null {
  if (serves(mixingMade(output), mixingNeed(measure))) return null;
  return output.mixingError ?? 'it is being computed';
}

/** `measure`, or raw attention when the run does not have it. */
export function drawnMeasure(output: BatchRun, measure: Measure): Measure {
  return mixingProblem(output, measure) === null ? measure : 'raw';
}

/** Each row of a square `len×len` matrix divided by its sum (rows summing to 0 stay 0). */
export function rowShares(matrix: Float32Array, len: number): Float32Array {
  const out = new Float32Array(len * len);
  for (let i = 0; i < len; i++) {
    let total = 0;
    for (let j = 0; j < len; j++) total += matrix[i * len + j]!;
    if (total > 0) for (let j = 0; j < len; j++) out[i * len + j] = matrix[i * len + j]! / total;
  }
  return out;
}

/** A `len×len` matrix placed in the top-left of an `n×n` one (zeros elsewhere). */
export function padMatrix(matrix: Float32Array, len: number, n: number): Float32Array {
  if (len === n) return matrix;
  const out = new Float32Array(n * n);
  for (let r = 0; r < len; r++) out.set(matrix.subarray(r * len, (r + 1) * len), r * n);
  return out;
}

/** Slice `index` of `size` floats. */
function slab(buffer: Float32Array, index: number, size: number): Float32Array {
  return buffer.slice(index * size, (index + 1) * size);
}

/** `N^h_ij` of one layer for a head, or the per-cell maximum over its heads; or `N_ij` of all heads together. */
function normAt(m: SentenceMixing, heads: number, layer: number, head: HeadChoice): Float32Array {
  const size = m.tokens * m.tokens;
  if (typeof head === 'number') return slab(m.normHead, layer * heads + head, size);
  if (head === 'mean') return slab(m.normLayer, layer, size);
  const out = slab(m.normHead, layer * heads, size);
  for (let h = 1; h < heads; h++) {
    const start = (layer * heads + h) * size;
    for (let i = 0; i < size; i++) out[i] = Math.max(out[i]!, m.normHead[start + i]!);
  }
  return out;
}

/** Words for which layer and heads a measure's matrix covers. */
export function describeScope(measure: Measure, layer: number, head: HeadChoice, heads: number): string {
  if (measure === 'alti') return `layer ${layer + 1} as a whole (no per-head values)`;
  if (measure === 'alti-rollout') return `up to layer ${layer + 1}`;
  if (measure === 'norm' && head === 'mean') return `layer ${layer + 1}, all ${heads} heads together`;
  return describeHead(layer, head, heads);
}

/**
 * Sentence `index`'s matrix of `measure` at `layer` and `head` (heads count only for per-head
 * measures). Norm-based values are drawn as each row's share; a run without mixing measures gives
 * raw attention, and says so in `measure`.
 */
export function measuredMatrix(output: BatchRun, index: number, layer: number, head: HeadChoice, measure: Measure): MeasuredMatrix {
  const [, heads, n] = output.attentionShape;
  const len = output.batch.sentences[index]?.len ?? n;
  const m = output.mixing?.[index];
  const drawn = m ? measure : 'raw';
  const where = describeScope(drawn, layer, head, heads);
  if (!m || drawn === 'raw') {
    const values = headMatrix(output.attentions[index]!, output.attentionShape, layer, head);
    return { measure: 'raw', values, exact: cropMatrix(values, n, len), len, n, where };
  }
  const size = len * len;
  const exact = drawn === 'norm' ? normAt(m, heads, layer, head) : slab(drawn === 'alti' ? m.alti : m.altiRollout, layer, size);
  const shown = drawn === 'norm' ? rowShares(exact, len) : exact;
  return { measure: drawn, values: padMatrix(shown, len, n), exact, len, n, where };
}

/**
 * Per head, the `len×len` matrix the head view draws as line weights: attention, or each row's
 * share of `N^h_ij`. Measures without per-head values give one matrix, of the layer.
 */
export function headMatrices(output: BatchRun, index: number, layer: number, measure: Measure): Float32Array[] {
  const [, heads, n] = output.attentionShape;
  const len = output.batch.sentences[index]?.len ?? n;
  const drawn = drawnMeasure(output, measure);
  if (!MEASURE_INFO[drawn].perHead) return [measuredMatrix(output, index, layer, 'mean', drawn).exact];
  return Array.from({ length: heads }, (_, h) => {
    const { values } = measuredMatrix(output, index, layer, h, drawn);
    return cropMatrix(values, n, len);
  });
}

/**
 * What the model view paints for sentence `index`: a `[layers][cells][n][n]` buffer with its shape
 * (cells = heads, or 1 per layer for measures without per-head values) and its real length.
 */
export function gridSource(output: BatchRun, index: number, measure: Measure): { buffer: Float32Array; shape: AttentionShape; len: number } {
  const [layers, heads, n] = output.attentionShape;
  const len = output.batch.sentences[index]?.len ?? n;
  const m = output.mixing?.[index];
  const drawn = drawnMeasure(output, measure);
  if (!m || drawn === 'raw') return { buffer: output.attentions[index]!, shape: output.attentionShape, len };
  if (!MEASURE_INFO[drawn].perHead) return { buffer: drawn === 'alti' ? m.alti : m.altiRollout, shape: [layers, 1, len, len], len };
  const size = len * len;
  const buffer = new Float32Array(layers * heads * size);
  for (let c = 0; c < layers * heads; c++) buffer.set(rowShares(m.normHead.subarray(c * size, (c + 1) * size), len), c * size);
  return { buffer, shape: [layers, heads, len, len], len };
}
