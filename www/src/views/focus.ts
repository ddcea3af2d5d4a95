/**
 * The focus view: per sentence, the focus word's attention to every token at one layer/head
 * (a heat strip and a sentence naming its strongest target) and the full token×token heatmap.
 * Without the strip (`strip: false`) it is the plain heatmap view of the widget.
 */
import {
  describeAttention,
  describeHead,
  findFocus,
  headMatrix,
  cropMatrix,
  isBlank,
  matrixRow,
  maxUnmasked,
  topTargets,
  type HeadChoice,
} from '../attention';
import { shorten } from '../draw/canvas';
import { css, textOn, viridis, type Theme } from '../draw/colors';
import type { HeatmapHit, HeatmapSpec } from '../draw/heatmap';
import type { BatchRun, Encoding } from '../engine/protocol';
import { el } from './dom';
import { HeatmapPanel } from './heatmap-panel';

/** What the focus view shows. */
export interface FocusOptions {
  output: BatchRun;
  layer: number;
  head: HeadChoice;
  focusWord: string;
  theme: Theme;
  /** Whether to show the focus word's summary and heat strip above each heatmap (default true). */
  strip?: boolean;
}

/** What one sentence card shows, for the SVG export. */
export interface FocusFigure {
  title: string;
  /** The focus word's summary line (or why there is none). */
  summary: string;
  /** The focus token's attention to each real token, when it has one. */
  strip: { tokens: string[]; values: number[]; focus: number; name: string } | null;
  heatmap: HeatmapSpec;
  legendCaption: string;
}

/** How many attended tokens the text alternative names. */
const TOP_IN_LABEL = 3;
/** Padding positions drawn after a sentence's last token (more would be a sea of hatching). */
const PAD_SHOWN = 2;
/** Longest sentence text shown in a card title. */
const TITLE_CHARS = 160;

/** The heat strip: one chip per real token, coloured by the focus token's attention to it. */
function strip(sentence: Encoding, row: Float32Array, focus: number, caption: string): HTMLElement {
  let max = 0;
  for (let i = 0; i < sentence.len; i++) max = Math.max(max, row[i] ?? 0);
  const chips: Node[] = [];
  for (let i = 0; i < sentence.len; i++) {
    const weight = row[i] ?? 0;
    const colour = viridis(max > 0 ? weight / max : 0);
    const attrs = { role: 'listitem', title: `${sentence.tokens[i]}: ${weight.toFixed(3)}` };
    const chip = el('span', { className: i === focus ? 'chip chip-focus' : 'chip', attrs }, [
      el('span', { className: 'chip-token', text: sentence.tokens[i] ?? '' }),
      el('span', { className: 'chip-weight', text: weight.toFixed(2) }),
    ]);
    chip.style.backgroundColor = css(colour);
    chip.style.color = textOn(colour);
    chips.push(chip);
  }
  return el('figure', { className: 'strip' }, [
    el('div', { className: 'chips', attrs: { role: 'list', 'aria-label': caption } }, chips),
    el('figcaption', { text: caption }),
  ]);
}

/** "query “apple” (#2) → key “enterprise” (#5): 0.1234", value first so it survives a narrow line. */
function describeCell(sentence: Encoding, matrix: Float32Array, n: number, hit: HeatmapHit): string {
  const token = (i: number): string => `“${sentence.tokens[i] ?? ''}” (#${i + 1})`;
  if (hit.kind === 'row') return `query ${token(hit.row)}: click to make it the focus word`;
  if (hit.kind === 'col') return `key ${token(hit.col)}: click to make it the focus word`;
  const pad = sentence.attention_mask[hit.row] !== 1 || sentence.attention_mask[hit.col] !== 1;
  const value = pad ? 'padding (masked out)' : (matrix[hit.row * n + hit.col] ?? 0).toFixed(4);
  return `${value} · query ${token(hit.row)} → key ${token(hit.col)}`;
}

/** One sentence's card; keeps its heatmap panel (zoom, scroll) across updates. */
class SentenceCard {
  readonly element: HTMLElement;
  private readonly head: HTMLElement;
  private readonly panel: HeatmapPanel;
  /** What the card shows, when it shows a heatmap. */
  figure: FocusFigure | null = null;

  constructor(index: number, onPick: (sentence: number, token: number) => void) {
    this.head = el('div');
    this.panel = new HeatmapPanel('focus-heatmap', (token) => onPick(index, token));
    this.element = el('article', { className: 'card sentence-card', attrs: { 'data-sentence': String(index) } }, [this.head, this.panel.element]);
  }

