/**
 * Hover and keyboard read-outs for a chart canvas (rollout strips, drift chart, token map): the item
 * under the pointer, or the one reached with the arrow keys, is outlined and described in a
 * `Readout`, as the focus heatmap does for its cells.
 */
import type { Theme } from '../draw/colors';
import { columnMarkAt, markAt, paintMarkHighlight, type ChartMark } from '../draw/painter';

/** How the pointer finds an item: the one under it or nearest within `radius` CSS pixels, or (a line chart) snapping to the nearest column's nearest point. */
export type HoverReach = { radius: number } | 'column';
import { Readout } from './readout';

/** Draws the whole chart (sizing its canvas) and returns where its items are. */
export type ChartPaint = () => ChartMark[];

export class ChartHover {
  readonly readout: Readout;
  private marks: ChartMark[] = [];
  private paint: ChartPaint | null = null;
  private theme: Theme | null = null;
  private current: number | null = null;

  /**
   * `describe(i)` says what item `i` is; `rowLength()` is how far Up/Down move (the items of one
   * line or row), 1 when the items have no rows; `pick(i)`, if given, runs when item `i` is clicked
   * or Enter is pressed on it (the strips and the token map make its word the focus word).
   */
  constructor(
    private readonly canvas: HTMLCanvasElement,
    testId: string,
    idle: string,
    private readonly describe: (index: number) => string,
    private readonly rowLength: () => number = () => 1,
    private readonly reach: HoverReach = { radius: 8 },
    private readonly pick?: (index: number) => void,
  ) {
    this.readout = new Readout(testId, idle, true);
    canvas.tabIndex = 0;
    canvas.setAttribute('aria-roledescription', 'chart; arrow keys read out its values');
    canvas.addEventListener('mousemove', (event) => {
      const hit = this.hitAt(event);
      if (hit !== this.current) this.set(hit);
    });
    canvas.addEventListener('click', (event) => {
      const hit = this.hitAt(event);
      if (hit !== null) this.pick?.(hit);
    });
    canvas.addEventListener('mouseleave', () => this.set(null));
    canvas.addEventListener('focus', () => this.set(this.current ?? (this.marks.length ? 0 : null)));
    canvas.addEventListener('blur', () => this.set(null));
    canvas.addEventListener('keydown', (event) => this.key(event));
  }

  /** The item under (or, see `HoverReach`, nearest) the pointer of `event`, or null. */
  private hitAt(event: MouseEvent): number | null {
    const box = this.canvas.getBoundingClientRect();
    const [x, y] = [event.clientX - box.left, event.clientY - box.top];
    return this.reach === 'column' ? columnMarkAt(this.marks, x, y) : markAt(this.marks, x, y, this.reach.radius);
  }

  /** Draws new content with `paint` (forgetting the item read out, which may no longer exist). */
  show(paint: ChartPaint, theme: Theme): void {
    this.paint = paint;
    this.theme = theme;
    this.current = null;
    this.readout.show(null);
    this.repaint();
  }

  private repaint(): void {
    if (!this.paint) return;
    this.marks = this.paint();
    // Where the items are, for end-to-end tests that hover them (CSS pixels: x,y,w,h;…).
    this.canvas.dataset['marks'] = this.marks.map((m) => [m.x, m.y, m.w, m.h].map((v) => Math.round(v * 10) / 10).join(',')).join(';');
    const mark = this.current === null ? undefined : this.marks[this.current];
    const ctx = this.canvas.getContext('2d');
    if (mark && ctx && this.theme) paintMarkHighlight(ctx, mark, this.theme);
  }

  private set(index: number | null): void {
    const valid = index !== null && index >= 0 && index < this.marks.length ? index : null;
    if (valid === this.current) return;
    this.current = valid;
    this.canvas.style.cursor = valid === null ? '' : this.pick ? 'pointer' : 'crosshair';
    this.repaint();
    this.readout.show(valid === null ? null : this.describe(valid));
  }

  private key(event: KeyboardEvent): void {
    const last = this.marks.length - 1;
    if (last < 0) return;
    const at = this.current ?? 0;
    const row = Math.max(1, this.rowLength());
    const moves: Record<string, number> = {
      ArrowLeft: at - 1,
      ArrowRight: at + 1,
      ArrowUp: at - row,
      ArrowDown: at + row,
      Home: 0,
      End: last,
    };
    if (event.key === 'Escape') {
      this.set(null);
      return;
    }
    if (event.key === 'Enter' && this.pick) {
      if (this.current !== null) this.pick(this.current);
      event.preventDefault();
      return;
    }
    const next = moves[event.key];
    if (next === undefined) return;
    event.preventDefault();
    this.set(Math.max(0, Math.min(last, next)));
  }
}
