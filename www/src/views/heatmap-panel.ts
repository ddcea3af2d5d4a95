/**
 * An interactive token×token heatmap: scrolls and zooms (labels keep their size), reads out the
 * exact value under the pointer, and reports clicks on a token's row, column or label. By
 * keyboard, the arrow keys (Home/End, PageUp/PageDown) move a cell cursor with the same read-out,
 * Enter makes the cursor's row the focus word, Escape hides the cursor.
 */
import { drawHeatmap, drawHeatmapHover, fitCell, hitHeatmap, layoutHeatmap, sameHit, type HeatmapHit, type HeatmapLayout, type HeatmapSpec, type Viewport } from '../draw/heatmap';
import { drawLegend } from '../draw/legend';
import type { Theme } from '../draw/colors';
import { el } from './dom';
import { Readout } from './readout';
import { ScrollStage } from './scroll';

/** What the panel shows. */
export interface HeatmapPanelData {
  spec: HeatmapSpec;
  /** Text alternative of the heatmap canvas. */
  label: string;
  /** The read-out for what the pointer is over. */
  describe: (hit: HeatmapHit) => string;
  legendCaption: string;
  theme: Theme;
}

/** Zoom factors applied to the fitted cell size; `ZOOMS[DEFAULT_ZOOM]` is 1. */
const ZOOMS = [0.25, 0.35, 0.5, 0.7, 1, 1.4, 2, 2.8, 4] as const;
const DEFAULT_ZOOM = 4;
const MIN_CELL = 3;
const MAX_CELL = 120;
const IDLE_READOUT = 'Hover over a cell, or use the arrow keys, for its value; click or press Enter to focus its word.';
/** Rows or columns PageUp/PageDown move the cursor by. */
const PAGE_STEP = 8;

/** One heatmap with its zoom buttons, read-out line and colour legend. */
export class HeatmapPanel {
  readonly element: HTMLElement;
  private readonly canvas: HTMLCanvasElement;
  private readonly overlay: HTMLCanvasElement;
  private readonly legend: HTMLCanvasElement;
  private readonly readout = new Readout('heatmap-readout', IDLE_READOUT, true);
  private readonly zoomLabel: HTMLElement;
  private readonly zoomIn: HTMLButtonElement;
  private readonly zoomOut: HTMLButtonElement;
  private readonly scroller: ScrollStage;
  private data: HeatmapPanelData | null = null;
  private layout: HeatmapLayout | null = null;
  private hit: HeatmapHit | null = null;
  /** The keyboard's cell cursor, kept across redraws of the same data. */
  private cursor: { row: number; col: number } | null = null;
  /** The viewport of the last drawing. */
  private view: Viewport = { x: 0, y: 0, width: 0, height: 0 };
  private zoom = DEFAULT_ZOOM;

