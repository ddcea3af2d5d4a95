/**
 * The head view as vector shapes, for the SVG and PNG exports: every token of both columns (not
 * only the part scrolled into view), and per shown head one group of lines, each line's opacity
 * its weight in 1/64 steps as on screen (lines.ts draws the same layout on a canvas).
 */
import type { Theme } from './colors';
import { layoutLines, paintSplitRules, type LinesLayout, type LinesSpec } from './lines';
import type { FigurePainter } from './painter';

const ALPHA_STEPS = 64;
const MIN_WEIGHT = 0.5 / ALPHA_STEPS;
/** Share of a row's height over which the heads' line ends are spread (as on screen). */
const SPREAD = 0.6;
const TEXT_GAP = 8;

/** `colour` (`#rrggbb`) at opacity `alpha`, as `#rrggbbaa`; other colours are kept opaque. */
function withAlpha(colour: string, alpha: number): string {
  if (!/^#[0-9a-f]{6}$/i.test(colour)) return colour;
  return `${colour}${Math.round(alpha * 255).toString(16).padStart(2, '0')}`;
}

/** The layout of the whole head view drawing `width` CSS pixels wide. */
export function vectorLinesLayout(spec: LinesSpec, width: number, theme: Theme): LinesLayout {
  return layoutLines(spec.tokens, width, theme);
}

/** Paints the head view of `spec` (isolation ignored) at the origin; one `<g data-head>` per shown head. */
export function paintVectorLines(p: FigurePainter, spec: LinesSpec, layout: LinesLayout, theme: Theme): void {
  const { top, rowHeight, leftX, rightX, labels } = layout;
  const len = labels.length;
  const rowY = (i: number): number => top + (i + 0.5) * rowHeight;
  const shown = spec.visible.filter(Boolean).length;
  let slot = 0;
  p.lineWidth = 1.5;
  spec.heads.forEach((weights, h) => {
    if (!spec.visible[h]) return;
    const spread = shown > 1 ? (slot++ / (shown - 1) - 0.5) * rowHeight * SPREAD : 0;
    const colour = spec.colours[h] ?? theme.foreground;
    const lines: [number, number][][] = Array.from({ length: ALPHA_STEPS + 1 }, () => []);
    for (let q = 0; q < len; q++) {
      for (let k = 0; k < len; k++) {
        const w = weights[q * len + k]!;
        if (w >= MIN_WEIGHT) lines[Math.round(Math.min(1, w) * ALPHA_STEPS)]!.push([q, k]);
      }
    }
    p.group({ class: 'head-lines', 'data-head': String(h + 1) }, () => {
      lines.forEach((pairs, step) => {
        if (step === 0 || pairs.length === 0) return;
        p.strokeStyle = withAlpha(colour, step / ALPHA_STEPS);
        p.beginPath();
        for (const [q, k] of pairs) {
          p.moveTo(leftX + 2, rowY(q) + spread);
          p.lineTo(rightX - 2, rowY(k) + spread);
        }
        p.stroke();
      });
    });
  });
  p.font = theme.font;
  p.textBaseline = 'middle';
  p.fillStyle = theme.muted;
  p.textAlign = 'right';
  p.fillText('query', leftX - TEXT_GAP, top / 2);
  p.textAlign = 'left';
  p.fillText('key', rightX + TEXT_GAP, top / 2);
  if (spec.splitAt !== null) paintSplitRules(p, layout, spec.splitAt, 0, theme);
  labels.forEach((label, i) => {
    const focus = spec.focus !== null && i >= spec.focus.start && i < spec.focus.end;
    p.fillStyle = focus ? theme.highlight : theme.foreground;
    p.textAlign = 'right';
    p.fillText(label, leftX - TEXT_GAP, rowY(i));
    p.textAlign = 'left';
    p.fillText(label, rightX + TEXT_GAP, rowY(i));
  });
}
