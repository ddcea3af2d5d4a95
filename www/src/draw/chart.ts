/** Small canvas charts for the analysis views: a line chart over levels and a labelled scatter plot. */
import { prepareCanvas, shorten } from './canvas';
import { css, textOn, viridis, type Theme } from './colors';

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

/** The y range shown: from 0 (or below, if a value is) to 1 (or above), in steps of 0.1 or 0.2. */
function yRange(series: readonly Series[]): [number, number] {
  let min = 0;
  let max = 1;
  for (const s of series) for (const v of s.values) if (Number.isFinite(v)) { min = Math.min(min, v); max = Math.max(max, v); }
  return [Math.floor(min * 10) / 10, Math.ceil(max * 10) / 10];
}

/** Draws a line chart `width×height` CSS pixels into `canvas`. */
export function drawLineChart(canvas: HTMLCanvasElement, width: number, height: number, spec: LineChartSpec, theme: Theme): void {
  const ctx = prepareCanvas(canvas, width, height);
  if (!ctx) return;
  ctx.fillStyle = theme.surface;
  ctx.fillRect(0, 0, width, height);
  const [y0, y1] = yRange(spec.series);
  const plotW = width - PAD.left - PAD.right;
  const plotH = height - PAD.top - PAD.bottom;
  const n = Math.max(1, spec.xLabels.length);
  const x = (i: number): number => PAD.left + (n === 1 ? plotW / 2 : (i / (n - 1)) * plotW);
  const y = (v: number): number => PAD.top + (1 - (v - y0) / (y1 - y0 || 1)) * plotH;
  ctx.font = theme.font;
  // Grid and y ticks.
  const step = y1 - y0 > 1.01 ? 0.2 : 0.1;
  ctx.textAlign = 'right';
  ctx.textBaseline = 'middle';
  for (let v = y0; v <= y1 + 1e-9; v += step) {
    ctx.strokeStyle = theme.mask;
    ctx.lineWidth = 1;
    ctx.beginPath();
    ctx.moveTo(PAD.left, Math.round(y(v)) + 0.5);
    ctx.lineTo(PAD.left + plotW, Math.round(y(v)) + 0.5);
    ctx.stroke();
    ctx.fillStyle = theme.muted;
    ctx.fillText(v.toFixed(1), PAD.left - 6, y(v));
  }
  // Axes.
  ctx.strokeStyle = theme.foreground;
  ctx.beginPath();
  ctx.moveTo(PAD.left + 0.5, PAD.top);
  ctx.lineTo(PAD.left + 0.5, PAD.top + plotH + 0.5);
  ctx.lineTo(PAD.left + plotW, PAD.top + plotH + 0.5);
  ctx.stroke();
  ctx.textAlign = 'center';
  ctx.textBaseline = 'top';
  ctx.fillStyle = theme.foreground;
  spec.xLabels.forEach((label, i) => ctx.fillText(label, x(i), PAD.top + plotH + 6));
  axisTitles(ctx, spec.xTitle, [PAD.left + plotW / 2, PAD.top + plotH + 26], spec.yTitle, [14, PAD.top + plotH / 2]);
  // Lines, points and values.
  for (const s of spec.series) {
    ctx.strokeStyle = s.colour;
    ctx.fillStyle = s.colour;
    ctx.lineWidth = 2;
    ctx.beginPath();
    s.values.forEach((v, i) => (i === 0 ? ctx.moveTo(x(i), y(v)) : ctx.lineTo(x(i), y(v))));
    ctx.stroke();
    s.values.forEach((v, i) => {
      ctx.beginPath();
      ctx.arc(x(i), y(v), 3.5, 0, Math.PI * 2);
      ctx.fill();
    });
  }
  if (spec.annotate) {
    ctx.textAlign = 'center';
    ctx.textBaseline = 'bottom';
    spec.series.forEach((s, k) => {
      ctx.fillStyle = s.colour;
      s.values.forEach((v, i) => ctx.fillText(v.toFixed(2), x(i), y(v) - 6 + (k % 2) * 22));
    });
  }
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
}

