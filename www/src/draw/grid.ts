/**
 * The model view drawing: every layer × head of one sentence as a small heatmap in a grid, each
 * scaled to its own maximum, with the selected cell (or layer) and the keyboard cursor outlined,
 * each head's role as a badge, and the heads of a highlighted role outlined (the others dimmed).
 */
import type { HeadChoice } from '../attention';
import type { AttentionShape } from '../engine/protocol';
import { prepareCanvas, pixelRatio } from './canvas';
import { viridis, type Theme } from './colors';
import type { Painter } from './painter';

/** A cell of the grid; `head` is -1 for a layer's label. */
export interface GridCell {
  layer: number;
  head: number;
}

/** Where everything sits, in CSS pixels. */
export interface GridLayout {
  layers: number;
  heads: number;
  left: number;
  top: number;
  cell: number;
  gap: number;
  width: number;
  height: number;
}

/** What is selected, under the pointer and under the keyboard cursor; badges and highlighted heads. */
export interface GridMarks {
  layer: number;
  head: HeadChoice;
  hover: GridCell | null;
  cursor: GridCell | null;
  /** A short text per cell, `[layer][head]` (the head's role), if any. */
  badges?: readonly (readonly string[])[] | null;
  /** Whether a cell is highlighted; when given, the other cells are dimmed. */
  highlighted?: ((layer: number, head: number) => boolean) | null;
  /** The focus word's pieces `[start, end)` of the `len` tokens drawn: marked beside every map's rows. */
  focusRows?: { start: number; end: number; len: number } | null;
  /** Where sentence B of a pair starts among the `len` tokens drawn: a gap across every map, as in the focus heatmap. */
  split?: { at: number; len: number } | null;
}

/** Width of the focus word's mark beside each map, in CSS pixels (it sits in the gap left of the map). */
const FOCUS_MARK_WIDTH = 2;

/** Badge height and font, in CSS pixels. */
const BADGE_H = 13;
const BADGE_FONT = '600 10px system-ui, sans-serif';

const LEFT = 34;
const TOP = 22;
const GAP = 6;
/** The gap between maps when they are small (a phone). */
const SMALL_GAP = 4;
/** Smallest map: 12 heads still fit a phone's width, so the grid does not scroll sideways there. */
const MIN_CELL = 14;
const MAX_CELL = 96;
/** Smallest map that carries its role badge (the roles panel still lists and highlights them). */
const MIN_BADGE_CELL = 32;

/** Lays out `layers × heads` cells in `available` CSS pixels of width. */
export function layoutGrid(layers: number, heads: number, available: number): GridLayout {
  const pitch = Math.floor((available - LEFT) / Math.max(1, heads));
  const gap = pitch >= 40 + GAP ? GAP : SMALL_GAP;
  const cell = Math.max(MIN_CELL, Math.min(MAX_CELL, pitch - gap));
  return {
    layers,
    heads,
    left: LEFT,
    top: TOP,
    cell,
    gap,
    width: LEFT + heads * (cell + gap),
    height: TOP + layers * (cell + gap),
  };
}

/** Top-left corner of a cell, in CSS pixels. */
export function cellOrigin(layout: GridLayout, layer: number, head: number): [number, number] {
  return [layout.left + head * (layout.cell + layout.gap), layout.top + layer * (layout.cell + layout.gap)];
}

/** The cell (or layer label, `head` -1) under the point (`x`, `y`), if any. */
export function hitGrid(layout: GridLayout, x: number, y: number): GridCell | null {
  const pitch = layout.cell + layout.gap;
  const layer = Math.floor((y - layout.top) / pitch);
  if (y < layout.top || layer >= layout.layers || y - layout.top - layer * pitch > layout.cell) return null;
  if (x < layout.left) return { layer, head: -1 };
  const head = Math.floor((x - layout.left) / pitch);
  if (head >= layout.heads || x - layout.left - head * pitch > layout.cell) return null;
  return { layer, head };
}

/**
 * Pools the `len×len` top-left block of the `n×n` map starting at `start` of `buffer` into
 * `pooled` (`side×side`): each entry the largest value of the tokens it covers. Returns the map's
 * largest value.
 */
