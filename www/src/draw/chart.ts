/**
 * Small charts for the analysis views: a line chart over levels, a labelled scatter plot and heat
 * strips. Each `paint…` draws on a `Painter` (a canvas, or the SVG writer) and returns where its
 * items sit, for hover read-outs; each `draw…` sizes a canvas and paints it.
 */
import { prepareCanvas, shorten } from './canvas';
import { css, textOn, viridis, type Theme } from './colors';
import type { ChartMark, Painter } from './painter';

/** One line of a line chart. */
export interface Series {
  label: string;
  colour: string;
  values: readonly number[];
}

/** What a line chart shows: `series` over the x positions named by `xLabels`. */
export interface LineChartSpec {
  xLabels: readonly string[];
  series: readonly Series[];
  xTitle: string;
  yTitle: string;
  /** Write each point's value beside it (readable for a few lines). */
  annotate: boolean;
}

const PAD = { left: 58, right: 16, top: 16, bottom: 48 };
/** Gap between a point and its value label, in CSS pixels. */
const LABEL_GAP = 6;
/** Height of a line of chart text, in CSS pixels. */
const TEXT_H = 13;

/** The y range shown: from 0 (or below, if a value is) to 1 (or above), in steps of 0.1 or 0.2. */
function yRange(series: readonly Series[]): [number, number] {
  let min = 0;
  let max = 1;
  for (const s of series) for (const v of s.values) if (Number.isFinite(v)) { min = Math.min(min, v); max = Math.max(max, v); }
  return [Math.floor(min * 10) / 10, Math.ceil(max * 10) / 10];
}

/** Paints a chart of `spec` in a `width×height` box and returns its marks (`paintLineChart`, `paintScatter`). */
export type ChartPainter<S> = (p: Painter, width: number, height: number, spec: S, theme: Theme) => ChartMark[];

/** Draws chart `paint` of `spec` into `canvas`, `width×height` CSS pixels; returns its marks (none without a 2D context). */
export function drawChart<S>(canvas: HTMLCanvasElement, paint: ChartPainter<S>, width: number, height: number, spec: S, theme: Theme): ChartMark[] {
  const ctx = prepareCanvas(canvas, width, height);
  return ctx ? paint(ctx, width, height, spec, theme) : [];
}

/** Paints a line chart in a `width×height` box; returns its points, series by series. */
export function paintLineChart(p: Painter, width: number, height: number, spec: LineChartSpec, theme: Theme): ChartMark[] {
  p.fillStyle = theme.surface;
  p.fillRect(0, 0, width, height);
  const [y0, y1] = yRange(spec.series);
  const plotW = width - PAD.left - PAD.right;
  const plotH = height - PAD.top - PAD.bottom;
  const n = Math.max(1, spec.xLabels.length);
  const x = (i: number): number => PAD.left + (n === 1 ? plotW / 2 : (i / (n - 1)) * plotW);
  const y = (v: number): number => PAD.top + (1 - (v - y0) / (y1 - y0 || 1)) * plotH;
  p.font = theme.font;
  // Grid and y ticks.
  const step = y1 - y0 > 1.01 ? 0.2 : 0.1;
  p.textAlign = 'right';
  p.textBaseline = 'middle';
  for (let v = y0; v <= y1 + 1e-9; v += step) {
    p.strokeStyle = theme.mask;
    p.lineWidth = 1;
    p.beginPath();
    p.moveTo(PAD.left, Math.round(y(v)) + 0.5);
    p.lineTo(PAD.left + plotW, Math.round(y(v)) + 0.5);
    p.stroke();
    p.fillStyle = theme.muted;
    p.fillText(v.toFixed(1), PAD.left - 6, y(v));
  }
  // Axes.
  p.strokeStyle = theme.foreground;
  p.beginPath();
  p.moveTo(PAD.left + 0.5, PAD.top);
  p.lineTo(PAD.left + 0.5, PAD.top + plotH + 0.5);
  p.lineTo(PAD.left + plotW, PAD.top + plotH + 0.5);
  p.stroke();
  p.textAlign = 'center';
  p.textBaseline = 'top';
  p.fillStyle = theme.foreground;
  // The first label starts at its point rather than centring on it, clear of the lowest y tick.
  spec.xLabels.forEach((label, i) => {
    p.textAlign = i === 0 && n > 1 ? 'left' : 'center';
    p.fillText(label, i === 0 && n > 1 ? x(i) - 3 : x(i), PAD.top + plotH + 6);
  });
  axisTitles(p, spec.xTitle, [PAD.left + plotW / 2, PAD.top + plotH + 26], spec.yTitle, [14, PAD.top + plotH / 2]);
  // Lines, points and values.
  const marks: ChartMark[] = [];
  for (const s of spec.series) {
    p.strokeStyle = s.colour;
    p.fillStyle = s.colour;
    p.lineWidth = 2;
    p.beginPath();
    s.values.forEach((v, i) => (i === 0 ? p.moveTo(x(i), y(v)) : p.lineTo(x(i), y(v))));
    p.stroke();
    s.values.forEach((v, i) => {
      p.beginPath();
      p.arc(x(i), y(v), 3.5, 0, Math.PI * 2);
      p.fill();
      marks.push({ x: x(i), y: y(v), w: 0, h: 0 });
    });
  }
  if (spec.annotate) spec.series.forEach((s, k) => annotatePoints(p, s, k, x, y, PAD.top + plotH));
  return marks;
}

