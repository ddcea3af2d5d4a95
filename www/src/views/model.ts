/**
 * The model view: all layers × heads of one sentence as small heatmaps of the chosen measure (one
 * map per layer for measures without per-head values), each head's role as a badge, and the role
 * toggles and table under it. Clicking a cell (or moving to it with the arrow keys and pressing
 * Enter) selects that layer and head in the other views; clicking a layer's label, or a layer's
 * map, selects the layer and keeps the head choice.
 */
import { describeAttention, describeHead, type HeadChoice } from '../attention';
import { findWord } from '../words';
import { cellOrigin, drawGrid, hitGrid, layoutGrid, renderAtlas, type GridCell, type GridLayout } from '../draw/grid';
import { pixelRatio } from '../draw/canvas';
import { MEASURE_INFO, type Measure } from '../measure';
import { drawLegend } from '../draw/legend';
import { drawnMeasure, measuredMatrix } from '../mixing';
import { HIDDEN_NOTE, withoutSpecials } from '../specials';
import { el } from './dom';
import { gridMax, shownGrid } from './export-tensor';
import { HeadRolesPanel } from './head-roles';
import { SentenceFrame, type SentenceViewOptions } from './sentence-view';

/** What the model view shows (`sharedScale`: one colour scale for every map of every sentence). */
export type ModelOptions = SentenceViewOptions;

/** What the model view draws, for its exports. */
export interface ModelFigure {
  /** The caption above the grid. */
  caption: string;
  /** The sentence shown (0-based). */
  sentence: number;
  /** The measure drawn. */
  measure: Measure;
  /** The top of the one colour scale, or null when each map has its own. */
  scaleMax: number | null;
  layer: number;
  head: HeadChoice;
}

const TOP_IN_LABEL = 3;
const IDLE_READOUT = 'Click a head (or use the arrow keys and Enter here) to show it in the other views.';

/** The layers × heads grid with its read-out. */
export class ModelView {
  private readonly canvas: HTMLCanvasElement;
  private readonly frame: HTMLElement;
  private readonly sentenceFrame: SentenceFrame;
  private options: ModelOptions | null = null;
  private layout: GridLayout | null = null;
  private atlas: HTMLCanvasElement | null = null;
  private atlasKey: unknown[] = [];
  private hover: GridCell | null = null;
  private cursor: GridCell | null = null;
  /** The measure drawn; one map per layer when it has no per-head values. */
  private drawn: Measure = 'raw';
  private readonly roles: HeadRolesPanel;
  /** The colour bar of the one scale (hidden when each map has its own). */
  private readonly legend: HTMLCanvasElement;
  /** The top of the one colour scale, or null. */
  private scaleMax: number | null = null;
  private scaleMemo: { key: unknown[]; max: number } | null = null;

  /** `onSelect(layer, head)` runs when a cell or a layer label is chosen. */
  constructor(
    container: HTMLElement,
    private readonly onSelect: (layer: number, head: HeadChoice) => void,
  ) {
    this.canvas = el('canvas', {
      className: 'grid',
      attrs: { 'data-testid': 'model-view', role: 'img', tabindex: '0', 'aria-roledescription': 'grid of heads; arrow keys move, Enter selects' },
    });
    this.legend = el('canvas', { className: 'legend', attrs: { 'aria-hidden': 'true', 'data-testid': 'model-legend' } });
    this.legend.hidden = true;
    this.frame = el('div', { className: 'grid-frame' }, [this.canvas, this.legend]);
    this.sentenceFrame = new SentenceFrame(container, this.frame, { readoutId: 'model-readout', idle: IDLE_READOUT, live: true });
    this.roles = new HeadRolesPanel(() => this.draw());
    container.append(this.roles.element);
    this.canvas.addEventListener('mousemove', (e) => this.setHover(this.hitAt(e)));
    this.canvas.addEventListener('mouseleave', () => this.setHover(null));
    this.canvas.addEventListener('click', (e) => {
      const hit = this.hitAt(e);
      if (hit) this.select(hit);
    });
    this.canvas.addEventListener('keydown', (e) => this.key(e));
    this.canvas.addEventListener('focus', () => {
      const o = this.options;
      this.cursor = o ? { layer: o.layer, head: typeof o.head === 'number' && this.perHead() ? o.head : 0 } : null;
      this.draw();
      this.announceCursor();
    });
    this.canvas.addEventListener('blur', () => {
      this.cursor = null;
      this.draw();
    });
    new ResizeObserver(() => this.redraw()).observe(this.frame);
  }