export function poolMap(buffer: Float32Array, start: number, n: number, len: number, side: number, pooled: Float32Array): number {
  const bin = (i: number): number => Math.min(side - 1, Math.floor((i * side) / len));
  pooled.fill(0);
  let max = 0;
  for (let q = 0; q < len; q++) {
    const row = bin(q) * side;
    const base = start + q * n;
    for (let k = 0; k < len; k++) {
      const v = buffer[base + k]!;
      const at = row + bin(k);
      if (v > pooled[at]!) pooled[at] = v;
      if (v > max) max = v;
    }
  }
  return max;
}

/**
 * Paints every head's `len×len` attention (padding dropped) into one atlas canvas, head `h` of
 * layer `l` at (`h·p`, `l·p`) with `p = min(len, size)`: when a sentence has more tokens than
 * pixels, each pixel shows the largest weight of the tokens it covers, so sharp links stay visible.
 * Each map is scaled to its own maximum, or all to `scaleMax` when given (one colour scale).
 */
export function renderAtlas(attention: Float32Array, shape: AttentionShape, len: number, size: number, scaleMax?: number): HTMLCanvasElement {
  const [layers, heads, n] = shape;
  const p = Math.max(1, Math.min(len, size));
  const atlas = document.createElement('canvas');
  atlas.width = heads * p;
  atlas.height = layers * p;
  const ctx = atlas.getContext('2d');
  if (!ctx) return atlas;
  const image = ctx.createImageData(p, p);
  const pooled = new Float32Array(p * p);
  for (let l = 0; l < layers; l++) {
    for (let h = 0; h < heads; h++) {
      const max = poolMap(attention, (l * heads + h) * n * n, n, len, p, pooled);
      const top = scaleMax ?? max;
      const scale = top > 0 ? 1 / top : 1;
      for (let i = 0; i < p * p; i++) {
        const [r, g, b] = viridis(pooled[i]! * scale);
        image.data[i * 4] = r;
        image.data[i * 4 + 1] = g;
        image.data[i * 4 + 2] = b;
        image.data[i * 4 + 3] = 255;
      }
      ctx.putImageData(image, h * p, l * p);
    }
  }
  return atlas;
}

/** Draws the grid from `atlas` (see `renderAtlas`) with labels and marks. */
export function drawGrid(canvas: HTMLCanvasElement, atlas: HTMLCanvasElement, layout: GridLayout, marks: GridMarks, theme: Theme): void {
  const ctx = prepareCanvas(canvas, layout.width, layout.height);
  if (!ctx) return;
  const { layers, heads, cell } = layout;
  const p = atlas.width / Math.max(1, heads);
  ctx.fillStyle = theme.surface;
  ctx.fillRect(0, 0, layout.width, layout.height);
  // Upscaled small sentences stay blocky (one block per token); downscaled long ones are smoothed.
  ctx.imageSmoothingEnabled = p > cell * pixelRatio();
  for (let l = 0; l < layers; l++) {
    for (let h = 0; h < heads; h++) {
      const [x, y] = cellOrigin(layout, l, h);
      ctx.drawImage(atlas, h * p, l * p, p, p, x, y, cell, cell);
    }
  }
  if (marks.split) paintSplits(ctx, layout, marks.split, theme);
  paintBadges(ctx, layout, marks, theme);
  paintFocusRows(ctx, layout, marks, theme);
  paintGridLabels(ctx, layout, marks.layer, marks.head, theme);

  const outline = (l: number, h0: number, h1: number, colour: string, width: number, dash: number[] = []): void => {
    const [x0, y] = cellOrigin(layout, l, h0);
    const [x1] = cellOrigin(layout, l, h1);
    ctx.strokeStyle = colour;
    ctx.lineWidth = width;
    ctx.setLineDash(dash);
    const o = width / 2 + 1;
    ctx.strokeRect(x0 - o, y - o, x1 - x0 + cell + 2 * o, cell + 2 * o);
    ctx.setLineDash([]);
  };
  if (typeof marks.head === 'number') outline(marks.layer, marks.head, marks.head, theme.highlight, 3);
  else outline(marks.layer, 0, heads - 1, theme.highlight, 3);
  if (marks.hover && marks.hover.head >= 0) outline(marks.hover.layer, marks.hover.head, marks.hover.head, theme.foreground, 1);
  if (marks.cursor) outline(marks.cursor.layer, marks.cursor.head, marks.cursor.head, theme.focusRing, 2, [4, 3]);
}

