/**
 * The rollout view: per sentence, what the focus word takes in one layer/head (under the chosen
 * measure) next to attention rollout through a chosen layer (Abnar & Zuidema 2020: heads averaged,
 * the residual added, multiplied through the layers) and, for a mixing measure, ALTI rollout
 * through the same layer (Ferrando et al. 2022), as heat strips with a text alternative; and, on
 * request, attention flow for sentences of up to 64 tokens. The engine computes all of them.
 */
import { isBlank } from '../attention';
import { findWord, shownParts, wordRow } from '../words';
import { shorten } from '../draw/canvas';
import { drawStrips, stripNameWidth, stripWidth, type StripRow } from '../draw/chart';
import type { FlowOutput } from '../engine/analysis-protocol';
import type { BatchRun, Encoding } from '../engine/protocol';
import { MEASURE_INFO } from '../measure';
import { measuredMatrix } from '../mixing';
import { HIDDEN_NOTE, isSpecial, SHARED_NOTE, withoutSpecials } from '../specials';
import { resolveView } from '../state';
import { ChartHover } from './chart-hover';
import { el } from './dom';
import type { ViewInput } from './view-input';

/** Longest input attention flow is offered for (the engine's limit). */
export const FLOW_MAX_TOKENS = 64;

/** What the rollout view shows: the page's choices and the rollout layer (0-based; null or absent follows `layer`). */
export type RolloutOptions = ViewInput & { rolloutLayer?: number | null };

/** Makes the word holding token `token` of sentence `sentence` the focus word. */
export type TokenPicker = (sentence: number, token: number) => void;

/** Asks the worker for a sentence's flow, reporting progress as `done` of `total`. */
export type FlowRequester = (sentence: number, progress: (done: number, total: number) => void) => Promise<FlowOutput>;

/**
 * "[CLS] 0.73, [SEP] 0.15, enterprise 0.02 (itself 0.04)": the `k` heaviest tokens of `values` other
 * than the focus word's own pieces `[focus.start, focus.end)` and hidden columns, then what the focus
 * word takes from itself (its pieces summed, as a word's column always is), so the list says where
 * else it looks however much it keeps.
 */
function topList(tokens: readonly string[], values: readonly number[], k: number, focus: { start: number; end: number }, hidden?: readonly boolean[]): string {
  const own = (i: number): boolean => focus.start <= i && i < focus.end;
  const others = values
    .map((v, i) => ({ v, i, t: tokens[i] ?? '' }))
    .filter(({ i }) => !own(i) && !hidden?.[i])
    .sort((a, b) => b.v - a.v)
    .slice(0, k)
    .map(({ t, v }) => `${t} ${v.toFixed(2)}`);
  let self = 0;
  for (let i = focus.start; i < focus.end; i++) self += values[i] ?? 0;
  return others.length ? `${others.join(', ')} (itself ${self.toFixed(2)})` : `only itself ${self.toFixed(2)}`;
}

/** The rows (raw, rollout, flow) one sentence's strip figure draws, in the order drawn. */
export interface SentenceRows {
  sentence: number;
  tokens: string[];
  /** The focus word's pieces `[start, end)` (each drawn as the focus). */
  focus: { start: number; end: number };
  /** The focus word (its pieces joined). */
  word: string;
  rows: StripRow[];
  /** Per token, whether its column is hidden ([CLS]/[SEP] with "hide [CLS]/[SEP]" on: drawn empty, weight 0). */
  hidden?: boolean[];
  /** Per row, whose row it is: the word, or (with `pieces`) one of its pieces. */
  from: string[];
}

