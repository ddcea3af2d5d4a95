/**
 * The focus view's heat strips: one chip per word (its pieces together: what the focus word takes
 * from all of them) and per special token, coloured by what the focus word takes from it under one
 * measure; and the sentence that contrasts raw attention with a mixing measure for the `[CLS]`
 * token (the front page's story).
 */
import { css, textOn, viridis } from '../draw/colors';
import type { Encoding, Word } from '../engine/protocol';
import { MEASURE_INFO, type Measure } from '../measure';
import { el } from './dom';

/** One strip: its measure, the focus token's row (padded length) and what it covers in words. */
export interface StripData {
  measure: Measure;
  row: Float32Array;
  where: string;
  /** A line after the heading (the pair's "apple → eating (0.16)"), if any. */
  summary?: string;
}

/** How a strip is drawn: without the special tokens' chips, against a shared top of the colour scale (null: its own maximum), one chip per word-piece. */
export interface StripLook {
  hide: boolean;
  max: number | null;
  /** One chip per token (word-pieces apart) instead of one per word. */
  pieces?: boolean;
}

/** The strip's cells: each word of the sentence (its pieces summed; with `pieces`, each piece) and, unless `hide`, each special token, in order. */
export function stripCells(sentence: Encoding, row: Float32Array, hide = false, pieces = false): { start: number; text: string; weight: number }[] {
  const cells: { start: number; text: string; weight: number }[] = [];
  for (let i = 0; i < sentence.len; i++) {
    if (hide && sentence.special[i]) continue;
    if (pieces) {
      cells.push({ start: i, text: sentence.tokens[i] ?? '', weight: row[i] ?? 0 });
      continue;
    }
    const word = sentence.words.find((w) => w.start === i);
    if (word) {
      let weight = 0;
      for (let k = word.start; k < word.end; k++) weight += row[k] ?? 0;
      cells.push({ start: i, text: word.end - word.start > 1 ? word.text : (sentence.tokens[i] ?? ''), weight });
    } else if (!sentence.words.some((w) => w.start < i && i < w.end)) {
      cells.push({ start: i, text: sentence.tokens[i] ?? '', weight: row[i] ?? 0 });
    }
  }
  return cells;
}

/** The chips of one row over the sentence's words and special tokens. */
function chips(sentence: Encoding, row: Float32Array, focus: Word, caption: string, look: StripLook): HTMLElement {
  const cells = stripCells(sentence, row, look.hide, look.pieces === true);
  const max = look.max ?? Math.max(0, ...cells.map((c) => c.weight));
  const items: Node[] = [];
  for (const cell of cells) {
    const weight = cell.weight;
    const colour = viridis(max > 0 ? Math.min(1, weight / max) : 0);
    // A chip is a button: clicking it makes its word the focus word (as the token table does).
    const attrs = { type: 'button', 'data-token': String(cell.start), title: `${cell.text}: ${weight.toFixed(3)} · click to make it the focus word` };
    const chip = el('button', { className: cell.start === focus.start ? 'chip chip-focus' : 'chip', attrs }, [
      el('span', { className: 'chip-token', text: cell.text }),
      el('span', { className: 'chip-weight', text: weight.toFixed(2) }),
    ]);
    chip.style.backgroundColor = css(colour);
    chip.style.color = textOn(colour);
    items.push(el('span', { className: 'chip-item', attrs: { role: 'listitem' } }, [chip]));
  }
  return el('div', { className: 'chips', attrs: { role: 'list', 'aria-label': caption } }, items);
}

/**
 * A strip figure. `heading`: name the measure above the chips (when two strips are paired);
 * without it, the caption alone says what the numbers are.
 */
export function strip(sentence: Encoding, data: StripData, focus: Word, heading: boolean, look: StripLook = { hide: false, max: null }): HTMLElement {
  const word = focus.text;
  const info = MEASURE_INFO[data.measure];
  const what = data.measure === 'raw' ? 'Attention' : info.label.charAt(0).toUpperCase() + info.label.slice(1);
  const share = data.measure === 'norm' ? ' (each value is the share of the row’s total)' : '';
  const caption = `${what} from “${word}” to each token, ${data.where}${share}`;
  const parts: Node[] = [];
  if (heading) {
    const title = el('p', { className: 'strip-title' }, [
      ...(look.pieces ? [el('strong', { className: 'piece-name', text: `${word} · ` })] : []),
      el('span', { className: 'measure-tag', text: info.label }),
      document.createTextNode(` ${data.where}`),
    ]);
    if (data.summary) title.append(el('span', { className: 'strip-summary', text: ` · ${data.summary}`, attrs: { 'data-testid': 'focus-pair-summary' } }));
    parts.push(title);
  }
  // A heading says what the chips are; alone, they get the caption.
  parts.push(chips(sentence, data.row, focus, look.hide ? `${caption}; [CLS]/[SEP] hidden, rows renormalised` : caption, look));
  if (!heading) parts.push(el('figcaption', { text: caption }));
  return el('figure', { className: 'strip', attrs: { 'data-measure': data.measure, 'data-testid': 'focus-strip' } }, parts);
}

/** Two decimals. */
const f2 = (v: number): string => v.toFixed(2);

/**
 * What raw attention and `other` (a mixing measure) say about the first token (`[CLS]`) for the
 * focus token, in one sentence; null when the focus token is that token itself.
 */
export function contrastSentence(sentence: Encoding, focus: Word, raw: Float32Array, other: StripData): string | null {
  if (focus.start <= 0 || other.measure === 'raw') return null;
  const word = `“${focus.text}”`;
  const first = sentence.tokens[0] ?? '[CLS]';
  const start = `${word} gives ${f2(raw[0] ?? 0)} of its raw attention to ${first}`;
  const otherFirst = f2(other.row[0] ?? 0);
  if (other.measure === 'norm') return `${start}; weighed by what ${first} actually passes on (attention × value norm), ${first} gets ${otherFirst}.`;
  let kept = 0;
  for (let i = focus.start; i < focus.end; i++) kept += other.row[i] ?? 0;
  const keeps = f2(kept);
  const by = other.measure === 'alti' ? 'by ALTI, which also counts the residual and the layer norm' : `by ALTI through the layers (${other.where})`;
  return `${start}; ${by}, ${first} contributes ${otherFirst} and ${word} keeps ${keeps} of itself.`;
}