/**
 * Writes each value of series `k` beside its point: above (even series) or below (odd), flipped to
 * the other side where it would leave the chart; the first starts right of its point and the last
 * ends left of it, so neither runs into the axis labels or off the edge.
 */
function annotatePoints(p: Painter, s: Series, k: number, x: (i: number) => number, y: (v: number) => number, bottom: number): void {
  p.fillStyle = s.colour;
  const last = s.values.length - 1;
  s.values.forEach((v, i) => {
    p.textAlign = i === 0 && last > 0 ? 'left' : i === last && last > 0 ? 'right' : 'center';
    const dx = p.textAlign === 'left' ? LABEL_GAP - 2 : p.textAlign === 'right' ? 2 - LABEL_GAP : 0;
    const above = k % 2 === 0 ? y(v) - LABEL_GAP - TEXT_H >= 0 : y(v) + LABEL_GAP + TEXT_H > bottom;
    p.textBaseline = above ? 'bottom' : 'top';
    p.fillText(v.toFixed(2), x(i) + dx, above ? y(v) - LABEL_GAP : y(v) + LABEL_GAP);
  });
}

/** One labelled point of a scatter plot. */
export interface ScatterPoint {
  x: number;
  y: number;
  label: string;
  colour: string;
  /** Drawn larger and bold (the focus word). */
  strong: boolean;
}

/** A scatter plot: points, and lines joining groups of points (the same word across sentences). */
export interface ScatterSpec {
  points: readonly ScatterPoint[];
  links: readonly (readonly number[])[];
  xTitle: string;
  yTitle: string;
  /** Filled by `paintScatter`: the labels it wrote (point index and box, CSS pixels); a label that would overlap another is left out. */
  labelled?: { point: number; x: number; y: number; w: number; h: number }[];
}

/** Height of a scatter label's box, in CSS pixels. */
const SCATTER_LABEL_H = 14;

/** Whether two boxes overlap. */
function overlaps(a: { x: number; y: number; w: number; h: number }, b: { x: number; y: number; w: number; h: number }): boolean {
  return a.x < b.x + b.w && b.x < a.x + a.w && a.y < b.y + b.h && b.y < a.y + a.h;
}

