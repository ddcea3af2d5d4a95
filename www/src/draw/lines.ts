/**
 * The head view drawing (after bertviz): tokens in two columns, queries left and keys right, a line
 * from each query to each key per head, its opacity the attention weight and its colour the head's.
 * Drawn one viewport at a time: the column headings stay put while the tokens scroll.
 */
import { prepareCanvas, shorten } from './canvas';
import type { Theme } from './colors';
import type { Painter } from './painter';
import type { Viewport } from './heatmap';

/** A token of one column. */
export interface LinesHit {
  side: 'query' | 'key';
  index: number;
}

/** What to draw. */
export interface LinesSpec {
  tokens: readonly string[];
  /** Per head, the `len×len` attention (row = query, column = key). */
  heads: readonly Float32Array[];
  visible: readonly boolean[];
  colours: readonly string[];
  /** Tokens `[start, end)` drawn in the accent colour (the focus word's pieces), or null. */
  focus: { start: number; end: number } | null;
  /** When set, only the lines of this token are drawn. */
  isolate: LinesHit | null;
  /** Where sentence B of a pair starts (a rule across both columns above it), or null. */
  splitAt: number | null;
}

/** Where everything sits, in CSS pixels of the whole (unscrolled) drawing. */
export interface LinesLayout {
  width: number;
  height: number;
  /** Height of the frozen heading band. */
  top: number;
  rowHeight: number;
  /** Right end of the query labels and left end of the key labels. */
  leftX: number;
  rightX: number;
  labels: string[];
}

/** Row height: roomy for short sentences, compact (but readable) for long ones. */
const MIN_ROW = 20;
const MAX_ROW = 34;
/** Height short sentences spread over, in CSS pixels. */
const TARGET_HEIGHT = 360;
const HEADING = 26;
const QUERY_HEADING = 'query';
const KEY_HEADING = 'key';
const PAD = 8;
const TEXT_GAP = 8;
/** Narrowest gap between the columns: on a phone the lines still get room, without pushing a column off the card. */
const MIN_GAP = 96;
const MAX_GAP = 380;
const LABEL_MAX_CHARS = 16;

/** Share of a row's height over which the heads' line ends are spread. */
const SPREAD = 0.6;
/**
 * Opacity steps: a line's opacity is its weight rounded to 1/64, and lines of one head are batched
 * into one path per step. Weights under 1/128 round to nothing and are skipped.
 */
const ALPHA_STEPS = 64;
const MIN_WEIGHT = 0.5 / ALPHA_STEPS;

/** Lays out `tokens` in `available` CSS pixels of width. */
export function layoutLines(tokens: readonly string[], available: number, theme: Theme): LinesLayout {
  const labels = tokens.map((t) => shorten(t, LABEL_MAX_CHARS));
  const ctx = document.createElement('canvas').getContext('2d');
  let widest = 40;
  if (ctx) {
    ctx.font = theme.boldFont;
    for (const label of new Set([...labels, QUERY_HEADING, KEY_HEADING])) widest = Math.max(widest, ctx.measureText(label).width);
  }
  const labelWidth = Math.ceil(widest) + TEXT_GAP;
  const labelsWidth = 2 * (PAD + labelWidth);
  const width = labelsWidth + Math.max(MIN_GAP, Math.min(MAX_GAP, available - labelsWidth));
  const rowHeight = Math.round(Math.max(MIN_ROW, Math.min(MAX_ROW, TARGET_HEIGHT / Math.max(1, tokens.length))));
  return {
    width,
    height: HEADING + tokens.length * rowHeight + PAD,
    top: HEADING,
    rowHeight,
    leftX: PAD + labelWidth,
    rightX: width - PAD - labelWidth,
    labels,
  };
}

/**
 * A pair's boundary: a dashed rule across both token columns between sentence A's last token and
 * B's first (`dy` shifts it, for a scrolled viewport).
 */
export function paintSplitRules(p: Painter, layout: LinesLayout, splitAt: number, dy: number, theme: Theme): void {
  if (splitAt <= 0 || splitAt >= layout.labels.length) return;
  const y = layout.top + splitAt * layout.rowHeight + dy;
  p.strokeStyle = theme.muted;
  p.lineWidth = 1;
  p.setLineDash([4, 3]);
  p.beginPath();
  p.moveTo(PAD, y);
  p.lineTo(layout.leftX, y);
  p.moveTo(layout.rightX, y);
  p.lineTo(layout.width - PAD, y);
  p.stroke();
  p.setLineDash([]);
}

/** Which token the viewport point (`x`, `y`) is over, if any. */
export function hitLines(layout: LinesLayout, view: Viewport, x: number, y: number): LinesHit | null {
  if (y < layout.top) return null;
  const index = Math.floor((y - layout.top + view.y) / layout.rowHeight);
  if (index < 0 || index >= layout.labels.length) return null;
  if (x <= layout.leftX) return { side: 'query', index };
  if (x >= layout.rightX) return { side: 'key', index };
  return null;
}