  /** Shows `options`. */
  update(options: ModelOptions): void {
    const { output } = options;
    const [layers, heads] = output.attentionShape;
    this.drawn = drawnMeasure(output, options.measure);
    const info = MEASURE_INFO[this.drawn];
    const hide = options.hideSpecial === true;
    this.scaleMax = options.sharedScale ? this.sharedMax(output, hide) : null;
    const scaled = this.scaleMax === null ? 'scaled to its own maximum' : `all on one scale for every sentence (0 to ${this.scaleMax.toFixed(2)})`;
    const about =
      (this.drawn === 'raw'
        ? `${layers} layers × ${heads} heads; each map is one head (rows attend to columns), ${scaled}.`
        : info.perHead
          ? `${layers} layers × ${heads} heads; each map is one head’s ${info.label}, each row’s share (rows take from columns), ${scaled}.`
          : `${info.label}: ${layers} layers, one map per layer (it has no per-head values; rows take from columns), ${this.scaleMax === null ? 'each scaled to its own maximum' : scaled}.`) +
      (hide ? ` ${HIDDEN_NOTE}.` : '');
    const asked = output.batch.sentences[Math.min(options.sentence, output.batch.sentences.length - 1)];
    const word = asked ? findWord(asked, options.focusWord, options.focusOccurrence).word : null;
    const marks = word ? ` The marks left of each map show the ${word.end - word.start > 1 ? `rows of “${word.text}” (its ${word.end - word.start} pieces)` : `row of “${word.text}”`}.` : '';
    const { index, sentence, blank } = this.sentenceFrame.show(options, about + marks);
    this.options = { ...options, sentence: index };
    const analysis = output.analysis;
    this.roles.update(analysis?.headStats ?? null, output.batch.sentences.length, analysis?.headStatsError);
    this.roles.setGridOfHeads(info.perHead);
    if (blank) return;
    const chosen = measuredMatrix(output, index, options.layer, options.head, this.drawn);
    const described = hide ? withoutSpecials(chosen.values, chosen.n, sentence) : chosen.values;
    const maps = info.perHead ? `${layers} layers × ${heads} heads` : `${layers} layers (one map each)`;
    this.canvas.setAttribute(
      'aria-label',
      `Model view of sentence ${index + 1}: ${maps} as small heatmaps${this.drawn === 'raw' ? '' : ` of ${info.label}`}. ` +
        `Selected: ${info.perHead ? describeHead(options.layer, options.head, heads) : chosen.where}. ` +
        describeAttention(described, sentence, findWord(sentence, options.focusWord, options.focusOccurrence).word, TOP_IN_LABEL),
    );
    this.redraw();
  }

  /** Lays out and draws again (after being hidden, or a width change). */
  redraw(): void {
    const o = this.options;
    const width = this.frame.clientWidth;
    if (!o || width <= 0 || this.frame.hidden) return;
    const hide = o.hideSpecial === true;
    const [layers, heads] = o.output.attentionShape;
    this.layout = layoutGrid(layers, this.perHead() ? heads : 1, width);
    const size = Math.ceil(this.layout.cell * pixelRatio());
    const key = [o.output, o.sentence, size, this.drawn, hide, this.scaleMax];
    if (!this.atlas || key.some((k, i) => k !== this.atlasKey[i])) {
      const source = shownGrid(o.output, o.sentence, this.drawn, hide);
      this.atlas = renderAtlas(source.buffer, source.shape, source.len, size, this.scaleMax ?? undefined);
      this.atlasKey = key;
    }
    this.legend.hidden = this.scaleMax === null;
    if (this.scaleMax !== null) {
      const legendWidth = Math.max(160, Math.min(360, this.layout.width - this.layout.left));
      this.legend.style.marginLeft = `${this.layout.left}px`;
      drawLegend(this.legend, legendWidth, this.scaleMax, `${MEASURE_INFO[this.drawn].legend}, one scale`, o.theme);
    }
    const { left, top, cell, gap } = this.layout;
    Object.assign(this.canvas.dataset, { left: String(left), top: String(top), cell: String(cell), gap: String(gap) });
    this.draw();
  }

  /** The top of the one colour scale for every sentence of `output` (kept until the run, measure or switch changes). */
  private sharedMax(output: ModelOptions['output'], hide: boolean): number {
    const key = [output, this.drawn, hide];
    if (!this.scaleMemo || key.some((k, i) => k !== this.scaleMemo!.key[i])) this.scaleMemo = { key, max: gridMax(output, this.drawn, hide) };
    return this.scaleMemo.max;
  }

  /** What is drawn now (null before the first drawing or for an empty sentence), for the exports. */
  figure(): ModelFigure | null {
    const o = this.options;
    const sentence = o?.output.batch.sentences[o.sentence];
    if (!o || !sentence || sentence.text.trim() === '') return null;
    return { caption: this.sentenceFrame.captionText(), sentence: o.sentence, measure: this.drawn, scaleMax: this.scaleMax, layer: o.layer, head: o.head };
  }