/** Paints a scatter plot in a `width×height` box; returns its points in order. */
export function paintScatter(p: Painter, width: number, height: number, spec: ScatterSpec, theme: Theme): ChartMark[] {
  p.fillStyle = theme.surface;
  p.fillRect(0, 0, width, height);
  const pad = { left: 36, right: 24, top: 16, bottom: 36 };
  const xs = spec.points.map((q) => q.x);
  const ys = spec.points.map((q) => q.y);
  const [xMin, xMax] = [Math.min(...xs, 0), Math.max(...xs, 0)];
  const [yMin, yMax] = [Math.min(...ys, 0), Math.max(...ys, 0)];
  const plotW = width - pad.left - pad.right;
  const plotH = height - pad.top - pad.bottom;
  const px = (v: number): number => pad.left + ((v - xMin) / (xMax - xMin || 1)) * plotW;
  const py = (v: number): number => pad.top + (1 - (v - yMin) / (yMax - yMin || 1)) * plotH;
  // Axes through the origin (the mean of all tokens).
  p.strokeStyle = theme.mask;
  p.lineWidth = 1;
  p.beginPath();
  p.moveTo(pad.left, Math.round(py(0)) + 0.5);
  p.lineTo(pad.left + plotW, Math.round(py(0)) + 0.5);
  p.moveTo(Math.round(px(0)) + 0.5, pad.top);
  p.lineTo(Math.round(px(0)) + 0.5, pad.top + plotH);
  p.stroke();
  p.font = theme.font;
  p.fillStyle = theme.muted;
  axisTitles(p, spec.xTitle, [pad.left + plotW / 2, pad.top + plotH + 14], spec.yTitle, [12, pad.top + plotH / 2]);
  p.setLineDash([4, 3]);
  p.strokeStyle = theme.muted;
  for (const group of spec.links) {
    p.beginPath();
    group.forEach((index, i) => {
      const q = spec.points[index]!;
      if (i === 0) p.moveTo(px(q.x), py(q.y));
      else p.lineTo(px(q.x), py(q.y));
    });
    p.stroke();
  }
  p.setLineDash([]);
  p.textBaseline = 'middle';
  for (const q of spec.points) {
    p.fillStyle = q.colour;
    p.beginPath();
    p.arc(px(q.x), py(q.y), q.strong ? 5.5 : 3.5, 0, Math.PI * 2);
    p.fill();
  }
  // Labels where they fit: the focus word's first, then in order; each beside its point (right,
  // left, above or below), never over another label. The read-out names every point.
  const placed: NonNullable<ScatterSpec['labelled']> = [];
  const order = spec.points.map((_, i) => i).sort((a, b) => Number(spec.points[b]!.strong) - Number(spec.points[a]!.strong));
  for (const index of order) {
    const q = spec.points[index]!;
    const [cx, cy] = [px(q.x), py(q.y)];
    const r = q.strong ? 5.5 : 3.5;
    p.font = q.strong ? theme.boldFont : theme.font;
    const label = shorten(q.label, 16);
    const w = p.measureText(label).width;
    const h = SCATTER_LABEL_H;
    const spots = [
      { x: cx + r + 4, y: cy - h / 2 },
      { x: cx - r - 4 - w, y: cy - h / 2 },
      { x: cx - w / 2, y: cy - r - 2 - h },
      { x: cx - w / 2, y: cy + r + 2 },
    ];
    const spot = spots.find((b) => b.x >= 2 && b.x + w <= width - 2 && b.y >= 0 && b.y + h <= height && !placed.some((o) => overlaps({ ...b, w, h }, o)));
    if (!spot) continue;
    placed.push({ point: index, x: spot.x, y: spot.y, w, h });
    p.textAlign = 'left';
    // A halo of the background keeps the label readable over the dashed links.
    p.strokeStyle = theme.surface;
    p.lineWidth = 3;
    p.lineJoin = 'round';
    p.strokeText(label, spot.x, spot.y + h / 2);
    p.fillStyle = q.colour;
    p.fillText(label, spot.x, spot.y + h / 2);
  }
  spec.labelled = placed;
  return spec.points.map((q) => ({ x: px(q.x), y: py(q.y), w: 0, h: 0 }));
}