/** The column labels (`H1`…, or "layer" for one map per layer) and row labels (`L1`…), the selected ones highlighted. */
export function paintGridLabels(p: Painter, layout: GridLayout, layer: number, head: HeadChoice, theme: Theme): void {
  const { layers, heads, cell } = layout;
  p.font = theme.font;
  p.textBaseline = 'middle';
  p.textAlign = 'center';
  for (let h = 0; h < heads; h++) {
    const [x] = cellOrigin(layout, 0, h);
    p.fillStyle = head === h ? theme.highlight : theme.muted;
    // Narrow maps (a phone) are numbered without the H.
    p.fillText(heads === 1 ? 'layer' : cell + layout.gap >= 30 ? `H${h + 1}` : `${h + 1}`, x + cell / 2, layout.top / 2);
  }
  p.textAlign = 'right';
  for (let l = 0; l < layers; l++) {
    const [, y] = cellOrigin(layout, l, 0);
    p.fillStyle = layer === l ? theme.highlight : theme.muted;
    p.fillText(`L${l + 1}`, layout.left - 8, y + cell / 2);
  }
}

/**
 * A pair's boundary across every map: a line in the page's background colour before sentence B's
 * first row and column (at `at / len` of the map; pooled maps put it where that token falls).
 */
export function paintSplits(p: Painter, layout: GridLayout, split: { at: number; len: number }, theme: Theme): void {
  if (split.at <= 0 || split.at >= split.len) return;
  const { cell } = layout;
  const offset = (split.at / split.len) * cell;
  p.strokeStyle = theme.surface;
  p.lineWidth = cell >= 40 ? 2 : 1;
  p.beginPath();
  for (let l = 0; l < layout.layers; l++) {
    for (let h = 0; h < layout.heads; h++) {
      const [x, y] = cellOrigin(layout, l, h);
      p.moveTo(x + offset, y);
      p.lineTo(x + offset, y + cell);
      p.moveTo(x, y + offset);
      p.lineTo(x + cell, y + offset);
    }
  }
  p.stroke();
}

/** Beside every map, a bar at the focus word's rows (each of its pieces), so every head shows where the word is. */
function paintFocusRows(ctx: CanvasRenderingContext2D, layout: GridLayout, marks: GridMarks, theme: Theme): void {
  const rows = marks.focusRows;
  if (!rows || rows.len <= 0 || rows.end <= rows.start) return;
  const { cell } = layout;
  const y0 = (rows.start / rows.len) * cell;
  const height = Math.max(2, ((rows.end - rows.start) / rows.len) * cell);
  ctx.fillStyle = theme.highlight;
  for (let l = 0; l < layout.layers; l++) {
    for (let h = 0; h < layout.heads; h++) {
      const [x, y] = cellOrigin(layout, l, h);
      ctx.fillRect(x - layout.gap + 1, y + y0, FOCUS_MARK_WIDTH, height);
    }
  }
}

/** The role badges in each cell's lower-left corner, and the highlighted cells outlined (the others dimmed). */
function paintBadges(ctx: CanvasRenderingContext2D, layout: GridLayout, marks: GridMarks, theme: Theme): void {
  const { layers, heads, cell } = layout;
  const highlighted = marks.highlighted;
  for (let l = 0; l < layers; l++) {
    for (let h = 0; h < heads; h++) {
      const [x, y] = cellOrigin(layout, l, h);
      if (highlighted && !highlighted(l, h)) {
        ctx.globalAlpha = 0.7;
        ctx.fillStyle = theme.surface;
        ctx.fillRect(x, y, cell, cell);
        ctx.globalAlpha = 1;
      }
      const badge = marks.badges?.[l]?.[h];
      if (!badge || cell < MIN_BADGE_CELL) continue;
      ctx.font = BADGE_FONT;
      const width = Math.min(cell, Math.ceil(ctx.measureText(badge).width) + 6);
      ctx.fillStyle = theme.surface;
      ctx.fillRect(x, y + cell - BADGE_H, width, BADGE_H);
      ctx.fillStyle = theme.foreground;
      ctx.textAlign = 'left';
      ctx.textBaseline = 'middle';
      ctx.fillText(badge, x + 3, y + cell - BADGE_H / 2, cell - 6);
    }
  }
  if (!highlighted) return;
  ctx.strokeStyle = theme.foreground;
  ctx.lineWidth = 2;
  for (let l = 0; l < layers; l++) {
    for (let h = 0; h < heads; h++) {
      if (!highlighted(l, h)) continue;
      const [x, y] = cellOrigin(layout, l, h);
      ctx.strokeRect(x - 2, y - 2, cell + 4, cell + 4);
    }
  }
}
