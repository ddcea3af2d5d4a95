/**
 * Reading the colours past `[CLS]` and `[SEP]`: in most layers `[CLS]` takes 0.55–0.73 of a row,
 * which flattens every other cell. "Hide [CLS]/[SEP]" drops those columns and renormalises each
 * row over the words that remain, so a row says how the attention left for words is shared out.
 */
import type { Encoding } from './engine/protocol';

/** What the legend adds when the special tokens are hidden. */
export const HIDDEN_NOTE = '[CLS]/[SEP] hidden, rows renormalised';
/** What the legend adds when all sentences share one colour scale. */
export const SHARED_NOTE = 'one scale for all sentences';

/** Whether token `i` is a real special token (`[CLS]`, `[SEP]`; padding is not). */
export function isSpecial(sentence: Encoding, i: number): boolean {
  return sentence.special[i] === true && sentence.attention_mask[i] === 1;
}

/**
 * A copy of the square row-major `n×n` `matrix` with the special tokens' columns set to 0 and each
 * real row divided by what is left of it (a row with nothing left stays 0). Padding rows are kept.
 */
export function withoutSpecials(matrix: Float32Array, n: number, sentence: Encoding): Float32Array {
  const out = matrix.slice();
  for (let q = 0; q < n; q++) {
    let left = 0;
    for (let k = 0; k < n; k++) {
      if (isSpecial(sentence, k)) out[q * n + k] = 0;
      else left += out[q * n + k]!;
    }
    if (sentence.attention_mask[q] !== 1) continue;
    for (let k = 0; k < n; k++) out[q * n + k] = left > 0 ? out[q * n + k]! / left : 0;
  }
  return out;
}