/** Draws a scatter plot `width×height` CSS pixels into `canvas`. */
export function drawScatter(canvas: HTMLCanvasElement, width: number, height: number, spec: ScatterSpec, theme: Theme): void {
  const ctx = prepareCanvas(canvas, width, height);
  if (!ctx) return;
  ctx.fillStyle = theme.surface;
  ctx.fillRect(0, 0, width, height);
  const pad = { left: 36, right: 24, top: 16, bottom: 36 };
  const xs = spec.points.map((p) => p.x);
  const ys = spec.points.map((p) => p.y);
  const [xMin, xMax] = [Math.min(...xs, 0), Math.max(...xs, 0)];
  const [yMin, yMax] = [Math.min(...ys, 0), Math.max(...ys, 0)];
  const plotW = width - pad.left - pad.right;
  const plotH = height - pad.top - pad.bottom;
  const px = (v: number): number => pad.left + ((v - xMin) / (xMax - xMin || 1)) * plotW;
  const py = (v: number): number => pad.top + (1 - (v - yMin) / (yMax - yMin || 1)) * plotH;
  // Axes through the origin (the mean of all tokens).
  ctx.strokeStyle = theme.mask;
  ctx.lineWidth = 1;
  ctx.beginPath();
  ctx.moveTo(pad.left, Math.round(py(0)) + 0.5);
  ctx.lineTo(pad.left + plotW, Math.round(py(0)) + 0.5);
  ctx.moveTo(Math.round(px(0)) + 0.5, pad.top);
  ctx.lineTo(Math.round(px(0)) + 0.5, pad.top + plotH);
  ctx.stroke();
  ctx.font = theme.font;
  ctx.fillStyle = theme.muted;
  axisTitles(ctx, spec.xTitle, [pad.left + plotW / 2, pad.top + plotH + 14], spec.yTitle, [12, pad.top + plotH / 2]);
  ctx.setLineDash([4, 3]);
  ctx.strokeStyle = theme.muted;
  for (const group of spec.links) {
    ctx.beginPath();
    group.forEach((index, i) => {
      const p = spec.points[index]!;
      if (i === 0) ctx.moveTo(px(p.x), py(p.y));
      else ctx.lineTo(px(p.x), py(p.y));
    });
    ctx.stroke();
  }
  ctx.setLineDash([]);
  ctx.textAlign = 'left';
  ctx.textBaseline = 'middle';
  for (const p of spec.points) {
    ctx.fillStyle = p.colour;
    ctx.beginPath();
    ctx.arc(px(p.x), py(p.y), p.strong ? 5.5 : 3.5, 0, Math.PI * 2);
    ctx.fill();
    ctx.font = p.strong ? theme.boldFont : theme.font;
    ctx.fillText(shorten(p.label, 16), px(p.x) + 7, py(p.y));
  }
}

/** One row of a heat-strip figure: a name and one value per token. */
export interface StripRow {
  name: string;
  values: readonly number[];
}

/** Height of one strip row, in CSS pixels. */
const ROW_H = 34;
const NAME_W = 120;
const LABEL_H = 22;

/** The CSS width a strip figure of `tokens` columns needs for its cells to hold their labels. */
export function stripWidth(tokens: readonly string[], available: number): number {
  const cell = Math.max(34, Math.min(72, (available - NAME_W) / Math.max(1, tokens.length)));
  return Math.min(16_000, NAME_W + cell * tokens.length);
}

/** Draws rows of heat cells (viridis, each row scaled to its own maximum) under token labels. */
export function drawStrips(canvas: HTMLCanvasElement, width: number, tokens: readonly string[], rows: readonly StripRow[], focus: number, theme: Theme): void {
  const height = LABEL_H + rows.length * ROW_H + 4;
  const ctx = prepareCanvas(canvas, width, height);
  if (!ctx) return;
  ctx.fillStyle = theme.surface;
  ctx.fillRect(0, 0, width, height);
  const cell = (width - NAME_W) / Math.max(1, tokens.length);
  const chars = Math.max(3, Math.floor(cell / 7));
  ctx.textAlign = 'center';
  ctx.textBaseline = 'middle';
  tokens.forEach((t, i) => {
    ctx.font = i === focus ? theme.boldFont : theme.font;
    ctx.fillStyle = i === focus ? theme.highlight : theme.foreground;
    ctx.fillText(shorten(t, chars), NAME_W + (i + 0.5) * cell, LABEL_H / 2);
  });
  rows.forEach((row, r) => {
    const top = LABEL_H + r * ROW_H;
    ctx.font = theme.font;
    ctx.fillStyle = theme.foreground;
    ctx.textAlign = 'left';
    ctx.fillText(shorten(row.name, 18), 4, top + ROW_H / 2);
    const max = Math.max(1e-9, ...row.values);
    ctx.textAlign = 'center';
    row.values.forEach((v, i) => {
      const colour = viridis(v / max);
      ctx.fillStyle = css(colour);
      ctx.fillRect(NAME_W + i * cell + 1, top + 2, cell - 2, ROW_H - 4);
      if (cell >= 30) {
        ctx.fillStyle = textOn(colour);
        ctx.fillText(v.toFixed(2), NAME_W + (i + 0.5) * cell, top + ROW_H / 2);
      }
    });
  });
}

/** Writes the x-axis title centred at `xAt` and the y-axis title rotated, centred at `yAt`. */
function axisTitles(
  ctx: CanvasRenderingContext2D,
  xTitle: string,
  xAt: [number, number],
  yTitle: string,
  yAt: [number, number],
): void {
  ctx.textAlign = 'center';
  ctx.textBaseline = 'top';
  ctx.fillText(xTitle, xAt[0], xAt[1]);
  ctx.save();
  ctx.translate(yAt[0], yAt[1]);
  ctx.rotate(-Math.PI / 2);
  ctx.textBaseline = 'middle';
  ctx.fillText(yTitle, 0, 0);
  ctx.restore();
}