/** Draws the visible part into `canvas`, sized to the viewport. */
export function drawLines(canvas: HTMLCanvasElement, spec: LinesSpec, layout: LinesLayout, view: Viewport, theme: Theme): void {
  const ctx = prepareCanvas(canvas, view.width, view.height);
  if (!ctx) return;
  const { top, rowHeight, leftX, rightX } = layout;
  const len = layout.labels.length;
  const rowY = (i: number): number => top + (i + 0.5) * rowHeight - view.y;
  ctx.fillStyle = theme.surface;
  ctx.fillRect(0, 0, view.width, view.height);

  ctx.save();
  ctx.beginPath();
  ctx.rect(0, top, view.width, view.height - top);
  ctx.clip();
  ctx.translate(-view.x, 0);
  ctx.lineWidth = spec.isolate ? 2 : 1.5;
  const x0 = leftX + 2;
  const x1 = rightX - 2;
  const lowY = top - rowHeight;
  const highY = view.height + rowHeight;
  const iso = spec.isolate;
  const [q0, q1] = iso?.side === 'query' ? [iso.index, iso.index + 1] : [0, len];
  const [k0, k1] = iso?.side === 'key' ? [iso.index, iso.index + 1] : [0, len];
  // Each head's lines end at its own height within a token's row, so overlapping heads stay apart;
  // the isolated token's end stays a single point.
  const shown = spec.visible.filter(Boolean).length;
  let slot = 0;
  spec.heads.forEach((weights, h) => {
    if (!spec.visible[h]) return;
    const spread = shown > 1 ? ((slot++ / (shown - 1)) - 0.5) * rowHeight * SPREAD : 0;
    const dq = iso?.side === 'query' ? 0 : spread;
    const dk = iso?.side === 'key' ? 0 : spread;
    const paths = Array.from({ length: ALPHA_STEPS + 1 }, () => new Path2D());
    const used = new Uint8Array(ALPHA_STEPS + 1);
    for (let q = q0; q < q1; q++) {
      const yq = rowY(q);
      for (let k = k0; k < k1; k++) {
        const w = weights[q * len + k]!;
        if (w < MIN_WEIGHT) continue;
        const yk = rowY(k);
        if ((yq < lowY && yk < lowY) || (yq > highY && yk > highY)) continue;
        const step = Math.round(Math.min(1, w) * ALPHA_STEPS);
        paths[step]!.moveTo(x0, yq + dq);
        paths[step]!.lineTo(x1, yk + dk);
        used[step] = 1;
      }
    }
    ctx.strokeStyle = spec.colours[h] ?? theme.foreground;
    for (let step = 1; step <= ALPHA_STEPS; step++) {
      if (!used[step]) continue;
      ctx.globalAlpha = step / ALPHA_STEPS;
      ctx.stroke(paths[step]!);
    }
  });
  ctx.globalAlpha = 1;

  // Token labels: queries right-aligned on the left, keys left-aligned on the right.
  ctx.textBaseline = 'middle';
  const first = Math.max(0, Math.floor(view.y / rowHeight) - 1);
  const last = Math.min(len, Math.ceil((view.y + view.height) / rowHeight) + 1);
  for (let i = first; i < last; i++) {
    const y = rowY(i);
    for (const side of ['query', 'key'] as const) {
      const isolated = iso?.side === side && iso.index === i;
      const label = layout.labels[i] ?? '';
      ctx.font = isolated ? theme.boldFont : theme.font;
      const w = ctx.measureText(label).width;
      const x = side === 'query' ? leftX - TEXT_GAP : rightX + TEXT_GAP;
      if (isolated) {
        ctx.fillStyle = theme.mask;
        const bx = side === 'query' ? x - w - 4 : x - 4;
        ctx.fillRect(bx, y - rowHeight / 2 + 1, w + 8, rowHeight - 2);
      }
      ctx.fillStyle = spec.focus && i >= spec.focus.start && i < spec.focus.end ? theme.highlight : theme.foreground;
      ctx.textAlign = side === 'query' ? 'right' : 'left';
      ctx.fillText(label, x, y);
    }
  }
  if (spec.splitAt !== null) paintSplitRules(ctx, layout, spec.splitAt, -view.y, theme);
  ctx.restore();

  // Frozen headings.
  ctx.fillStyle = theme.surface;
  ctx.fillRect(0, 0, view.width, top);
  ctx.fillStyle = theme.muted;
  ctx.font = theme.font;
  ctx.textBaseline = 'middle';
  ctx.textAlign = 'right';
  ctx.fillText(QUERY_HEADING, leftX - TEXT_GAP - view.x, top / 2);
  ctx.textAlign = 'left';
  ctx.fillText(KEY_HEADING, rightX + TEXT_GAP - view.x, top / 2);
}
