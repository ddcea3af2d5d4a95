/**
 * Canvas heatmap of a rows×cols grid in viridis, drawn one viewport at a time so a 512×512 grid
 * stays sharp and cheap: the row labels (left) and column labels (top) stay put while the cells
 * scroll under them. A second canvas carries the hover highlight, so hovering redraws only that.
 */
import { prepareCanvas, shorten } from './canvas';
import { rgbOf, viridis, type Rgb, type Theme } from './colors';
import type { Painter } from './painter';

/** What to draw. */
export interface HeatmapSpec {
  /** Row-major values, `rows * cols` of them. */
  values: Float32Array;
  rows: number;
  cols: number;
  rowLabels: readonly string[];
  colLabels: readonly string[];
  /** Rows or columns drawn as hatched grey (padding) instead of by value. */
  maskedRows?: readonly boolean[];
  maskedCols?: readonly boolean[];
  /** The first row to outline (the focus word's first piece). */
  highlightRow?: number;
  /** How many rows from `highlightRow` to outline (the focus word's pieces); 1 when absent. */
  highlightRows?: number;
  /** Value drawn in the top colour of the scale (values are clamped to [0, scaleMax]). */
  scaleMax: number;
  /** Where sentence B of a pair starts: a gap is drawn before that row and that column. */
  splitAt?: number;
}

/** Where everything sits, in CSS pixels of the whole (unscrolled) heatmap. */
export interface HeatmapLayout {
  cell: number;
  /** Width of the row-label band and height of the column-label band. */
  left: number;
  top: number;
  /** Size of the whole heatmap, labels included. */
  width: number;
  height: number;
  /** Every `labelStep`-th label is drawn, so labels never overlap however small the cells. */
  labelStep: number;
  rowLabels: string[];
  colLabels: string[];
}

/** The visible part: scroll offsets and size, in CSS pixels. */
export interface Viewport {
  x: number;
  y: number;
  width: number;
  height: number;
}

/** What a point of the heatmap is over. */
export type HeatmapHit = { kind: 'cell'; row: number; col: number } | { kind: 'row'; row: number } | { kind: 'col'; col: number };

/** Smallest cell at which every label still fits beside its neighbour. */
export const READABLE_CELL = 15;
/** Largest cell the fitted size grows to. */
export const FIT_MAX_CELL = 44;
/** Space between a label and the grid, in CSS pixels. */
export const LABEL_GAP = 6;
const LABEL_MAX_CHARS = 14;
/** Least distance between two drawn labels, in CSS pixels. */
const LABEL_PITCH = 13;
/** Distance between the hatching lines of padding cells, in CSS pixels. */
export const HATCH_SPACING = 5;
const END_PAD = 4;

let measurer: CanvasRenderingContext2D | null = null;

function textWidth(labels: readonly string[], font: string): number {
  measurer ??= document.createElement('canvas').getContext('2d');
  if (!measurer) return labels.reduce((w, l) => Math.max(w, l.length * 7), 0);
  measurer.font = font;
  let widest = 0;
  for (const label of new Set(labels)) widest = Math.max(widest, measurer.measureText(label).width);
  return widest;
}

/** Lays out `spec` with square cells of `cell` CSS pixels. */
export function layoutHeatmap(spec: HeatmapSpec, cell: number, theme: Theme): HeatmapLayout {
  const rowLabels = spec.rowLabels.map((l) => shorten(l, LABEL_MAX_CHARS));
  const colLabels = spec.colLabels.map((l) => shorten(l, LABEL_MAX_CHARS));
  const left = Math.ceil(textWidth(rowLabels, theme.boldFont)) + LABEL_GAP * 2;
  const top = Math.ceil(textWidth(colLabels, theme.boldFont)) + LABEL_GAP * 2;
  return {
    cell,
    left,
    top,
    width: left + cell * spec.cols + END_PAD,
    height: top + cell * spec.rows + END_PAD,
    labelStep: Math.max(1, Math.ceil(LABEL_PITCH / cell)),
    rowLabels,
    colLabels,
  };
}

