/**
 * The focus view: per sentence, what the focus word takes from every token at one layer/head under
 * the chosen measure (a heat strip and a sentence naming its strongest target), optionally paired
 * with its counterpart (raw attention with the norm-based view, a mixing measure with raw
 * attention), and the full token×token heatmap. Without the strip (`strip: false`) it is the plain
 * heatmap view of the widget.
 */
import { describeAttention, cropMatrix, isBlank, maxUnmasked, topTargets } from '../attention';
import { findWord, shownParts, wordRow, type WordFocus } from '../words';
import { shorten } from '../draw/canvas';
import type { StripRow } from '../draw/chart';
import type { HeatmapHit, HeatmapSpec } from '../draw/heatmap';
import type { Encoding, Word } from '../engine/protocol';
import { MEASURE_INFO } from '../measure';
import { measuredMatrix, mixingProblem, type MeasuredMatrix } from '../mixing';
import { counterpart } from '../state';
import { el } from './dom';
import { HIDDEN_NOTE, isSpecial, SHARED_NOTE, withoutSpecials } from '../specials';
import { contrastSentence, strip, stripCells, type StripData, type StripLook } from './focus-strip';
import { HeatmapPanel } from './heatmap-panel';
import type { ViewInput } from './view-input';

/** What the focus view shows. */
export interface FocusOptions extends ViewInput {
  /** Pair the strip with the measure's counterpart, when the run has both (default false). */
  compare?: boolean;
  /** Whether to show the focus word's summary and heat strip above each heatmap (default true). */
  strip?: boolean;
  /** Drop the `[CLS]`/`[SEP]` columns and renormalise each row (see ../specials; default false). */
  hideSpecial?: boolean;
  /** One colour scale for the heatmaps (and one for the strips) of all sentences (default false). */
  sharedScale?: boolean;
  /** The heatmaps' zoom in percent of the fitted size (absent: as each card was left). */
  zoom?: number;
}

/** The colour scale's top shared by every card, when the scale is shared. */
interface SharedScale {
  heatmap: number;
  strip: number;
}

/** `measuredMatrix`, with the special tokens' columns dropped and the rows renormalised when `hide`. */
function shownMatrix(output: FocusOptions['output'], index: number, layer: number, head: FocusOptions['head'], measure: FocusOptions['measure'], hide: boolean): MeasuredMatrix {
  const m = measuredMatrix(output, index, layer, head, measure);
  return hide ? { ...m, values: withoutSpecials(m.values, m.n, output.batch.sentences[index]!) } : m;
}

/** What one sentence card shows, for the SVG export. */
export interface FocusFigure {
  title: string;
  /** What is drawn: the measure, its layer and heads (and the pair's measure). */
  measureLine: string;
  /** The focus word's summary line (or why there is none). */
  summary: string;
  /** The focus token's row under each measure shown (one, or the pair), over the real tokens. */
  strip: { tokens: string[]; rows: StripRow[]; focus: number; hidden?: boolean[] } | null;
  /** The raw-versus-mixing sentence of a pair, if any. */
  contrast: string | null;
  heatmap: HeatmapSpec;
  legendCaption: string;
}

