/**
 * What the charts draw with: the part of the canvas 2-D API they use. A canvas context is one; the
 * SVG writer (svg.ts) is another, so every chart is drawn by one code path on screen and in a file.
 */
import type { Theme } from './colors';

/** The canvas 2-D calls the charts make. */
export type Painter = Pick<
  CanvasRenderingContext2D,
  | 'fillStyle'
  | 'strokeStyle'
  | 'lineWidth'
  | 'font'
  | 'textAlign'
  | 'textBaseline'
  | 'fillRect'
  | 'strokeRect'
  | 'fillText'
  | 'strokeText'
  | 'lineJoin'
  | 'measureText'
  | 'beginPath'
  | 'moveTo'
  | 'lineTo'
  | 'arc'
  | 'fill'
  | 'stroke'
  | 'setLineDash'
  | 'save'
  | 'restore'
  | 'translate'
  | 'rotate'
>;

/** A painter that can also name a group of what it paints: an SVG `<g>` (svg.ts); on a canvas, nothing. */
export interface FigurePainter extends Painter {
  group(attributes: Record<string, string>, draw: () => void): void;
}

/** A canvas context as a `FigurePainter` (a group is only painted through). */
export function canvasFigurePainter(ctx: CanvasRenderingContext2D): FigurePainter {
  return Object.assign(ctx, { group: (_attributes: Record<string, string>, draw: () => void): void => draw() });
}

/**
 * Where one drawn item sits, in CSS pixels: a cell (`w`, `h` > 0, `x`, `y` its top-left corner)
 * or a point (`w` = `h` = 0 at its centre). Hover and keyboard read-outs find items by it.
 */
export interface ChartMark {
  x: number;
  y: number;
  w: number;
  h: number;
}

/** The mark under (`x`, `y`): a cell holding it, else the nearest point within `radius`; or null. */
export function markAt(marks: readonly ChartMark[], x: number, y: number, radius = 8): number | null {
  let best: number | null = null;
  let bestDistance = radius * radius;
  for (let i = 0; i < marks.length; i++) {
    const m = marks[i]!;
    if (m.w > 0 || m.h > 0) {
      if (x >= m.x && x < m.x + m.w && y >= m.y && y < m.y + m.h) return i;
      continue;
    }
    const d = (m.x - x) ** 2 + (m.y - y) ** 2;
    if (d <= bestDistance) {
      bestDistance = d;
      best = i;
    }
  }
  return best;
}

/**
 * For a line chart: the point of the column (x position) nearest `x`, within half the distance
 * between columns, that is nearest `y`; or null. The pointer need not touch a point: it snaps.
 */
export function columnMarkAt(marks: readonly ChartMark[], x: number, y: number): number | null {
  const columns = Array.from(new Set(marks.filter((m) => m.w === 0 && m.h === 0).map((m) => m.x))).sort((a, b) => a - b);
  if (columns.length === 0) return null;
  const gaps = columns.slice(1).map((c, i) => c - columns[i]!);
  const reach = gaps.length ? Math.min(...gaps) / 2 : 40;
  const column = columns.reduce((best, c) => (Math.abs(c - x) < Math.abs(best - x) ? c : best), columns[0]!);
  if (Math.abs(column - x) > reach) return null;
  let best: number | null = null;
  marks.forEach((m, i) => {
    if (m.w !== 0 || m.h !== 0 || m.x !== column) return;
    if (best === null || Math.abs(m.y - y) < Math.abs(marks[best]!.y - y)) best = i;
  });
  return best;
}

/** Outlines a mark: a ring around a point, a frame around a cell (two tones, visible on any colour). */
export function paintMarkHighlight(p: Painter, mark: ChartMark, theme: Theme): void {
  p.save();
  p.setLineDash([]);
  for (const [colour, width] of [[theme.surface, 4], [theme.foreground, 2]] as const) {
    p.strokeStyle = colour;
    p.lineWidth = width;
    p.beginPath();
    if (mark.w > 0 || mark.h > 0) p.strokeRect(mark.x - 1, mark.y - 1, mark.w + 2, mark.h + 2);
    else {
      p.arc(mark.x, mark.y, 7, 0, Math.PI * 2);
      p.stroke();
    }
  }
  p.restore();
}