/** The cell size that fits `cols` columns into `width` CSS pixels, kept readable and not huge. */
export function fitCell(spec: HeatmapSpec, width: number, theme: Theme): number {
  const left = layoutHeatmap({ ...spec, rows: 0, cols: 0, colLabels: [] }, 1, theme).left;
  const fit = Math.floor((width - left - END_PAD) / Math.max(1, spec.cols));
  return Math.max(READABLE_CELL, Math.min(FIT_MAX_CELL, fit));
}

/** Which row, column or cell the viewport point (`x`, `y`) is over, if any. */
export function hitHeatmap(spec: HeatmapSpec, layout: HeatmapLayout, view: Viewport, x: number, y: number): HeatmapHit | null {
  const { cell, left, top } = layout;
  const col = Math.floor((x - left + view.x) / cell);
  const row = Math.floor((y - top + view.y) / cell);
  const inCols = x >= left && col >= 0 && col < spec.cols;
  const inRows = y >= top && row >= 0 && row < spec.rows;
  if (inCols && inRows) return { kind: 'cell', row, col };
  if (x < left && inRows) return { kind: 'row', row };
  if (y < top && inCols) return { kind: 'col', col };
  return null;
}

/** The range of indices `[first, end)` of cells of size `cell` visible in `[offset, offset + size)`. */
function visibleRange(offset: number, size: number, cell: number, count: number): [number, number] {
  return [Math.max(0, Math.floor(offset / cell)), Math.min(count, Math.ceil((offset + size) / cell))];
}

/** Draws the visible part of the heatmap into `canvas`, sized to the viewport. */
export function drawHeatmap(canvas: HTMLCanvasElement, spec: HeatmapSpec, layout: HeatmapLayout, view: Viewport, theme: Theme): void {
  const ctx = prepareCanvas(canvas, view.width, view.height);
  if (!ctx) return;
  const { cell, left, top } = layout;
  const { cols } = spec;
  ctx.fillStyle = theme.surface;
  ctx.fillRect(0, 0, view.width, view.height);
  const [r0, r1] = visibleRange(view.y, view.height - top, cell, spec.rows);
  const [c0, c1] = visibleRange(view.x, view.width - left, cell, spec.cols);
  const x = (c: number): number => left + c * cell - view.x;
  const y = (r: number): number => top + r * cell - view.y;

  ctx.save();
  ctx.beginPath();
  ctx.rect(left, top, view.width - left, view.height - top);
  ctx.clip();
  if (r1 > r0 && c1 > c0) {
    // One pixel per visible cell, scaled up without smoothing: cheap however many cells show.
    const cells = cellImage(spec, [r0, r1], [c0, c1], rgbOf(theme.mask));
    ctx.imageSmoothingEnabled = false;
    ctx.drawImage(cells, 0, 0, c1 - c0, r1 - r0, x(c0), y(r0), (c1 - c0) * cell, (r1 - r0) * cell);
  }
  hatchMasked(ctx, spec, [r0, r1], [c0, c1], x, y, cell, theme);
  if (spec.splitAt !== undefined && spec.splitAt > 0) {
    ctx.strokeStyle = theme.surface;
    ctx.lineWidth = 2;
    ctx.beginPath();
    ctx.moveTo(x(spec.splitAt), top);
    ctx.lineTo(x(spec.splitAt), Math.min(view.height, y(spec.rows)));
    ctx.moveTo(left, y(spec.splitAt));
    ctx.lineTo(Math.min(view.width, x(cols)), y(spec.splitAt));
    ctx.stroke();
  }
  const focus = spec.highlightRow;
  const span = spec.highlightRows ?? 1;
  if (focus !== undefined && focus + span > r0 && focus < r1) {
    ctx.strokeStyle = theme.highlight;
    ctx.lineWidth = 2;
    ctx.strokeRect(left, y(focus) - 1, Math.min(view.width - left, x(cols) - left) + 1, span * cell + 2);
  }
  ctx.restore();

  ctx.font = theme.font;
  ctx.textBaseline = 'middle';
  ctx.save();
  ctx.beginPath();
  ctx.rect(0, top, left, view.height - top);
  ctx.clip();
  paintLabels(ctx, spec, layout, theme, 'rows', y, [r0, r1]);
  ctx.restore();
  ctx.save();
  ctx.beginPath();
  ctx.rect(left, 0, view.width - left, top);
  ctx.clip();
  paintLabels(ctx, spec, layout, theme, 'cols', x, [c0, c1]);
  ctx.restore();
}