/** One row of a heat-strip figure: a name and one value per token. */
export interface StripRow {
  name: string;
  values: readonly number[];
  /** The top of the row's colour scale (default: its own largest value). */
  max?: number;
}

/** Height of one strip row, in CSS pixels. */
const ROW_H = 34;
/** Narrowest and widest column of row names, in CSS pixels. */
const NAME_MIN_W = 120;
const NAME_MAX_W = 230;
/** Height of the band of token labels when they are written across their cells. */
const LABEL_H = 22;
/** Tallest band of upright token labels (a longer label is cut to it), in CSS pixels. */
const UPRIGHT_MAX_H = 110;
/** Space kept around a label, in CSS pixels. */
const LABEL_PAD = 6;

/** A row name in two lines: what (before " · ") and where ("raw" / "layer 6, head 3"). */
function nameLines(name: string): [string, string] {
  const at = name.indexOf(' · ');
  return at < 0 ? [name, ''] : [name.slice(0, at), name.slice(at + 3)];
}

let measurer: CanvasRenderingContext2D | null = null;

/** The width of `text` in `font`, in CSS pixels (a rough guess without a 2D context). */
function textWidth(text: string, font: string): number {
  measurer ??= document.createElement('canvas').getContext('2d');
  if (!measurer) return text.length * 7;
  measurer.font = font;
  return measurer.measureText(text).width;
}

/** The width of the row-name column that holds `rows`' names in the theme's font (between 120 and 230 CSS pixels). */
export function stripNameWidth(rows: readonly StripRow[], theme: Theme): number {
  const widest = Math.max(0, ...rows.flatMap((r) => nameLines(r.name).map((line) => textWidth(line, theme.font))));
  return Math.max(NAME_MIN_W, Math.min(NAME_MAX_W, Math.ceil(widest) + 10));
}

/** Narrowest cell of a strip: 30 px still holds "0.56" in the cell's font. */
const CELL_MIN_W = 30;
/** Narrowest the name column gets (its names wrapping onto more lines), so a short sentence's strips fit a phone. */
const NAME_NARROW_W = 90;

/**
 * The name column `nameWidth` wide (see `stripNameWidth`), or narrower, down to 90 px, when that
 * leaves `tokens` cells narrower than 30 px in `available` CSS pixels.
 */
function narrowedName(tokens: readonly string[], available: number, nameWidth: number): number {
  const cells = CELL_MIN_W * Math.max(1, tokens.length);
  return nameWidth + cells <= available + 0.5 ? nameWidth : Math.max(NAME_NARROW_W, Math.min(nameWidth, available - cells));
}

/** The width of the name column of a strip figure `width` CSS pixels wide (as `stripWidth` sized it). */
function nameColumn(tokens: readonly string[], rows: readonly StripRow[], width: number, theme: Theme): number {
  return narrowedName(tokens, width, stripNameWidth(rows, theme));
}

/**
 * How a strip figure `width` CSS pixels wide writes its token labels: across their cells when every
 * one fits its cell (in the bold font, the focus word's), otherwise upright (reading upwards, as the
 * heatmap's columns do) in a band as tall as the longest label, up to 110 px, so a narrow cell on a
 * phone still shows its whole token instead of "[CL…".
 */
export function stripLabels(tokens: readonly string[], rows: readonly StripRow[], width: number, theme: Theme): { upright: boolean; height: number } {
  const cell = (width - nameColumn(tokens, rows, width, theme)) / Math.max(1, tokens.length);
  const widest = Math.max(0, ...tokens.map((t) => textWidth(t, theme.boldFont)));
  if (widest + LABEL_PAD <= cell) return { upright: false, height: LABEL_H };
  return { upright: true, height: Math.max(LABEL_H, Math.min(UPRIGHT_MAX_H, Math.ceil(widest) + 2 * LABEL_PAD)) };
}