  private draw(): void {
    const o = this.options;
    if (!o || !this.layout || !this.atlas) return;
    const perHead = this.perHead();
    const marks = {
      layer: o.layer,
      head: perHead ? o.head : 'mean',
      hover: this.hover,
      cursor: this.cursor,
      badges: perHead ? this.roles.badges() : null,
      highlighted: perHead && this.roles.role !== null ? (l: number, h: number) => this.roles.isHighlighted(l, h) : null,
      focusRows: this.focusRows(),
      split: this.split(),
    } as const;
    drawGrid(this.canvas, this.atlas, this.layout, marks, o.theme);
  }

  /** The focus word's pieces among the tokens each map draws, for the marks beside the maps. */
  private focusRows(): { start: number; end: number; len: number } | null {
    const o = this.options;
    const sentence = o?.output.batch.sentences[o.sentence];
    if (!o || !sentence) return null;
    const word = findWord(sentence, o.focusWord, o.focusOccurrence).word;
    return word ? { start: word.start, end: word.end, len: sentence.len } : null;
  }

  /** Where sentence B starts, if the sentence shown is a pair. */
  private split(): { at: number; len: number } | null {
    const sentence = this.options?.output.batch.sentences[this.options.sentence];
    const at = sentence?.sentence_b_start ?? null;
    return sentence && at !== null ? { at, len: sentence.len } : null;
  }

  /** Whether the grid has one map per head (else one per layer). */
  private perHead(): boolean {
    return MEASURE_INFO[this.drawn].perHead;
  }

  private hitAt(event: MouseEvent): GridCell | null {
    if (!this.layout) return null;
    const box = this.canvas.getBoundingClientRect();
    return hitGrid(this.layout, event.clientX - box.left, event.clientY - box.top);
  }

  private select(cell: GridCell): void {
    const o = this.options;
    if (!o) return;
    if (this.cursor && cell.head >= 0) this.cursor = { ...cell };
    this.onSelect(cell.layer, cell.head >= 0 && this.perHead() ? cell.head : o.head);
  }

  private setHover(cell: GridCell | null): void {
    if (cell?.layer === this.hover?.layer && cell?.head === this.hover?.head) return;
    this.hover = cell;
    this.canvas.style.cursor = cell ? 'pointer' : '';
    this.draw();
    this.sentenceFrame.readout.show(cell ? this.describe(cell) : null);
  }

  private describe(cell: GridCell): string {
    const o = this.options;
    if (!o) return '';
    if (cell.head < 0) return `Layer ${cell.layer + 1}: click to select it (keeping the head choice).`;
    const sentence = o.output.batch.sentences[o.sentence]!;
    const perHead = this.perHead();
    const m = measuredMatrix(o.output, o.sentence, cell.layer, perHead ? cell.head : 'mean', this.drawn);
    const values = o.hideSpecial ? withoutSpecials(m.values, m.n, sentence) : m.values;
    const role = perHead ? this.roles.badges()?.[cell.layer]?.[cell.head] : undefined;
    const name = perHead ? `Layer ${cell.layer + 1}, head ${cell.head + 1}` : `Layer ${cell.layer + 1} (${MEASURE_INFO[this.drawn].label})`;
    return `${name}: ${describeAttention(values, sentence, findWord(sentence, o.focusWord, o.focusOccurrence).word, 2)}${role ? ` Role: ${role}.` : ''}`;
  }

  private key(event: KeyboardEvent): void {
    const layout = this.layout;
    const cursor = this.cursor;
    if (!layout || !cursor) return;
    const moves: Record<string, [number, number]> = {
      ArrowUp: [-1, 0],
      ArrowDown: [1, 0],
      ArrowLeft: [0, -1],
      ArrowRight: [0, 1],
    };
    if (event.key === 'Enter' || event.key === ' ') {
      event.preventDefault();
      this.select(cursor);
      return;
    }
    const move = moves[event.key];
    if (!move) return;
    event.preventDefault();
    this.cursor = {
      layer: Math.max(0, Math.min(layout.layers - 1, cursor.layer + move[0])),
      head: Math.max(0, Math.min(layout.heads - 1, cursor.head + move[1])),
    };
    const [x] = cellOrigin(layout, this.cursor.layer, this.cursor.head);
    const frame = this.frame;
    if (x < frame.scrollLeft) frame.scrollLeft = x - layout.gap;
    else if (x + layout.cell > frame.scrollLeft + frame.clientWidth) frame.scrollLeft = x + layout.cell + layout.gap - frame.clientWidth;
    this.draw();
    this.announceCursor();
  }

  private announceCursor(): void {
    if (this.cursor) this.sentenceFrame.readout.show(`${this.describe(this.cursor)} Press Enter to select it.`);
  }
}