/** How many attended tokens the text alternative names. */
const TOP_IN_LABEL = 3;
/** Padding positions drawn after a sentence's last token (more would be a sea of hatching). */
const PAD_SHOWN = 2;
/** Longest sentence text shown in a card title. */
const TITLE_CHARS = 160;

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

  constructor(index: number, onPick: (sentence: number, token: number) => void, onZoom: (percent: number) => void) {
    this.head = el('div');
    this.panel = new HeatmapPanel('focus-heatmap', (token) => onPick(index, token), onZoom);
    this.element = el('article', { className: 'card sentence-card', attrs: { 'data-sentence': String(index) } }, [this.head, this.panel.element]);
    this.head.addEventListener('click', (event) => {
      const chip = event.target instanceof Element ? event.target.closest<HTMLElement>('button.chip[data-token]') : null;
      if (chip) onPick(index, Number(chip.dataset['token']));
    });
  }

  update(options: FocusOptions, index: number, shared: SharedScale | null): void {
    const { output, layer, head, focusWord, focusOccurrence, theme, measure } = options;
    const sentence = output.batch.sentences[index]!;
    const n = output.attentionShape[2];
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
    const hide = options.hideSpecial === true;
    const main = shownMatrix(output, index, layer, head, measure, hide);
    const matrix = main.values;
    const focus = findWord(sentence, focusWord, focusOccurrence);
    const other = counterpart(main.measure);
    const pair = options.compare && mixingProblem(output, other) === null ? shownMatrix(output, index, layer, head, other, hide) : null;
    const children: Node[] = [title];
    const strips = options.strip !== false ? this.focusParts(sentence, main, pair, focus, { hide, max: shared?.strip ?? null }, options.pieces === true) : null;
    if (strips) children.push(...strips.elements);
    const shown = Math.min(n, sentence.len + PAD_SHOWN);
    const hidden = n - shown;
    if (hidden > 0) {
      const text = hidden === 1 ? '1 more [PAD] position (padding to the longest sentence) is not drawn.' : `${hidden} more [PAD] positions (padding to the longest sentence) are not drawn.`;
      children.push(el('p', { className: 'note', text, attrs: { 'data-testid': 'pad-note' } }));
    }
    const notes = [...(hide ? [HIDDEN_NOTE] : []), ...(shared ? [SHARED_NOTE] : [])];
    if (notes.length) children.push(el('p', { className: 'note', text: `Colours: ${notes.join('; ')}.`, attrs: { 'data-testid': 'scale-note' } }));
    this.head.replaceChildren(...children);
    this.panel.element.hidden = false;
    const values = cropMatrix(matrix, n, shown);
    const tokens = sentence.tokens.slice(0, shown);
    const masked = sentence.attention_mask.slice(0, shown).map((m) => m !== 1);
    const maskedCols = hide ? masked.map((m, i) => m || isSpecial(sentence, i)) : masked;
    const spec: HeatmapSpec = {
      values,
      rows: shown,
      cols: shown,
      rowLabels: tokens,
      colLabels: tokens,
      maskedRows: masked,
      maskedCols,
      ...(focus.word ? { highlightRow: focus.word.start, highlightRows: focus.word.end - focus.word.start } : {}),
      scaleMax: shared?.heatmap ?? maxUnmasked(matrix, sentence),
      ...(sentence.sentence_b_start !== null ? { splitAt: sentence.sentence_b_start } : {}),
    };
    const info = MEASURE_INFO[main.measure];
    this.figure = {
      title: title.textContent ?? '',
      // The colour switches are said in this line (the legend under a narrow heatmap has no room).
      measureLine: `${info.label}${main.measure === 'norm' ? ' (row shares)' : ''}, ${main.where}${pair ? `; paired with ${MEASURE_INFO[pair.measure].label}` : ''}${notes.map((note) => `; ${note}`).join('')}`,
      summary: this.head.querySelector('[data-testid="focus-summary"]')?.textContent ?? '',
      strip: strips?.figure ?? null,
      contrast: strips?.contrast ?? null,
      heatmap: spec,
      legendCaption: info.legend,
    };
    const what = main.measure === 'raw' ? 'Attention heatmap' : `Heatmap of ${info.label}${main.measure === 'norm' ? ' (row shares)' : ''}`;
    this.panel.update({
      spec,
      label:
        `${what} of sentence ${index + 1}, ${main.where}; rows (queries) take from columns (keys), padding is hatched. ` +
        describeAttention(matrix, sentence, focus.word, TOP_IN_LABEL),
      describe: (hit) => describeCell(sentence, values, shown, hit),
      legendCaption: this.figure.legendCaption,
      theme,
    });
    // The top of the colour scale, for tests and scripts reading the page.
    this.panel.element.dataset['scaleMax'] = String(spec.scaleMax);
  }

  /**
   * The summary line and heat strip(s) of the focus word (or why there are none), and what the SVG
   * export repeats of them. With `pieces`, a word of several pieces gets them per piece.
   */
  private focusParts(
    sentence: Encoding,
    main: MeasuredMatrix,
    pair: MeasuredMatrix | null,
    found: WordFocus,
    look: StripLook,
    pieces: boolean,
  ): { elements: HTMLElement[]; figure: FocusFigure['strip']; contrast: string | null } {
    if (!found.word) {
      return { elements: [el('p', { className: 'focus-summary muted', text: found.miss, attrs: { 'data-testid': 'focus-summary' } })], figure: null, contrast: null };
    }
    const parts = shownParts(sentence, found.word, pieces);
    const apart = parts.length > 1;
    const strongest = (m: MeasuredMatrix, part: Word): string => {
      const best = topTargets(wordRow(m.values, m.n, part), sentence, 1, found.word)[0];
      return best ? `${part.text} → ${best.token} (${best.weight.toFixed(2)})` : `${part.text} → no other word to attend to`;
    };
    const data = (m: MeasuredMatrix, part: Word, summary?: string): StripData => ({ measure: m.measure, row: wordRow(m.values, m.n, part), where: m.where, ...(summary ? { summary } : {}) });
    const real = (row: Float32Array): number[] => Array.from(row.subarray(0, sentence.len));
    const summary = parts.map((part) => strongest(main, part)).join(' · ');
    const elements: HTMLElement[] = [el('p', { className: 'focus-summary', text: summary, attrs: { 'data-testid': 'focus-summary' } })];
    // One colour scale for all sentences reaches the file's strips too.
    const scale = look.max !== null ? { max: look.max } : {};
    const rows: StripRow[] = [];
    let contrast: string | null = null;
    const stripLook: StripLook = { ...look, pieces: apart };
    for (const part of parts) {
      const named = (name: string): string => (apart ? `${part.text} · ${name}` : name);
      const mainStrip = data(main, part);
      rows.push({ name: named(MEASURE_INFO[main.measure].short), values: real(mainStrip.row), ...scale });
      const box: HTMLElement[] = [];
      if (!pair) box.push(strip(sentence, mainStrip, part, apart, stripLook));
      else {
        const pairStrip = data(pair, part, strongest(pair, part));
        const [raw, mixed] = main.measure === 'raw' ? [mainStrip, pairStrip] : [pairStrip, mainStrip];
        const said = contrastSentence(sentence, part, raw.row, mixed);
        contrast ??= said;
        rows.push({ name: named(MEASURE_INFO[pair.measure].short), values: real(pairStrip.row), ...scale });
        box.push(
          el('div', { className: 'strip-pair', attrs: { 'data-testid': 'focus-pair' } }, [
            strip(sentence, mainStrip, part, true, stripLook),
            strip(sentence, pairStrip, part, true, stripLook),
            ...(said ? [el('p', { className: 'contrast', text: said, attrs: { 'data-testid': 'focus-contrast' } })] : []),
          ]),
        );
      }
      elements.push(...(apart ? [el('div', { className: 'piece-strips', attrs: { 'data-testid': 'piece-strips', 'data-piece': part.text } }, box)] : box));
    }
    const hidden = look.hide ? { hidden: sentence.tokens.slice(0, sentence.len).map((_, i) => isSpecial(sentence, i)) } : {};
    return { elements, figure: { tokens: sentence.tokens.slice(0, sentence.len), rows, focus: found.word.start, ...hidden }, contrast };
  }

  redraw(): void {
    this.panel.redraw(true);
  }

  /** Takes the zoom nearest `percent` (see `HeatmapPanel.zoomTo`). */
  zoomTo(percent: number): void {
    this.panel.zoomTo(percent);
  }
}

