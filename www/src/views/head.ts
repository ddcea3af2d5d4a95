/**
 * The head view (after bertviz): one sentence's tokens in two columns with a line from each query
 * to each key per head, opacity = weight (raw attention, or each row's share of attention × value
 * norm), colour = head. Head chips toggle heads; hovering a token (or moving to it with the arrow
 * keys) isolates its lines; clicking it makes it the focus word. Measures without per-head values
 * (ALTI) draw one set of lines for the layer, and say so.
 */
import { describeAttention } from '../attention';
import { findWord } from '../words';
import { headColour, type Theme } from '../draw/colors';
import { drawLines, hitLines, layoutLines, type LinesHit, type LinesLayout, type LinesSpec } from '../draw/lines';
import type { Viewport } from '../draw/heatmap';
import type { Encoding } from '../engine/protocol';
import { MEASURE_INFO } from '../measure';
import { measuredMatrix } from '../mixing';
import { HIDDEN_NOTE, withoutSpecials } from '../specials';
import { shownHeads } from './export-tensor';
import { activeElementOf, el } from './dom';
import { ScrollStage } from './scroll';
import { SentenceFrame, type SentenceViewOptions } from './sentence-view';

/** What the head view shows (line opacity is the weight itself: one scale for every sentence already), and the heads drawn (0-based; null or absent: those the head choice implies). */
export type HeadOptions = SentenceViewOptions & { heads?: number[] | null };

/** What the head view draws, for its exports. */
export interface HeadFigure {
  /** The caption above the figure ("Sentence 1: “…” · layer 6, …"). */
  caption: string;
  spec: LinesSpec;
  /** The sentence shown (0-based). */
  sentence: number;
  /** Whether the lines are of the whole layer (a measure without per-head values). */
  wholeLayer: boolean;
}

/** How many strongest links the read-out names. */
const TOP_IN_READOUT = 3;
const IDLE_READOUT = 'Hover over a token (or use ↑/↓ here) to isolate its lines; click a token to make it the focus word.';

/** The two-column line drawing with its head chips and read-out. */
export class HeadView {
  private readonly canvas: HTMLCanvasElement;
  private readonly scroller: ScrollStage;
  private readonly chips: HTMLElement;
  private readonly sentenceFrame: SentenceFrame;
  private options: HeadOptions | null = null;
  private sentence: Encoding | null = null;
  private spec: LinesSpec | null = null;
  private layout: LinesLayout | null = null;
  private view: Viewport = { x: 0, y: 0, width: 0, height: 0 };
  private visible: boolean[] = [];
  /** The aggregation `visible` was last reset for. */
  private visibleFor: string = '';
  /** Whether the lines are of the whole layer (a measure without per-head values). */
  private wholeLayer = false;
  private hover: LinesHit | null = null;
  /** Token picked with the keyboard; isolates like hovering. */
  private pinned: LinesHit | null = null;

  /**
   * `onPick(sentence, token)` runs when a token is clicked; `onHeads(heads)` when the chips change
   * which heads are drawn (the owner then updates the view with them; without it the view keeps them).
   */
  constructor(
    container: HTMLElement,
    private readonly onPick: (sentence: number, token: number) => void,
    private readonly onHeads?: (heads: number[]) => void,
  ) {
    this.canvas = el('canvas', { className: 'lines', attrs: { 'data-testid': 'head-view', role: 'img' } });
    this.scroller = new ScrollStage(
      'Head view (↑/↓ isolate a query token, Escape shows all)',
      [this.canvas],
      () => this.draw(),
      () => this.redraw(),
    );
    this.chips = el('div', { className: 'head-chips', attrs: { role: 'group', 'aria-label': 'Heads shown' } });
    this.sentenceFrame = new SentenceFrame(container, this.scroller.element, { readoutId: 'head-readout', idle: IDLE_READOUT, above: [this.chips] });
    const stage = this.scroller.stage;
    stage.addEventListener('mousemove', (e) => this.setHover(this.hitAt(e)));
    stage.addEventListener('mouseleave', () => this.setHover(null));
    stage.addEventListener('click', (e) => {
      const hit = this.hitAt(e);
      if (hit && this.options) this.onPick(this.options.sentence, hit.index);
    });
    this.scroller.element.addEventListener('keydown', (e) => this.key(e));
  }

