/**
 * The model view as vector shapes, for the SVG and PNG exports: every map of the grid (one
 * `<g class="map">` per layer and head) as rectangles, each map scaled to its own maximum or all to
 * one, a pair's boundary, the selected head outlined and the rows and columns labelled, as grid.ts
 * draws the screen.
 * A sentence longer than `MAX_SIDE` tokens is pooled (each rectangle the largest weight it covers).
 */
import type { HeadChoice } from '../attention';
import type { AttentionShape } from '../engine/protocol';
import { css, viridis, type Theme } from './colors';
import { cellOrigin, paintGridLabels, paintSplits, poolMap, type GridLayout } from './grid';
import type { FigurePainter } from './painter';

/** Most rectangles per side of one map (a file of 12×12 maps of 512² rectangles would be huge). */
export const MAX_SIDE = 48;

/** What the grid shows. */
export interface VectorGrid {
  /** `[layers][cells][n][n]`, of which the top-left `len×len` is drawn. */
  buffer: Float32Array;
  shape: AttentionShape;
  len: number;
  /** The one scale's top, or null for each map its own. */
  scaleMax: number | null;
  layer: number;
  head: HeadChoice;
  /** Where sentence B of a pair starts, or null (see grid.ts `paintSplits`). */
  splitAt: number | null;
}

/** Paints the grid at the origin in `layout` (see grid.ts `layoutGrid`). */
export function paintVectorGrid(p: FigurePainter, grid: VectorGrid, layout: GridLayout, theme: Theme): void {
  const [layers, cells, n] = grid.shape;
  const { len } = grid;
  const side = Math.max(1, Math.min(len, MAX_SIDE));
  const pooled = new Float32Array(side * side);
  const step = layout.cell / side;
  for (let l = 0; l < layers; l++) {
    for (let c = 0; c < cells; c++) {
      const max = poolMap(grid.buffer, (l * cells + c) * n * n, n, len, side, pooled);
      const top = grid.scaleMax ?? max;
      const scale = top > 0 ? 1 / top : 1;
      const [x, y] = cellOrigin(layout, l, c);
      p.group({ class: 'map', 'data-layer': String(l + 1), 'data-head': cells === 1 ? 'all' : String(c + 1) }, () => {
        for (let r = 0; r < side; r++) {
          for (let k = 0; k < side; k++) {
            p.fillStyle = css(viridis(pooled[r * side + k]! * scale));
            // A hair larger than the step, so viewers draw no seams between the pieces.
            p.fillRect(x + k * step, y + r * step, step + 0.2, step + 0.2);
          }
        }
      });
    }
  }
  if (grid.splitAt !== null) paintSplits(p, layout, { at: grid.splitAt, len }, theme);
  paintGridLabels(p, layout, grid.layer, cells === 1 ? 'mean' : grid.head, theme);
  // The selected head (or layer) outlined, as on screen.
  const [x0, y0] = cellOrigin(layout, grid.layer, typeof grid.head === 'number' && cells > 1 ? grid.head : 0);
  const [x1] = cellOrigin(layout, grid.layer, typeof grid.head === 'number' && cells > 1 ? grid.head : cells - 1);
  p.strokeStyle = theme.highlight;
  p.lineWidth = 3;
  p.strokeRect(x0 - 2.5, y0 - 2.5, x1 - x0 + layout.cell + 5, layout.cell + 5);
}