/** The numbers the view draws for the sentence `index` (null when its focus token is missing). */
export function rolloutRows(options: RolloutOptions, index: number, rolloutLayer: number, flow: FlowOutput | null): SentenceRows | null {
  const { output, layer, head, focusWord, focusOccurrence } = options;
  const sentence = output.batch.sentences[index]!;
  const rollout = output.analysis?.rollouts?.[index];
  const word = findWord(sentence, focusWord, focusOccurrence).word;
  if (!word || !rollout || isBlank(sentence)) return null;
  const focus = { start: word.start, end: word.end };
  const n = output.attentionShape[2];
  const len = sentence.len;
  const first = measuredMatrix(output, index, layer, head, options.measure);
  // With the special tokens hidden, rows are renormalised without them (../specials).
  const shown = (matrix: Float32Array, size: number): Float32Array => (options.hideSpecial ? withoutSpecials(matrix, size, sentence) : matrix);
  const rolled = rollout.subarray(rolloutLayer * n * n, (rolloutLayer + 1) * n * n);
  const mixing = output.mixing?.[index];
  const alti = first.measure !== 'raw' && mixing && mixing.altiRollout.length > 0 ? mixing.altiRollout.subarray(rolloutLayer * len * len, (rolloutLayer + 1) * len * len) : null;
  const parts = shownParts(sentence, word, options.pieces);
  const from: string[] = [];
  const rows: StripRow[] = parts.flatMap((part) => {
    // A word of several pieces: the mean of its pieces' rows (see ../words); with `pieces`, each piece's own row.
    const row = (matrix: Float32Array, size: number): number[] => Array.from(wordRow(shown(matrix, size), size, part).subarray(0, len));
    const named = (name: string): string => (parts.length > 1 ? `${part.text} · ${name}` : name);
    const own: StripRow[] = [
      { name: named(`${MEASURE_INFO[first.measure].short} · ${first.where}`), values: row(first.values, n) },
      { name: named(`rollout · to layer ${rolloutLayer + 1}`), values: row(rolled, n) },
    ];
    if (alti) own.push({ name: named(`ALTI rollout · to layer ${rolloutLayer + 1}`), values: row(alti, len) });
    if (flow && flow.tokens === len) own.push({ name: named('flow (all layers)'), values: row(flow.flow, len) });
    from.push(...own.map(() => part.text));
    return own;
  });
  const hidden = options.hideSpecial ? { hidden: sentence.tokens.slice(0, len).map((_, i) => isSpecial(sentence, i)) } : {};
  return { sentence: index, tokens: sentence.tokens.slice(0, len), focus, word: word.text, rows, from, ...hidden };
}

/** Per row name, the largest value of that row in any sentence: one colour scale per kind of row. */
function sharedRowScale(sentences: readonly (SentenceRows | null)[]): Map<string, number> {
  const scale = new Map<string, number>();
  for (const s of sentences) for (const r of s?.rows ?? []) scale.set(r.name, Math.max(scale.get(r.name) ?? 0, ...r.values));
  return scale;
}

/** One sentence's card: title, strips, text alternative and the flow control. */
class RolloutCard {
  readonly element: HTMLElement;
  private readonly title = el('h3', { className: 'sentence-title' });
  private readonly summary = el('p', { className: 'long-summary', attrs: { 'data-testid': 'rollout-summary' } });
  private readonly note = el('p', { className: 'note', attrs: { 'data-testid': 'scale-note' } });
  private readonly scroller = el('div', { className: 'strip-scroll' });
  private readonly canvas = el('canvas', { attrs: { 'data-testid': 'rollout-strips', role: 'img' } });
  private readonly flowButton = el('button', { className: 'tool', text: 'Compute attention flow', attrs: { type: 'button', 'data-testid': 'flow-button' } });
  private readonly flowProgress = el('progress', { attrs: { max: '1', value: '0', 'aria-label': 'Attention flow progress', 'data-testid': 'flow-progress' } });
  private readonly flowNote = el('span', { className: 'muted', attrs: { 'data-testid': 'flow-note', 'aria-live': 'polite' } });
  flow: FlowOutput | null = null;
  private flowFor: BatchRun | null = null;
  private readonly hover: ChartHover;
  /** The rows drawn, for the read-out. */
  private shown: SentenceRows | null = null;