  /** Shows `options` (keeping the head toggles unless the head choice changed). */
  update(options: HeadOptions): void {
    const { output, layer, head } = options;
    const heads = output.attentionShape[1];
    const index = Math.min(options.sentence, output.batch.sentences.length - 1);
    const chosen = measuredMatrix(output, index, layer, head, options.measure);
    const info = MEASURE_INFO[chosen.measure];
    const hide = options.hideSpecial === true;
    const about =
      (chosen.measure === 'raw' ? chosen.where : `${info.label}${chosen.measure === 'norm' ? ' (each row’s share)' : ''}: ${chosen.where}`) +
      (hide ? ` · ${HIDDEN_NOTE}` : '');
    const { sentence, blank } = this.sentenceFrame.show(options, about);
    this.options = { ...options, sentence: index };
    const changedSentence = this.sentence?.text !== sentence.text;
    this.sentence = sentence;
    this.wholeLayer = !info.perHead;
    const cells = this.wholeLayer ? 1 : heads;
    const key = `${cells}:${head}`;
    const asked = options.heads;
    if (asked && !this.wholeLayer) {
      this.visibleFor = key;
      this.visible = Array.from({ length: cells }, (_, h) => asked.includes(h));
    } else if (key !== this.visibleFor) {
      this.visibleFor = key;
      this.visible = Array.from({ length: cells }, (_, h) => this.wholeLayer || typeof head !== 'number' || h === head);
    }
    if (changedSentence) this.pinned = null;
    if (this.wholeLayer) this.renderLayerNote(info.label, layer);
    else this.renderChips(heads, options.theme);
    if (blank) return;
    const matrices = shownHeads(output, index, layer, chosen.measure, hide);
    const described = hide ? withoutSpecials(chosen.values, chosen.n, sentence) : chosen.values;
    const shown = this.visible.filter(Boolean).length;
    const what = chosen.measure === 'raw' ? 'it attends to' : `it takes from (${info.label})`;
    const focus = findWord(sentence, options.focusWord, options.focusOccurrence).word;
    this.canvas.setAttribute(
      'aria-label',
      (this.wholeLayer
        ? `Head view of sentence ${index + 1}, ${chosen.where}: lines join each query token (left) to the key tokens (right) ${what}. `
        : `Head view of sentence ${index + 1}, layer ${layer + 1}, ${shown} of ${heads} heads shown: lines join each query token ` +
          `(left) to the key tokens (right) ${what}, one colour per head. `) + describeAttention(described, sentence, focus, TOP_IN_READOUT),
    );
    this.spec = {
      tokens: sentence.tokens.slice(0, sentence.len),
      heads: matrices,
      visible: this.visible,
      colours: matrices.map((_, h) => headColour(options.theme, h)),
      focus,
      isolate: null,
      splitAt: sentence.sentence_b_start,
    };
    this.layout = null;
    this.redraw();
    this.updateReadout();
  }

  /** What is drawn now (null before the first drawing or for an empty sentence), for the exports. */
  figure(): HeadFigure | null {
    const o = this.options;
    const spec = this.spec;
    if (!o || !spec || !this.sentence || this.sentence.text.trim() === '') return null;
    return { caption: this.sentenceFrame.captionText(), spec: { ...spec, isolate: null }, sentence: o.sentence, wholeLayer: this.wholeLayer };
  }

  /** Lays out and draws again (after being hidden, or a width change). */
  redraw(): void {
    if (!this.spec || !this.options) return;
    const width = this.scroller.availableWidth();
    if (width <= 0) return;
    this.layout = layoutLines(this.spec.tokens, width, this.options.theme);
    const { top, rowHeight, leftX, rightX } = this.layout;
    Object.assign(this.canvas.dataset, { top: String(top), rowHeight: String(rowHeight), leftX: String(leftX), rightX: String(rightX) });
    this.scroller.setContentSize(this.layout.width, this.layout.height);
    this.draw();
  }

  private draw(): void {
    if (!this.spec || !this.layout || !this.options) return;
    this.view = this.scroller.viewport();
    this.spec.isolate = this.hover ?? this.pinned;
    drawLines(this.canvas, this.spec, this.layout, this.view, this.options.theme);
  }

  /** In place of the head chips: why there is one set of lines. */
  private renderLayerNote(label: string, layer: number): void {
    this.chips.replaceChildren(
      el('p', { className: 'note', text: `${label} has no per-head values: the lines show layer ${layer + 1} as a whole.`, attrs: { 'data-testid': 'head-layer-note' } }),
    );
  }