  /** `onPick(token)` runs when a token is chosen; `onZoom(percent)` when the zoom buttons change the zoom. */
  constructor(
    testId: string,
    private readonly onPick: (index: number) => void,
    private readonly onZoom: (percent: number) => void = () => {},
  ) {
    this.canvas = el('canvas', { className: 'heatmap', attrs: { 'data-testid': testId, role: 'img' } });
    this.overlay = el('canvas', { className: 'heatmap-overlay', attrs: { 'aria-hidden': 'true' } });
    this.scroller = new ScrollStage(
      'Attention heatmap: arrow keys move a cell cursor, Enter focuses its row’s word',
      [this.canvas, this.overlay],
      () => this.redraw(false),
      () => this.redraw(true),
    );
    this.scroller.element.addEventListener('keydown', (e) => this.key(e));
    this.legend = el('canvas', { className: 'legend', attrs: { 'aria-hidden': 'true' } });
    this.zoomOut = el('button', { className: 'tool', text: '−', attrs: { type: 'button', 'aria-label': 'Zoom out', 'data-testid': 'zoom-out' } });
    this.zoomIn = el('button', { className: 'tool', text: '+', attrs: { type: 'button', 'aria-label': 'Zoom in', 'data-testid': 'zoom-in' } });
    this.zoomLabel = el('span', { className: 'zoom-level', attrs: { 'data-testid': 'zoom-level', 'aria-live': 'polite' } });
    this.zoomOut.addEventListener('click', () => this.setZoom(this.zoom - 1));
    this.zoomIn.addEventListener('click', () => this.setZoom(this.zoom + 1));
    const tools = el('div', { className: 'heatmap-tools' }, [
      this.readout.element,
      el('span', { className: 'zoom', attrs: { role: 'group', 'aria-label': 'Zoom' } }, [this.zoomOut, this.zoomLabel, this.zoomIn]),
    ]);
    this.element = el('div', { className: 'heatmap-panel' }, [tools, this.scroller.element, this.legend]);
    const stage = this.scroller.stage;
    stage.addEventListener('mousemove', (e) => this.hover(e));
    stage.addEventListener('mouseleave', () => this.setHit(null));
    stage.addEventListener('click', (e) => this.click(e));
    this.updateZoomButtons();
  }

  /** Shows new data (keeping zoom and scroll position). */
  update(data: HeatmapPanelData): void {
    this.data = data;
    this.canvas.setAttribute('aria-label', data.label);
    this.hit = null;
    this.readout.show(null);
    this.redraw(true);
    // A cursor still inside the new data stays where it was (a new layer or head of the same sentence).
    if (this.cursor && this.cursor.row < data.spec.rows && this.cursor.col < data.spec.cols) this.setHit({ kind: 'cell', ...this.cursor });
    else this.cursor = null;
  }

  /** Draws again; `relayout` also recomputes the cell size (new data, zoom or width). */
  redraw(relayout = false): void {
    const data = this.data;
    if (!data || !this.element.isConnected) return;
    if (relayout || !this.layout) {
      const width = this.scroller.availableWidth();
      if (width <= 0) return; // hidden: drawn when shown
      const cell = Math.max(MIN_CELL, Math.min(MAX_CELL, Math.round(fitCell(data.spec, width, data.theme) * ZOOMS[this.zoom]!)));
      this.layout = layoutHeatmap(data.spec, cell, data.theme);
      this.scroller.setContentSize(this.layout.width, this.layout.height);
      // Where the grid sits, for end-to-end tests that click labels and cells.
      Object.assign(this.canvas.dataset, { left: String(this.layout.left), top: String(this.layout.top), cell: String(cell) });
    }
    const layout = this.layout;
    const view = this.scroller.viewport();
    this.view = view;
    drawHeatmap(this.canvas, data.spec, layout, view, data.theme);
    drawHeatmapHover(this.overlay, data.spec, layout, view, data.theme, this.hit);
    const legendWidth = Math.max(120, Math.min(360, view.width - layout.left));
    this.legend.style.marginLeft = `${Math.min(layout.left, Math.max(0, view.width - legendWidth))}px`;
    drawLegend(this.legend, legendWidth, data.spec.scaleMax, data.legendCaption, data.theme);
  }

  /** Takes the zoom step nearest `percent` (of the fitted size), without telling the owner. */
  zoomTo(percent: number): void {
    let nearest = 0;
    ZOOMS.forEach((z, i) => {
      if (Math.abs(Math.log(z * 100) - Math.log(percent)) < Math.abs(Math.log(ZOOMS[nearest]! * 100) - Math.log(percent))) nearest = i;
    });
    this.setZoom(nearest, false);
  }

