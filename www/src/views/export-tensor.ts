/**
 * The numbers behind the head view, the model view and the whole run, as `[layer][head][q][k]`
 * tensors over a sentence's real tokens: the measure drawn (raw attention, or each row's share
 * of a mixing measure; one "head" per layer for measures without per-head values), the special
 * tokens' columns dropped and each row renormalised when they are hidden (../specials).
 */
import type { AttentionShape, BatchRun } from '../engine/protocol';
import { MEASURE_INFO, type Measure } from '../measure';
import { drawnMeasure, gridSource, headMatrices, measuredMatrix } from '../mixing';
import { isSpecial, withoutSpecials } from '../specials';
import type { NumberTable } from './export';

/**
 * Per head (or one, for a measure without per-head values), the `len×len` matrix the views draw
 * for sentence `index` at `layer`; with `hide`, the special columns are 0 and each row renormalised.
 */
export function shownHeads(output: BatchRun, index: number, layer: number, measure: Measure, hide: boolean): Float32Array[] {
  const sentence = output.batch.sentences[index];
  const matrices = headMatrices(output, index, layer, measure);
  if (!hide || !sentence) return matrices;
  return matrices.map((m) => withoutSpecials(m, sentence.len, sentence));
}

/** A sentence's drawn numbers, `[layer][cell][q][k]` over its real tokens. */
export interface SentenceTensor {
  /** The layers included, counting from 0. */
  layers: number[];
  /** Cells per layer: the heads, or 1 for a measure without per-head values. */
  cells: number;
  len: number;
  /** `[layer][cell]` → row-major `len×len`. */
  values: Float32Array[][];
  /** For the norm-based measure, the lengths `N^h_ij` themselves, laid out like `values`. */
  exact: Float32Array[][] | null;
}

/** What sentence `index` draws under `measure` at `layers` (see `shownHeads`). */
export function sentenceTensor(output: BatchRun, index: number, layers: readonly number[], measure: Measure, hide: boolean): SentenceTensor {
  const drawn = drawnMeasure(output, measure);
  const len = output.batch.sentences[index]?.len ?? 0;
  const values = layers.map((l) => shownHeads(output, index, l, drawn, hide));
  const heads = output.attentionShape[1];
  const exact =
    drawn === 'norm' ? layers.map((l) => Array.from({ length: heads }, (_, h) => measuredMatrix(output, index, l, h, 'norm').exact)) : null;
  return { layers: [...layers], cells: values[0]?.length ?? 0, len, values, exact };
}

/**
 * A float32 value to 9 significant digits: enough to give back exactly the same float32, and
 * about half as many characters as the full double (files of every head of a long sentence are
 * hundreds of megabytes).
 */
export function float32Number(value: number): number {
  return Number(value.toPrecision(9));
}

/** A row-major `len×len` matrix as nested arrays. */
function nested(matrix: Float32Array, len: number): number[][] {
  return Array.from({ length: len }, (_, q) => Array.from(matrix.subarray(q * len, (q + 1) * len), float32Number));
}

/** The tensor as nested arrays `[layer][cell][q][k]`. */
export function nestedTensor(tensor: Float32Array[][], len: number): number[][][][] {
  return tensor.map((cells) => cells.map((m) => nested(m, len)));
}

/** What a tensor's numbers are, in words, for the files' descriptions. */
export function tensorDescription(measure: Measure, hide: boolean): string {
  const info = MEASURE_INFO[measure];
  const what =
    measure === 'raw'
      ? 'attention weights'
      : measure === 'norm'
        ? `${info.label}, each row’s share (the lengths N^h_ij themselves are under “norm_values”)`
        : `${info.label} (one matrix per layer: it has no per-head values)`;
  const hidden = hide ? '; [CLS]/[SEP] columns set to 0 and each row renormalised over the other tokens' : '';
  return `${what}, indexed [layer][head][query][key] over the sentence’s real tokens (rows take from columns)${hidden}`;
}

/**
 * The tensor as a long table (one row per layer, head, query and key; keys of hidden special
 * tokens left out), for the CSV: the drawn number as `weight`, and `N^h_ij` as `value` for the
 * norm-based measure.
 */
export function tensorTable(output: BatchRun, index: number, tensor: SentenceTensor, measure: Measure, hide: boolean): NumberTable {
  const sentence = output.batch.sentences[index];
  const rows: (string | number)[][] = [];
  if (sentence) {
    const { len } = tensor;
    tensor.values.forEach((cells, li) => {
      const layer = tensor.layers[li]! + 1;
      cells.forEach((m, c) => {
        const head = tensor.cells === 1 && !MEASURE_INFO[measure].perHead ? 'all' : c + 1;
        const exact = tensor.exact?.[li]?.[c];
        for (let q = 0; q < len; q++) {
          for (let k = 0; k < len; k++) {
            if (hide && isSpecial(sentence, k)) continue;
            const row = [index + 1, layer, head, q + 1, sentence.tokens[q] ?? '', k + 1, sentence.tokens[k] ?? '', float32Number(m[q * len + k]!)];
            if (exact) row.push(float32Number(exact[q * len + k]!));
            rows.push(row);
          }
        }
      });
    });
  }
  const columns = ['sentence', 'layer', 'head', 'query', 'query_token', 'key', 'key_token', 'weight'];
  if (tensor.exact) columns.push('value');
  return { description: `${tensorDescription(measure, hide)}; layers, heads and positions count from 1`, columns, rows };
}

/**
 * What the model view paints for sentence `index`: `[layers][cells][len][len]` with its shape
 * (cells = heads, or 1 per layer for measures without per-head values), as `gridSource` gives it,
 * the special columns dropped and rows renormalised when `hide`.
 */
export function shownGrid(output: BatchRun, index: number, measure: Measure, hide: boolean): { buffer: Float32Array; shape: AttentionShape; len: number } {
  if (!hide) return gridSource(output, index, measure);
  const layers = output.attentionShape[0];
  const len = output.batch.sentences[index]?.len ?? 0;
  const all = Array.from({ length: layers }, (_, l) => shownHeads(output, index, l, drawnMeasure(output, measure), true));
  const cells = all[0]?.length ?? 0;
  const buffer = new Float32Array(layers * cells * len * len);
  all.forEach((maps, l) => maps.forEach((m, c) => buffer.set(m, (l * cells + c) * len * len)));
  return { buffer, shape: [layers, cells, len, len], len };
}

/** The largest value any map of any sentence shows (the top of one colour scale for them all). */
export function gridMax(output: BatchRun, measure: Measure, hide: boolean): number {
  let max = 0;
  output.batch.sentences.forEach((sentence, index) => {
    if (sentence.text.trim() === '') return;
    const { buffer, shape, len } = shownGrid(output, index, measure, hide);
    const [layers, cells, n] = shape;
    for (let c = 0; c < layers * cells; c++) {
      for (let q = 0; q < len; q++) {
        const base = c * n * n + q * n;
        for (let k = 0; k < len; k++) max = Math.max(max, buffer[base + k]!);
      }
    }
  });
  return max;
}