  private renderChips(heads: number, theme: Theme): void {
    const chips = this.visible.map((on, h) => {
      const chip = el(
        'button',
        { className: 'head-chip', attrs: { type: 'button', 'aria-pressed': String(on), 'data-testid': 'head-chip', 'data-head': String(h), title: `Show or hide head ${h + 1}` } },
        [el('span', { className: 'swatch', attrs: { 'aria-hidden': 'true' } }), el('span', { text: `${h + 1}`, attrs: { 'aria-label': `Head ${h + 1}` } })],
      );
      chip.style.setProperty('--chip-colour', headColour(theme, h));
      chip.addEventListener('click', () => this.setVisible(this.visible.map((v, i) => (i === h ? !v : v))));
      return chip;
    });
    const all = el('button', { className: 'tool text-tool', text: 'All', attrs: { type: 'button', 'data-testid': 'heads-all' } });
    const none = el('button', { className: 'tool text-tool', text: 'None', attrs: { type: 'button', 'data-testid': 'heads-none' } });
    all.addEventListener('click', () => this.setVisible(Array.from({ length: heads }, () => true)));
    none.addEventListener('click', () => this.setVisible(Array.from({ length: heads }, () => false)));
    this.chips.replaceChildren(el('span', { className: 'chips-label', text: 'Heads' }), ...chips, all, none);
  }

  private setVisible(visible: boolean[]): void {
    const active = activeElementOf(this.chips);
    const focused = active instanceof HTMLElement ? active.dataset['head'] ?? active.dataset['testid'] : undefined;
    this.visible = visible;
    if (this.onHeads) this.onHeads(visible.flatMap((on, h) => (on ? [h] : [])));
    else if (this.options) this.update(this.options);
    // Keep keyboard focus on the chip that was pressed (the chips were rebuilt).
    if (focused !== undefined) this.chips.querySelector<HTMLElement>(`[data-head="${focused}"], [data-testid="${focused}"]`)?.focus();
  }

  private hitAt(event: MouseEvent): LinesHit | null {
    if (!this.layout) return null;
    const box = this.scroller.stage.getBoundingClientRect();
    return hitLines(this.layout, this.view, event.clientX - box.left + this.view.x, event.clientY - box.top);
  }

  private setHover(hit: LinesHit | null): void {
    if (hit?.side === this.hover?.side && hit?.index === this.hover?.index) return;
    this.hover = hit;
    this.scroller.stage.style.cursor = hit ? 'pointer' : '';
    this.draw();
    this.updateReadout();
  }

  private key(event: KeyboardEvent): void {
    if (!this.layout || !this.spec) return;
    const count = this.spec.tokens.length;
    const at = this.pinned?.index ?? -1;
    let next: number | null;
    if (event.key === 'ArrowDown') next = Math.min(count - 1, at + 1);
    else if (event.key === 'ArrowUp') next = Math.max(0, at - 1);
    else if (event.key === 'Escape') next = null;
    else if (event.key === 'Enter' && this.pinned && this.options) {
      this.onPick(this.options.sentence, this.pinned.index);
      return;
    } else return;
    event.preventDefault();
    this.pinned = next === null ? null : { side: 'query', index: next };
    if (next !== null) this.scroller.revealRows(this.layout.top + next * this.layout.rowHeight, this.layout.rowHeight, this.layout.top);
    this.draw();
    this.updateReadout();
  }

  /** Names the tokens most strongly linked to the isolated one (each with its strongest shown head). */
  private updateReadout(): void {
    const iso = this.hover ?? this.pinned;
    const spec = this.spec;
    if (!iso || !spec) {
      this.sentenceFrame.readout.show(null);
      return;
    }
    const len = spec.tokens.length;
    const links: { other: number; token: string; head: number; weight: number }[] = [];
    spec.heads.forEach((m, h) => {
      if (!spec.visible[h]) return;
      for (let j = 0; j < len; j++) {
        const weight = iso.side === 'query' ? m[iso.index * len + j]! : m[j * len + iso.index]!;
        links.push({ other: j, token: spec.tokens[j] ?? '', head: h, weight });
      }
    });
    links.sort((a, b) => b.weight - a.weight);
    const seen = new Set<number>();
    const strongest = links.filter((l) => !seen.has(l.other) && seen.add(l.other));
    const token = spec.tokens[iso.index] ?? '';
    const top = strongest
      .slice(0, TOP_IN_READOUT)
      .map((l) => `${l.token} ${l.weight.toFixed(2)}${this.wholeLayer ? '' : ` (head ${l.head + 1})`}`)
      .join(', ');
    this.sentenceFrame.readout.show(
      !top
        ? `No head is shown: pick one above.`
        : iso.side === 'query'
          ? `“${token}” (query) looks most at ${top}. Click to make it the focus word.`
          : `“${token}” (key) is looked at most by ${top}. Click to make it the focus word.`,
    );
  }
}