  private setZoom(zoom: number, tell = true): void {
    const next = Math.max(0, Math.min(ZOOMS.length - 1, zoom));
    if (next === this.zoom) return;
    const before = this.layout;
    const view = this.scroller.viewport();
    this.zoom = next;
    this.updateZoomButtons();
    this.redraw(true);
    const after = this.layout;
    if (before && after) {
      // Keep the cell at the centre of the view where it was.
      const ratio = after.cell / before.cell;
      const cx = view.width / 2;
      const cy = view.height / 2;
      const gx = (view.x + cx - before.left) * ratio + after.left;
      const gy = (view.y + cy - before.top) * ratio + after.top;
      this.scroller.anchor(gx, gy, cx, cy);
      this.redraw(false);
    }
    if (tell) this.onZoom(Math.round(ZOOMS[next]! * 100));
  }

  private updateZoomButtons(): void {
    this.zoomLabel.textContent = `${Math.round(ZOOMS[this.zoom]! * 100)}%`;
    this.zoomOut.disabled = this.zoom === 0;
    this.zoomIn.disabled = this.zoom === ZOOMS.length - 1;
  }

  private hitAt(event: MouseEvent): HeatmapHit | null {
    if (!this.data || !this.layout) return null;
    const box = this.scroller.stage.getBoundingClientRect();
    return hitHeatmap(this.data.spec, this.layout, this.view, event.clientX - box.left, event.clientY - box.top);
  }

  private hover(event: MouseEvent): void {
    const hit = this.hitAt(event);
    if (!sameHit(hit, this.hit)) this.setHit(hit);
  }

  private setHit(hit: HeatmapHit | null): void {
    this.hit = hit;
    const data = this.data;
    if (!data || !this.layout) return;
    drawHeatmapHover(this.overlay, data.spec, this.layout, this.view, data.theme, hit);
    this.readout.show(hit ? data.describe(hit) : null);
    this.scroller.stage.style.cursor = hit && hit.kind !== 'cell' ? 'pointer' : hit ? 'crosshair' : '';
  }

  /** Arrow keys, Home/End and PageUp/PageDown move the cell cursor; Enter focuses its row's word; Escape hides it. */
  private key(event: KeyboardEvent): void {
    const data = this.data;
    const layout = this.layout;
    if (!data || !layout) return;
    const { rows, cols } = data.spec;
    if (event.key === 'Escape' && this.cursor) {
      this.cursor = null;
      this.setHit(null);
      event.preventDefault();
      return;
    }
    if (event.key === 'Enter') {
      if (!this.cursor) return;
      if (!data.spec.maskedRows?.[this.cursor.row]) this.onPick(this.cursor.row);
      event.preventDefault();
      return;
    }
    const start = this.cursor ?? { row: data.spec.highlightRow ?? 0, col: 0 };
    const moves: Record<string, [number, number]> = {
      ArrowUp: [-1, 0],
      ArrowDown: [1, 0],
      ArrowLeft: [0, -1],
      ArrowRight: [0, 1],
      PageUp: [-PAGE_STEP, 0],
      PageDown: [PAGE_STEP, 0],
      Home: [0, -cols],
      End: [0, cols],
    };
    const move = moves[event.key];
    if (!move) return;
    event.preventDefault();
    // The first key shows the cursor where it starts; later keys move it.
    const [dr, dc] = this.cursor ? move : [0, 0];
    const cursor = { row: Math.max(0, Math.min(rows - 1, start.row + dr)), col: Math.max(0, Math.min(cols - 1, start.col + dc)) };
    this.cursor = cursor;
    this.scroller.revealRows(layout.top + cursor.row * layout.cell, layout.cell, layout.top);
    this.scroller.revealColumns(layout.left + cursor.col * layout.cell, layout.cell, layout.left);
    this.redraw(false);
    this.setHit({ kind: 'cell', ...cursor });
  }

  private click(event: MouseEvent): void {
    const hit = this.hitAt(event);
    if (!hit || !this.data) return;
    const index = hit.kind === 'col' ? hit.col : hit.row;
    const masked = hit.kind === 'col' ? this.data.spec.maskedCols?.[index] : this.data.spec.maskedRows?.[index];
    if (!masked) this.onPick(index);
  }
}