let cellCanvas: HTMLCanvasElement | null = null;

/** The cells of rows `[r0, r1)` and columns `[c0, c1)` as an image, one pixel each (top-left of a shared canvas). */
function cellImage(spec: HeatmapSpec, [r0, r1]: [number, number], [c0, c1]: [number, number], mask: Rgb): HTMLCanvasElement {
  const w = c1 - c0;
  const h = r1 - r0;
  cellCanvas ??= document.createElement('canvas');
  if (cellCanvas.width < w || cellCanvas.height < h) {
    cellCanvas.width = Math.max(cellCanvas.width, w);
    cellCanvas.height = Math.max(cellCanvas.height, h);
  }
  const ctx = cellCanvas.getContext('2d');
  if (!ctx) return cellCanvas;
  const image = ctx.createImageData(w, h);
  const data = image.data;
  const scale = spec.scaleMax > 0 ? 1 / spec.scaleMax : 1;
  let i = 0;
  for (let r = r0; r < r1; r++) {
    const rowMasked = spec.maskedRows?.[r] ?? false;
    const base = r * spec.cols;
    for (let c = c0; c < c1; c++) {
      const rgb = rowMasked || spec.maskedCols?.[c] ? mask : viridis((spec.values[base + c] ?? 0) * scale);
      data[i] = rgb[0];
      data[i + 1] = rgb[1];
      data[i + 2] = rgb[2];
      data[i + 3] = 255;
      i += 4;
    }
  }
  ctx.putImageData(image, 0, 0);
  return cellCanvas;
}

/** Grey diagonal lines over the visible masked cells. */
function hatchMasked(
  ctx: CanvasRenderingContext2D,
  spec: HeatmapSpec,
  [r0, r1]: [number, number],
  [c0, c1]: [number, number],
  x: (c: number) => number,
  y: (r: number) => number,
  cell: number,
  theme: Theme,
): void {
  ctx.save();
  ctx.beginPath();
  let any = false;
  for (let r = r0; r < r1; r++) {
    for (let c = c0; c < c1; c++) {
      if (spec.maskedRows?.[r] || spec.maskedCols?.[c]) {
        ctx.rect(x(c), y(r), cell, cell);
        any = true;
      }
    }
  }
  if (any) {
    ctx.clip();
    ctx.strokeStyle = theme.maskLine;
    ctx.lineWidth = 1;
    ctx.beginPath();
    const x0 = x(c0);
    const y0 = y(r0);
    const w = x(c1) - x0;
    const h = y(r1) - y0;
    for (let d = -h; d < w; d += HATCH_SPACING) {
      ctx.moveTo(x0 + d, y0 + h);
      ctx.lineTo(x0 + d + h, y0);
    }
    ctx.stroke();
  }
  ctx.restore();
}