/** Space between the lines of a row name, in CSS pixels. */
const NAME_LINE_H = 14;

/** `text` broken at spaces into lines no wider than `width` CSS pixels in `font` (a single word wider than that keeps a line of its own). */
function wrapLines(text: string, width: number, font: string): string[] {
  const lines: string[] = [];
  for (const word of text.split(' ')) {
    const last = lines[lines.length - 1];
    if (last !== undefined && textWidth(`${last} ${word}`, font) <= width) lines[lines.length - 1] = `${last} ${word}`;
    else lines.push(word);
  }
  return lines;
}

/** Each row's name as the lines it is written in: what (foreground), then where (muted), each wrapped to the name column, never cut. */
function nameRows(rows: readonly StripRow[], theme: Theme, nameWidth: number): { what: string[]; where: string[] }[] {
  const width = nameWidth - 8;
  return rows.map((r) => {
    const [what, where] = nameLines(r.name);
    return { what: wrapLines(what, width, theme.font), where: where ? wrapLines(where, width, theme.font) : [] };
  });
}

/** The height of each strip row: 34 CSS pixels, or more when a row's name needs more than two lines. */
function stripRowHeight(rows: readonly StripRow[], theme: Theme, nameWidth: number): number {
  const lines = Math.max(0, ...nameRows(rows, theme, nameWidth).map((n) => n.what.length + n.where.length));
  return Math.max(ROW_H, lines * NAME_LINE_H + 6);
}

/** `text` cut short (with "…") to fit `width` CSS pixels in the painter's font. */
function fitText(p: Painter, text: string, width: number): string {
  if (p.measureText(text).width <= width) return text;
  let keep = text.length;
  while (keep > 1 && p.measureText(`${text.slice(0, keep - 1)}…`).width > width) keep--;
  return `${text.slice(0, keep - 1)}…`;
}

/**
 * The CSS width a strip figure of `tokens` columns needs for its cells to hold their values, with a
 * name column `nameWidth` wide (see `stripNameWidth`), narrowed when the cells would not fit
 * `available` otherwise (a phone): wider than `available` only when 30 px cells cannot fit anyway.
 */
export function stripWidth(tokens: readonly string[], available: number, nameWidth = NAME_MIN_W): number {
  const name = narrowedName(tokens, available, nameWidth);
  const cell = Math.max(CELL_MIN_W, Math.min(72, (available - name) / Math.max(1, tokens.length)));
  return Math.min(16_000, name + cell * tokens.length);
}

/** The CSS height of a strip figure of `rows` over `tokens`, `width` CSS pixels wide (see `stripLabels`). */
export function stripHeight(tokens: readonly string[], rows: readonly StripRow[], width: number, theme: Theme): number {
  return stripLabels(tokens, rows, width, theme).height + rows.length * stripRowHeight(rows, theme, nameColumn(tokens, rows, width, theme)) + 4;
}

/** The columns drawn as the focus word: one token, or its pieces `[start, end)`. */
export type StripFocus = number | { start: number; end: number };

function inFocus(focus: StripFocus, i: number): boolean {
  return typeof focus === 'number' ? i === focus : focus.start <= i && i < focus.end;
}

/** Draws rows of heat cells into `canvas` (see `paintStrips`); returns the cells, row by row. */
export function drawStrips(
  canvas: HTMLCanvasElement,
  width: number,
  tokens: readonly string[],
  rows: readonly StripRow[],
  focus: StripFocus,
  theme: Theme,
  hidden?: readonly boolean[],
): ChartMark[] {
  const ctx = prepareCanvas(canvas, width, stripHeight(tokens, rows, width, theme));
  return ctx ? paintStrips(ctx, width, tokens, rows, focus, theme, hidden) : [];
}

