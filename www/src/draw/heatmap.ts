/** Canvas heatmap: a rows×cols grid of values in viridis, with text labels and a colour legend. */
import { css, viridis, type Theme } from './colors';

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
  /** A row to outline (the focus token). */
  highlightRow?: number;
  /** Value drawn in the top colour of the scale (values are clamped to [0, scaleMax]). */
  scaleMax: number;
  /** Width the canvas may take, in CSS pixels. */
  maxWidth: number;
  /** Words under the legend, e.g. "attention weight". */
  legendCaption: string;
}

const MIN_CELL = 10;
const MAX_CELL = 44;
const LABEL_GAP = 6;
const LABEL_MAX_CHARS = 14;
const LEGEND_HEIGHT = 36;
const HATCH_SPACING = 5;

/** Cuts a label to a readable length. */
function shorten(label: string): string {
  return label.length > LABEL_MAX_CHARS ? `${label.slice(0, LABEL_MAX_CHARS - 1)}…` : label;
}

/** Draws `spec` into `canvas`, sizing it to its content and sharp at the device pixel ratio. */
export function drawHeatmap(canvas: HTMLCanvasElement, spec: HeatmapSpec, theme: Theme): void {
  const ctx = canvas.getContext('2d');
  if (!ctx) return;
  const { rows, cols, values } = spec;
  const rowLabels = spec.rowLabels.map(shorten);
  const colLabels = spec.colLabels.map(shorten);
  ctx.font = theme.font;
  const widest = (labels: string[]): number => Math.max(0, ...labels.map((l) => ctx.measureText(l).width));
  const left = Math.ceil(widest(rowLabels)) + LABEL_GAP * 2;
  const top = Math.ceil(widest(colLabels)) + LABEL_GAP * 2;
  const cell = Math.max(MIN_CELL, Math.min(MAX_CELL, Math.floor((spec.maxWidth - left - LABEL_GAP) / Math.max(1, cols))));
  const gridW = cell * cols;
  const gridH = cell * rows;
  const width = left + Math.max(gridW, 120) + LABEL_GAP;
  const height = top + gridH + LEGEND_HEIGHT;

  const dpr = window.devicePixelRatio || 1;
  canvas.width = Math.round(width * dpr);
  canvas.height = Math.round(height * dpr);
  canvas.style.width = `${width}px`;
  canvas.style.height = `${height}px`;

  // Cells in device pixels, edges rounded so neighbours share a pixel boundary (no seams, no blur).
  ctx.setTransform(1, 0, 0, 1, 0, 0);
  ctx.clearRect(0, 0, canvas.width, canvas.height);
  const px = (v: number): number => Math.round(v * dpr);
  const masked = (r: number, c: number): boolean => Boolean(spec.maskedRows?.[r] || spec.maskedCols?.[c]);
  const scale = spec.scaleMax > 0 ? spec.scaleMax : 1;
  for (let r = 0; r < rows; r++) {
    const y = px(top + r * cell);
    const h = px(top + (r + 1) * cell) - y;
    for (let c = 0; c < cols; c++) {
      const x = px(left + c * cell);
      const w = px(left + (c + 1) * cell) - x;
      ctx.fillStyle = masked(r, c) ? theme.mask : css(viridis((values[r * cols + c] ?? 0) / scale));
      ctx.fillRect(x, y, w, h);
    }
  }

  // Everything else in CSS pixels.
  ctx.setTransform(dpr, 0, 0, dpr, 0, 0);
  hatchMasked(ctx, spec, left, top, cell, theme);
  if (spec.highlightRow !== undefined && spec.highlightRow >= 0 && spec.highlightRow < rows) {
    ctx.strokeStyle = theme.highlight;
    ctx.lineWidth = 2;
    ctx.strokeRect(left - 1, top + spec.highlightRow * cell - 1, gridW + 2, cell + 2);
  }

  ctx.font = theme.font;
  ctx.textBaseline = 'middle';
  ctx.textAlign = 'right';
  rowLabels.forEach((label, r) => {
    ctx.fillStyle = r === spec.highlightRow ? theme.highlight : spec.maskedRows?.[r] ? theme.muted : theme.foreground;
    ctx.fillText(label, left - LABEL_GAP, top + (r + 0.5) * cell);
  });
  ctx.textAlign = 'left';
  colLabels.forEach((label, c) => {
    ctx.save();
    ctx.translate(left + (c + 0.5) * cell, top - LABEL_GAP);
    ctx.rotate(-Math.PI / 2);
    ctx.fillStyle = spec.maskedCols?.[c] ? theme.muted : theme.foreground;
    ctx.fillText(label, 0, 0);
    ctx.restore();
  });

  drawLegend(ctx, left, top + gridH + 10, Math.max(gridW, 120), scale, spec.legendCaption, theme, dpr);
}

/** Grey diagonal lines over masked cells. */
function hatchMasked(ctx: CanvasRenderingContext2D, spec: HeatmapSpec, left: number, top: number, cell: number, theme: Theme): void {
  const { rows, cols } = spec;
  ctx.save();
  ctx.beginPath();
  let any = false;
  for (let r = 0; r < rows; r++) {
    for (let c = 0; c < cols; c++) {
      if (spec.maskedRows?.[r] || spec.maskedCols?.[c]) {
        ctx.rect(left + c * cell, top + r * cell, cell, cell);
        any = true;
      }
    }
  }
  if (any) {
    ctx.clip();
    ctx.strokeStyle = theme.maskLine;
    ctx.lineWidth = 1;
    ctx.beginPath();
    const w = cols * cell;
    const h = rows * cell;
    for (let d = -h; d < w; d += HATCH_SPACING) {
      ctx.moveTo(left + d, top + h);
      ctx.lineTo(left + d + h, top);
    }
    ctx.stroke();
  }
  ctx.restore();
}

/** A horizontal colour bar from 0 to `max` with its caption. */
function drawLegend(
  ctx: CanvasRenderingContext2D,
  x: number,
  y: number,
  width: number,
  max: number,
  caption: string,
  theme: Theme,
  dpr: number,
): void {
  const barHeight = 8;
  ctx.save();
  ctx.setTransform(1, 0, 0, 1, 0, 0);
  const x0 = Math.round(x * dpr);
  const x1 = Math.round((x + width) * dpr);
  const y0 = Math.round(y * dpr);
  const h = Math.round(barHeight * dpr);
  for (let i = x0; i < x1; i++) {
    ctx.fillStyle = css(viridis((i - x0) / Math.max(1, x1 - x0 - 1)));
    ctx.fillRect(i, y0, 1, h);
  }
  ctx.restore();
  ctx.fillStyle = theme.muted;
  ctx.font = theme.font;
  ctx.textBaseline = 'top';
  const labelY = y + barHeight + 4;
  ctx.textAlign = 'left';
  ctx.fillText('0', x, labelY);
  ctx.textAlign = 'right';
  ctx.fillText(max.toFixed(2), x + width, labelY);
  ctx.textAlign = 'center';
  ctx.fillText(caption, x + width / 2, labelY);
}
