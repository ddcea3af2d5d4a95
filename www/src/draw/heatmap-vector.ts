/**
 * The token×token heatmap as vector shapes, for the SVG export: every cell a rectangle (padding
 * hatched), every label text, the focus row outlined, and the colour legend under it. The screen
 * draws the same data from pixels (heatmap.ts) so that a 512×512 grid stays fast.
 */
import { css, viridis, type Theme } from './colors';
import { HATCH_SPACING, layoutHeatmap, paintLabels, type HeatmapSpec } from './heatmap';
import { legendText, type LegendText } from './legend';
import type { FigurePainter, Painter } from './painter';

/** Space between the grid and the colour bar. */
const LEGEND_GAP = 4;
const LEGEND_STEPS = 64;

/** The cell size (CSS pixels) that fits the heatmap into about `width`, kept between 4 and 32. */
export function vectorCell(spec: HeatmapSpec, width: number, theme: Theme): number {
  const left = layoutHeatmap({ ...spec, rows: 0, cols: 0, colLabels: [] }, 1, theme).left;
  return Math.max(4, Math.min(32, Math.floor((width - left) / Math.max(1, spec.cols))));
}

/** Size of the drawing of `spec` at cell size `cell`, legend (with `legendCaption`) included. */
export function vectorHeatmapSize(p: Painter, spec: HeatmapSpec, cell: number, legendCaption: string, theme: Theme): { width: number; height: number } {
  const layout = layoutHeatmap(spec, cell, theme);
  const legend = vectorLegendText(p, legendWidth(spec, cell), spec.scaleMax, legendCaption, theme);
  return { width: Math.max(layout.width, layout.left + legendWidth(spec, cell)), height: layout.height + LEGEND_GAP + legend.height };
}

/** Height of a colour bar with its text, `width` wide (see `paintVectorLegend`). */
export function vectorLegendHeight(p: Painter, width: number, max: number, caption: string, theme: Theme): number {
  return vectorLegendText(p, width, max, caption, theme).height;
}

/** Where the legend's caption goes (see `legendText`), measured in the theme's font. */
function vectorLegendText(p: Painter, width: number, max: number, caption: string, theme: Theme): LegendText {
  p.font = theme.font;
  return legendText((t) => p.measureText(t).width, width, max, caption);
}

function legendWidth(spec: HeatmapSpec, cell: number): number {
  return Math.max(160, Math.min(360, spec.cols * cell));
}

/** Paints `spec` at the origin with cells of `cell` CSS pixels; the cells form one group of rows×cols rectangles. */
export function paintVectorHeatmap(p: FigurePainter, spec: HeatmapSpec, cell: number, legendCaption: string, theme: Theme): void {
  const layout = layoutHeatmap(spec, cell, theme);
  const { left, top } = layout;
  const x = (c: number): number => left + c * cell;
  const y = (r: number): number => top + r * cell;
  const masked = (r: number, c: number): boolean => Boolean(spec.maskedRows?.[r] || spec.maskedCols?.[c]);
  const scale = spec.scaleMax > 0 ? 1 / spec.scaleMax : 1;
  p.group({ class: 'heatmap-cells', 'data-rows': String(spec.rows), 'data-cols': String(spec.cols) }, () => {
    for (let r = 0; r < spec.rows; r++) {
      for (let c = 0; c < spec.cols; c++) {
        p.fillStyle = masked(r, c) ? theme.mask : css(viridis((spec.values[r * spec.cols + c] ?? 0) * scale));
        p.fillRect(x(c), y(r), cell, cell);
      }
    }
  });
  p.group({ class: 'heatmap-padding' }, () => {
    p.strokeStyle = theme.maskLine;
    p.lineWidth = 1;
    p.beginPath();
    for (let r = 0; r < spec.rows; r++) for (let c = 0; c < spec.cols; c++) if (masked(r, c)) hatchCell(p, x(c), y(r), cell);
    p.stroke();
  });
  const focus = spec.highlightRow;
  if (focus !== undefined) {
    p.strokeStyle = theme.highlight;
    p.lineWidth = 2;
    p.strokeRect(left - 1, y(focus) - 1, spec.cols * cell + 2, (spec.highlightRows ?? 1) * cell + 2);
  }
  p.font = theme.font;
  p.textBaseline = 'middle';
  paintLabels(p, spec, layout, theme, 'rows', y, [0, spec.rows]);
  paintLabels(p, spec, layout, theme, 'cols', x, [0, spec.cols]);
  paintVectorLegend(p, left, layout.height + LEGEND_GAP, legendWidth(spec, cell), spec.scaleMax, legendCaption, theme);
}

/** Diagonal lines across one cell (lines x + y = constant, `HATCH_SPACING` apart). */
function hatchCell(p: Painter, x: number, y: number, size: number): void {
  for (let k = HATCH_SPACING; k < 2 * size; k += HATCH_SPACING) {
    p.moveTo(x + Math.max(0, k - size), y + Math.min(size, k));
    p.lineTo(x + Math.min(size, k), y + Math.max(0, k - size));
  }
}

/** The colour bar from 0 to `max` with its caption, `width` wide at (`x`, `y`) (`vectorLegendHeight` tall). */
export function paintVectorLegend(p: FigurePainter, x: number, y: number, width: number, max: number, caption: string, theme: Theme): void {
  p.group({ class: 'legend' }, () => {
    const step = width / LEGEND_STEPS;
    for (let i = 0; i < LEGEND_STEPS; i++) {
      p.fillStyle = css(viridis(i / (LEGEND_STEPS - 1)));
      // A hair wider than the step, so viewers draw no seams between the pieces.
      p.fillRect(x + i * step, y, step + 0.3, 8);
    }
    p.fillStyle = theme.muted;
    p.font = theme.font;
    p.textBaseline = 'top';
    p.textAlign = 'left';
    p.fillText('0', x, y + 12);
    p.textAlign = 'right';
    p.fillText(max.toFixed(2), x + width, y + 12);
    const text = vectorLegendText(p, width, max, caption, theme);
    p.fillStyle = theme.muted;
    if (text.below) {
      p.textAlign = 'left';
      p.fillText(text.caption, x, y + 27);
    } else {
      p.textAlign = 'center';
      p.fillText(text.caption, x + width / 2, y + 12);
    }
  });
}