/** Paints rows of heat cells (viridis, each row scaled to its own maximum or its `max`; `hidden` tokens' cells left grey) under token labels; returns the cells, row by row. */
export function paintStrips(
  p: Painter,
  width: number,
  tokens: readonly string[],
  rows: readonly StripRow[],
  focus: StripFocus,
  theme: Theme,
  hidden?: readonly boolean[],
): ChartMark[] {
  const labels = stripLabels(tokens, rows, width, theme);
  p.fillStyle = theme.surface;
  const nameWidth = nameColumn(tokens, rows, width, theme);
  const rowH = stripRowHeight(rows, theme, nameWidth);
  const names = nameRows(rows, theme, nameWidth);
  p.fillRect(0, 0, width, labels.height + rows.length * rowH + 4);
  const cell = (width - nameWidth) / Math.max(1, tokens.length);
  p.textBaseline = 'middle';
  tokens.forEach((t, i) => {
    p.font = inFocus(focus, i) ? theme.boldFont : theme.font;
    p.fillStyle = inFocus(focus, i) ? theme.highlight : theme.foreground;
    const x = nameWidth + (i + 0.5) * cell;
    if (!labels.upright) {
      p.textAlign = 'center';
      p.fillText(t, x, LABEL_H / 2);
      return;
    }
    p.save();
    p.translate(x, labels.height - LABEL_PAD / 2);
    p.rotate(-Math.PI / 2);
    p.textAlign = 'left';
    p.fillText(fitText(p, t, labels.height - LABEL_PAD), 0, 0);
    p.restore();
  });
  const marks: ChartMark[] = [];
  rows.forEach((row, r) => {
    const top = labels.height + r * rowH;
    // The name in full, centred on its row: what it is, then (muted) where, each wrapped to the column.
    p.font = theme.font;
    p.textAlign = 'left';
    const { what, where } = names[r]!;
    const lines = [...what, ...where];
    lines.forEach((line, k) => {
      p.fillStyle = k < what.length ? theme.foreground : theme.muted;
      p.fillText(line, 4, top + rowH / 2 + (k - (lines.length - 1) / 2) * NAME_LINE_H);
    });
    const max = Math.max(1e-9, row.max ?? Math.max(...row.values));
    p.textAlign = 'center';
    row.values.forEach((v, i) => {
      if (hidden?.[i]) {
        // A hidden token's column: an empty grey cell (its weight went to the others).
        p.fillStyle = theme.mask;
        p.fillRect(nameWidth + i * cell + 1, top + 2, cell - 2, rowH - 4);
        marks.push({ x: nameWidth + i * cell + 1, y: top + 2, w: cell - 2, h: rowH - 4 });
        return;
      }
      const colour = viridis(v / max);
      p.fillStyle = css(colour);
      p.fillRect(nameWidth + i * cell + 1, top + 2, cell - 2, rowH - 4);
      marks.push({ x: nameWidth + i * cell + 1, y: top + 2, w: cell - 2, h: rowH - 4 });
      if (cell >= 30) {
        p.fillStyle = textOn(colour);
        p.fillText(v.toFixed(2), nameWidth + (i + 0.5) * cell, top + rowH / 2);
      }
    });
  });
  return marks;
}

/** Writes the x-axis title centred at `xAt` and the y-axis title rotated, centred at `yAt`. */
function axisTitles(p: Painter, xTitle: string, xAt: [number, number], yTitle: string, yAt: [number, number]): void {
  p.textAlign = 'center';
  p.textBaseline = 'top';
  p.fillText(xTitle, xAt[0], xAt[1]);
  p.save();
  p.translate(yAt[0], yAt[1]);
  p.rotate(-Math.PI / 2);
  p.textBaseline = 'middle';
  p.fillText(yTitle, 0, 0);
  p.restore();
}