  update(options: FocusOptions, index: number): void {
    const { output, layer, head, focusWord, theme } = options;
    const sentence = output.batch.sentences[index]!;
    const [, heads, n] = output.attentionShape;
    const title = el('h3', { className: 'sentence-title', text: `${index + 1}. “${shorten(sentence.text, TITLE_CHARS)}”` });
    if (isBlank(sentence)) {
      this.head.replaceChildren(
        title,
        el('p', { className: 'focus-summary muted', text: `Sentence ${index + 1} is empty: type a few words to see where they look.`, attrs: { 'data-testid': 'focus-summary' } }),
      );
      this.panel.element.hidden = true;
      this.figure = null;
      return;
    }
    const matrix = headMatrix(output.attentions[index]!, output.attentionShape, layer, head);
    const focus = findFocus(sentence, focusWord);
    const where = describeHead(layer, head, heads);
    const children: Node[] = [title];
    if (options.strip !== false) children.push(...this.focusParts(sentence, matrix, n, focus, focusWord, where));
    const shown = Math.min(n, sentence.len + PAD_SHOWN);
    if (shown < n) children.push(el('p', { className: 'note', text: `${n - shown} more [PAD] positions (padding to the longest sentence) are not drawn.` }));
    this.head.replaceChildren(...children);
    this.panel.element.hidden = false;
    const values = cropMatrix(matrix, n, shown);
    const tokens = sentence.tokens.slice(0, shown);
    const masked = sentence.attention_mask.slice(0, shown).map((m) => m !== 1);
    const spec: HeatmapSpec = {
      values,
      rows: shown,
      cols: shown,
      rowLabels: tokens,
      colLabels: tokens,
      maskedRows: masked,
      maskedCols: masked,
      ...(focus >= 0 ? { highlightRow: focus } : {}),
      scaleMax: maxUnmasked(matrix, sentence),
    };
    this.figure = {
      title: title.textContent ?? '',
      summary: this.head.querySelector('[data-testid="focus-summary"]')?.textContent ?? '',
      strip:
        focus >= 0 && options.strip !== false
          ? { tokens: sentence.tokens.slice(0, sentence.len), values: Array.from(matrixRow(matrix, n, focus).subarray(0, sentence.len)), focus, name: `from “${sentence.tokens[focus] ?? ''}”` }
          : null,
      heatmap: spec,
      legendCaption: 'attention weight',
    };
    this.panel.update({
      spec,
      label:
        `Attention heatmap of sentence ${index + 1}, ${where}; rows (queries) attend to columns (keys), padding is hatched. ` +
        describeAttention(matrix, sentence, focusWord, TOP_IN_LABEL),
      describe: (hit) => describeCell(sentence, values, shown, hit),
      legendCaption: this.figure.legendCaption,
      theme,
    });
  }

  /** The summary line and heat strip of the focus token (or why there is none). */
  private focusParts(sentence: Encoding, matrix: Float32Array, n: number, focus: number, focusWord: string, where: string): HTMLElement[] {
    if (focus < 0) {
      const word = focusWord.trim().toLowerCase();
      const missing = word ? `“${word}” is not a single token of this sentence.` : 'No focus word is set: click a token to choose one.';
      return [el('p', { className: 'focus-summary muted', text: missing, attrs: { 'data-testid': 'focus-summary' } })];
    }
    const word = sentence.tokens[focus] ?? '';
    const row = matrixRow(matrix, n, focus);
    const best = topTargets(row, sentence, 1, focus)[0];
    const summary = best ? `${word} → ${best.token} (${best.weight.toFixed(2)})` : `${word} → no other word to attend to`;
    return [
      el('p', { className: 'focus-summary', text: summary, attrs: { 'data-testid': 'focus-summary' } }),
      strip(sentence, row, focus, `Attention from “${word}” to each token, ${where}`),
    ];
  }

  redraw(): void {
    this.panel.redraw(true);
  }
}

/** One card per sentence, updated in place so each heatmap keeps its zoom and scroll position. */
export class FocusView {
  private cards: SentenceCard[] = [];

  /** `onPick(sentence, token)` runs when a heatmap label or cell is clicked. */
  constructor(
    private readonly container: HTMLElement,
    private readonly onPick: (sentence: number, token: number) => void,
  ) {}

  /** Shows `options`, adding or dropping cards to match the sentences. */
  update(options: FocusOptions): void {
    const count = options.output.batch.sentences.length;
    while (this.cards.length < count) this.cards.push(new SentenceCard(this.cards.length, this.onPick));
    this.cards.length = count;
    const elements = this.cards.map((c) => c.element);
    if (elements.some((e, i) => this.container.children[i] !== e) || this.container.children.length !== count) {
      this.container.replaceChildren(...elements);
    }
    this.cards.forEach((card, i) => card.update(options, i));
  }

  /** What each sentence card shows (cards without a heatmap left out), for the SVG export. */
  figures(): FocusFigure[] {
    return this.cards.map((c) => c.figure).filter((f): f is FocusFigure => f !== null);
  }

  /** Draws the heatmaps again (after the view was hidden or the layout changed). */
  redraw(): void {
    for (const card of this.cards) card.redraw();
  }
}
