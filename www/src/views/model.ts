/**
 * The model view: all layers × heads of one sentence as small heatmaps. Clicking a cell (or moving
 * to it with the arrow keys and pressing Enter) selects that layer and head in the other views;
 * clicking a layer's label selects the layer and keeps the head choice.
 */
import { describeAttention, describeHead, headMatrix, type HeadChoice } from '../attention';
import { cellOrigin, drawGrid, hitGrid, layoutGrid, renderAtlas, type GridCell, type GridLayout } from '../draw/grid';
import { pixelRatio } from '../draw/canvas';
import { el } from './dom';
import { SentenceFrame, type SentenceViewOptions } from './sentence-view';

/** What the model view shows. */
export type ModelOptions = SentenceViewOptions;

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

  /** `onSelect(layer, head)` runs when a cell or a layer label is chosen. */
  constructor(
    container: HTMLElement,
    private readonly onSelect: (layer: number, head: HeadChoice) => void,
  ) {
    this.canvas = el('canvas', {
      className: 'grid',
      attrs: { 'data-testid': 'model-view', role: 'img', tabindex: '0', 'aria-roledescription': 'grid of heads; arrow keys move, Enter selects' },
    });
    this.frame = el('div', { className: 'grid-frame' }, [this.canvas]);
    this.sentenceFrame = new SentenceFrame(container, this.frame, { readoutId: 'model-readout', idle: IDLE_READOUT, live: true });
    this.canvas.addEventListener('mousemove', (e) => this.setHover(this.hitAt(e)));
    this.canvas.addEventListener('mouseleave', () => this.setHover(null));
    this.canvas.addEventListener('click', (e) => {
      const hit = this.hitAt(e);
      if (hit) this.select(hit);
    });
    this.canvas.addEventListener('keydown', (e) => this.key(e));
    this.canvas.addEventListener('focus', () => {
      const o = this.options;
      this.cursor = o ? { layer: o.layer, head: typeof o.head === 'number' ? o.head : 0 } : null;
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
    const { index, sentence, blank } = this.sentenceFrame.show(
      options,
      `${layers} layers × ${heads} heads; each map is one head (rows attend to columns), scaled to its own maximum.`,
    );
    this.options = { ...options, sentence: index };
    if (blank) return;
    const chosen = headMatrix(output.attentions[index]!, output.attentionShape, options.layer, options.head);
    this.canvas.setAttribute(
      'aria-label',
      `Model view of sentence ${index + 1}: ${layers} layers × ${heads} heads as small heatmaps. ` +
        `Selected: ${describeHead(options.layer, options.head, heads)}. ` +
        describeAttention(chosen, sentence, options.focusWord, TOP_IN_LABEL),
    );
    this.redraw();
  }

  /** Lays out and draws again (after being hidden, or a width change). */
  redraw(): void {
    const o = this.options;
    const width = this.frame.clientWidth;
    if (!o || width <= 0 || this.frame.hidden) return;
    const [layers, heads] = o.output.attentionShape;
    this.layout = layoutGrid(layers, heads, width);
    const size = Math.ceil(this.layout.cell * pixelRatio());
    const sentence = o.output.batch.sentences[o.sentence]!;
    const key = [o.output, o.sentence, size];
    if (!this.atlas || key.some((k, i) => k !== this.atlasKey[i])) {
      this.atlas = renderAtlas(o.output.attentions[o.sentence]!, o.output.attentionShape, sentence.len, size);
      this.atlasKey = key;
    }
    const { left, top, cell, gap } = this.layout;
    Object.assign(this.canvas.dataset, { left: String(left), top: String(top), cell: String(cell), gap: String(gap) });
    this.draw();
  }

  private draw(): void {
    const o = this.options;
    if (!o || !this.layout || !this.atlas) return;
    drawGrid(this.canvas, this.atlas, this.layout, { layer: o.layer, head: o.head, hover: this.hover, cursor: this.cursor }, o.theme);
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
    this.onSelect(cell.layer, cell.head >= 0 ? cell.head : o.head);
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
    const matrix = headMatrix(o.output.attentions[o.sentence]!, o.output.attentionShape, cell.layer, cell.head);
    return `Layer ${cell.layer + 1}, head ${cell.head + 1}: ${describeAttention(matrix, sentence, o.focusWord, 2)}`;
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