/**
 * The top of one colour scale for every sentence: the largest cell of any heatmap, and the largest
 * value any strip shows (a word's chip sums its pieces).
 */
function sharedScale(options: FocusOptions): SharedScale {
  const { output, layer, head, measure } = options;
  let heatmap = 0;
  let stripMax = 0;
  output.batch.sentences.forEach((sentence, index) => {
    if (isBlank(sentence)) return;
    const m = shownMatrix(output, index, layer, head, measure, options.hideSpecial === true);
    heatmap = Math.max(heatmap, maxUnmasked(m.values, sentence));
    const word = findWord(sentence, options.focusWord, options.focusOccurrence).word;
    if (!word) return;
    const parts = shownParts(sentence, word, options.pieces);
    for (const part of parts) for (const cell of stripCells(sentence, wordRow(m.values, m.n, part), false, parts.length > 1)) stripMax = Math.max(stripMax, cell.weight);
  });
  return { heatmap, strip: stripMax };
}

/** One card per sentence, updated in place so each heatmap keeps its zoom and scroll position. */
export class FocusView {
  private cards: SentenceCard[] = [];

  /** `onPick(sentence, token)` runs when a heatmap label or cell is clicked; `onZoom(percent)` when a heatmap's zoom buttons are used. */
  constructor(
    private readonly container: HTMLElement,
    private readonly onPick: (sentence: number, token: number) => void,
    private readonly onZoom?: (percent: number) => void,
  ) {}

  /** Shows `options`, adding or dropping cards to match the sentences. */
  update(options: FocusOptions): void {
    const count = options.output.batch.sentences.length;
    while (this.cards.length < count) this.cards.push(new SentenceCard(this.cards.length, this.onPick, (percent) => this.zoomed(percent)));
    this.cards.length = count;
    const elements = this.cards.map((c) => c.element);
    if (elements.some((e, i) => this.container.children[i] !== e) || this.container.children.length !== count) {
      this.container.replaceChildren(...elements);
    }
    const shared = options.sharedScale ? sharedScale(options) : null;
    this.cards.forEach((card, i) => {
      if (options.zoom !== undefined) card.zoomTo(options.zoom);
      card.update(options, i, shared);
    });
  }

  /** One card's zoom changed: every card takes it (so their cells compare), and the owner hears of it. */
  private zoomed(percent: number): void {
    for (const card of this.cards) card.zoomTo(percent);
    this.onZoom?.(percent);
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