/** Draws the hover highlight (row and column bands, the cell, bold labels) into the overlay canvas. */
export function drawHeatmapHover(
  canvas: HTMLCanvasElement,
  spec: HeatmapSpec,
  layout: HeatmapLayout,
  view: Viewport,
  theme: Theme,
  hit: HeatmapHit | null,
): void {
  const ctx = prepareCanvas(canvas, view.width, view.height);
  if (!ctx) return;
  ctx.clearRect(0, 0, view.width, view.height);
  if (!hit) return;
  const { cell, left, top } = layout;
  const row = hit.kind === 'col' ? -1 : hit.row;
  const col = hit.kind === 'row' ? -1 : hit.col;
  const x = left + col * cell - view.x;
  const y = top + row * cell - view.y;
  const gridW = Math.min(view.width, left + spec.cols * cell - view.x) - left;
  const gridH = Math.min(view.height, top + spec.rows * cell - view.y) - top;

  ctx.save();
  ctx.beginPath();
  ctx.rect(left, top, view.width - left, view.height - top);
  ctx.clip();
  ctx.fillStyle = theme.foreground;
  ctx.globalAlpha = 0.14;
  if (row >= 0) ctx.fillRect(left, y, gridW, cell);
  if (col >= 0) ctx.fillRect(x, top, cell, gridH);
  ctx.globalAlpha = 1;
  if (row >= 0 && col >= 0) {
    ctx.lineWidth = 2;
    ctx.strokeStyle = theme.surface;
    ctx.strokeRect(x - 1, y - 1, cell + 2, cell + 2);
    ctx.strokeStyle = theme.foreground;
    ctx.lineWidth = 1;
    ctx.strokeRect(x - 2.5, y - 2.5, cell + 5, cell + 5);
  }
  ctx.restore();

  ctx.font = theme.boldFont;
  ctx.textBaseline = 'middle';
  const band = Math.max(cell, LABEL_PITCH + 2);
  if (row >= 0 && y + cell > top) {
    ctx.save();
    ctx.beginPath();
    ctx.rect(0, top, left, view.height - top);
    ctx.clip();
    ctx.fillStyle = theme.surface;
    ctx.fillRect(0, y + cell / 2 - band / 2, left - 1, band);
    ctx.fillStyle = theme.foreground;
    ctx.textAlign = 'right';
    ctx.fillText(layout.rowLabels[row] ?? '', left - LABEL_GAP, y + cell / 2);
    ctx.restore();
  }
  if (col >= 0 && x + cell > left) {
    ctx.save();
    ctx.beginPath();
    ctx.rect(left, 0, view.width - left, top);
    ctx.clip();
    ctx.fillStyle = theme.surface;
    ctx.fillRect(x + cell / 2 - band / 2, 0, band, top - 1);
    ctx.translate(x + cell / 2, top - LABEL_GAP);
    ctx.rotate(-Math.PI / 2);
    ctx.fillStyle = theme.foreground;
    ctx.textAlign = 'left';
    ctx.fillText(layout.colLabels[col] ?? '', 0, 0);
    ctx.restore();
  }
}

/** Whether two hits are over the same thing. */
export function sameHit(a: HeatmapHit | null, b: HeatmapHit | null): boolean {
  if (a === null || b === null) return a === b;
  const row = (h: HeatmapHit): number => (h.kind === 'col' ? -1 : h.row);
  const col = (h: HeatmapHit): number => (h.kind === 'row' ? -1 : h.col);
  return a.kind === b.kind && row(a) === row(b) && col(a) === col(b);
}

/**
 * Writes the labels of rows `from..to` right-aligned beside the grid, or of columns upright above
 * it: every `labelStep`th and the highlighted row (in the highlight colour); masked ones muted.
 * `at(index)` is where that row's or column's cells start.
 */
export function paintLabels(
  p: Painter,
  spec: HeatmapSpec,
  layout: HeatmapLayout,
  theme: Theme,
  axis: 'rows' | 'cols',
  at: (index: number) => number,
  [from, to]: [number, number],
): void {
  const rows = axis === 'rows';
  const labels = rows ? layout.rowLabels : layout.colLabels;
  const masked = rows ? spec.maskedRows : spec.maskedCols;
  const focus = rows ? spec.highlightRow : undefined;
  const span = spec.highlightRows ?? 1;
  const inFocus = (i: number): boolean => focus !== undefined && i >= focus && i < focus + span;
  p.textAlign = rows ? 'right' : 'left';
  for (let i = from; i < to; i++) {
    if (i % layout.labelStep !== 0 && !inFocus(i)) continue;
    const colour = inFocus(i) ? theme.highlight : masked?.[i] ? theme.muted : theme.foreground;
    if (rows) {
      p.fillStyle = colour;
      p.fillText(labels[i] ?? '', layout.left - LABEL_GAP, at(i) + layout.cell / 2);
      continue;
    }
    p.save();
    p.translate(at(i) + layout.cell / 2, layout.top - LABEL_GAP);
    p.rotate(-Math.PI / 2);
    p.fillStyle = colour;
    p.fillText(labels[i] ?? '', 0, 0);
    p.restore();
  }
}