  constructor(
    private readonly index: number,
    private readonly requestFlow: FlowRequester,
    private readonly redraw: () => void,
    pick: TokenPicker,
  ) {
    this.flowProgress.hidden = true;
    this.scroller.append(this.canvas);
    this.hover = new ChartHover(
      this.canvas,
      'rollout-readout',
      'Hover over a cell (or focus the strips and use the arrow keys) for its exact value; click it (or press Enter) to make its word the focus word.',
      (i) => this.describeCell(i),
      () => this.shown?.tokens.length ?? 1,
      { radius: 0 },
      // A cell's column is its token (every row spans the sentence's tokens).
      (i) => pick(this.index, i % Math.max(1, this.shown?.tokens.length ?? 1)),
    );
    this.element = el('article', { className: 'card sentence-card', attrs: { 'data-sentence': String(index) } }, [
      this.title,
      this.summary,
      this.note,
      this.hover.readout.element,
      this.scroller,
      el('div', { className: 'row flow-row' }, [this.flowButton, this.flowProgress, this.flowNote]),
    ]);
    this.flowButton.addEventListener('click', () => void this.computeFlow());
  }

  /** "0.1234 · rollout · to layer 6: “apple” → “enterprise” (#5)": cell `index`, row by row. */
  private describeCell(index: number): string {
    const rows = this.shown;
    if (!rows) return '';
    const n = Math.max(1, rows.tokens.length);
    const row = rows.rows[Math.floor(index / n)];
    const key = index % n;
    if (!row) return '';
    return `${(row.values[key] ?? 0).toFixed(4)} · ${row.name}: “${rows.from[Math.floor(index / n)] ?? rows.word}” → “${rows.tokens[key] ?? ''}” (#${key + 1})`;
  }

  private async computeFlow(): Promise<void> {
    const asked = this.flowFor;
    this.flowButton.disabled = true;
    this.flowProgress.hidden = false;
    this.flowProgress.value = 0;
    this.flowNote.textContent = 'computing attention flow…';
    try {
      const flow = await this.requestFlow(this.index, (done, total) => {
        this.flowProgress.max = Math.max(1, total);
        this.flowProgress.value = done;
        this.flowNote.textContent = `computing attention flow: ${done} of ${total} tokens`;
      });
      if (this.flowFor !== asked) return;
      this.flow = flow;
      this.flowNote.textContent = 'attention flow: the share of each token in the focus word’s final vector, through every layer';
      this.redraw();
    } catch (e) {
      this.flowNote.textContent = `Could not compute attention flow: ${e instanceof Error ? e.message : String(e)}`;
    } finally {
      this.flowProgress.hidden = true;
      this.flowButton.disabled = this.flowDisabledReason() !== null;
    }
  }

  private flowDisabledReason(): string | null {
    const sentence = this.flowFor?.batch.sentences[this.index];
    if (!sentence) return 'no result yet';
    if (sentence.len > FLOW_MAX_TOKENS) return `attention flow needs ${FLOW_MAX_TOKENS} tokens or fewer (this sentence has ${sentence.len})`;
    return null;
  }

  /** Draws the card; `scale` gives, per row name, the top of the colour scale shared by all sentences. */
  update(options: RolloutOptions, rolloutLayer: number, width: number, scale: ReadonlyMap<string, number> | null): SentenceRows | null {
    const sentence: Encoding = options.output.batch.sentences[this.index]!;
    if (this.flowFor !== options.output) {
      this.flowFor = options.output;
      this.flow = null;
      const reason = this.flowDisabledReason();
      this.flowButton.disabled = reason !== null;
      this.flowNote.textContent = reason ?? '';
    }
    this.title.textContent = `${this.index + 1}. “${shorten(sentence.text, 160)}”`;
    const found = rolloutRows(options, this.index, rolloutLayer, this.flow);
    const rows = found && scale ? { ...found, rows: found.rows.map((r): StripRow => ({ ...r, max: scale.get(r.name) ?? Math.max(...r.values) })) } : found;
    this.shown = rows;
    const notes = [...(options.hideSpecial ? [HIDDEN_NOTE] : []), ...(scale ? [`${SHARED_NOTE} (per row)`] : [])];
    this.note.textContent = notes.length ? `Colours: ${notes.join('; ')}.` : '';
    this.note.hidden = notes.length === 0 || rows === null;
    this.hover.readout.element.hidden = rows === null;
    if (!rows) {
      const missing = findWord(sentence, options.focusWord, options.focusOccurrence).miss;
      const analysis = options.output.analysis;
      this.summary.textContent = isBlank(sentence)
        ? `Sentence ${this.index + 1} is empty.`
        : !analysis
          ? 'Rollout is not available for this result.'
          : analysis.rolloutError !== undefined
            ? `Rollout is not available: ${analysis.rolloutError}`
            : !analysis.rollouts
              ? 'computing rollout…'
              : (missing ?? '');
      this.scroller.hidden = true;
      return null;
    }
    this.scroller.hidden = false;
    const word = rows.word;
    this.summary.textContent = rows.rows.map((r, i) => `${r.name}: ${rows.from[i] ?? word} → ${topList(rows.tokens, r.values, 3, rows.focus, rows.hidden)}`).join(' · ');
    this.canvas.setAttribute(
      'aria-label',
      `Where “${word}” looks in sentence ${this.index + 1}. ` +
        rows.rows.map((r) => `${r.name}: ${rows.tokens.map((t, i) => `${t} ${(r.values[i] ?? 0).toFixed(3)}`).join(', ')}.`).join(' '),
    );
    this.hover.show(() => drawStrips(this.canvas, stripWidth(rows.tokens, width, stripNameWidth(rows.rows, options.theme)), rows.tokens, rows.rows, rows.focus, options.theme, rows.hidden), options.theme);
    return rows;
  }
}

/** The width inside `element`'s padding, in CSS pixels. */
function contentWidth(element: HTMLElement): number {
  const style = getComputedStyle(element);
  return element.clientWidth - parseFloat(style.paddingLeft) - parseFloat(style.paddingRight);
}

/** The rollout panel: a layer slider and one card per sentence. */
export class RolloutView {
  private cards: RolloutCard[] = [];
  private readonly slider: HTMLInputElement;
  private readonly sliderText = el('output', { attrs: { 'data-testid': 'rollout-layer-value' } });
  private readonly cardsBox = el('div', { className: 'cards' });
  private last: RolloutOptions | null = null;
  /** The numbers on screen, for export. */
  shown: SentenceRows[] = [];
  /** The layer rollout runs through on screen (0-based), for export. */
  layerShown = 0;

  /** `onLayer(layer)` runs when the slider picks the rollout layer (0-based), the owner updating the view with it; `pick` when a cell's word is chosen as the focus word. */
  constructor(
    private readonly container: HTMLElement,
    private readonly requestFlow: FlowRequester,
    private readonly onLayer: (layer: number) => void,
    private readonly pick: TokenPicker,
  ) {
    this.slider = el('input', { attrs: { type: 'range', min: '1', max: '1', value: '1', step: '1', 'data-testid': 'rollout-layer', 'aria-label': 'Rollout through layer' } });
    this.slider.addEventListener('input', () => this.onLayer(Number(this.slider.value) - 1));
    container.replaceChildren(
      el('label', { className: 'field small rollout-slider' }, [el('span', { text: 'Rollout through layer' }), this.slider, this.sliderText]),
      this.cardsBox,
    );
  }

  update(options: RolloutOptions): void {
    this.last = options;
    const [layers, heads] = options.output.attentionShape;
    // The slider's layer (the page's until it is moved), fitted to this run's model.
    const { layer } = resolveView({ layer: options.rolloutLayer ?? options.layer, head: options.head }, { layers, heads });
    this.slider.max = String(layers);
    this.slider.value = String(layer + 1);
    this.sliderText.textContent = `${layer + 1} of ${layers}`;
    this.layerShown = layer;
    const count = options.output.batch.sentences.length;
    while (this.cards.length < count) {
      this.cards.push(new RolloutCard(this.cards.length, this.requestFlow, () => this.last && this.update(this.last), this.pick));
    }
    this.cards.length = count;
    const elements = this.cards.map((c) => c.element);
    if (elements.some((e, i) => this.cardsBox.children[i] !== e) || this.cardsBox.children.length !== count) this.cardsBox.replaceChildren(...elements);
    // Each card's strips are as wide as its column (two side by side on wide screens) inside its padding.
    const fallback = Math.max(320, this.container.clientWidth - 40);
    const scale = options.sharedScale ? sharedRowScale(this.cards.map((card, i) => rolloutRows(options, i, layer, card.flow))) : null;
    this.shown = this.cards
      .map((card) => card.update(options, layer, card.element.clientWidth > 0 ? Math.max(240, contentWidth(card.element)) : fallback, scale))
      .filter((r): r is SentenceRows => r !== null);
  }
}
