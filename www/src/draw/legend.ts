/** A horizontal viridis colour bar from 0 to a maximum, with its caption, on its own canvas. */
import { prepareCanvas, pixelRatio } from './canvas';
import { css, viridis, type Theme } from './colors';

const BAR_HEIGHT = 8;
/** Where the number labels start, below the bar. */
const TEXT_Y = BAR_HEIGHT + 4;
const LINE_H = 15;
const GAP = 8;

/** Where the legend's caption goes: between the two numbers, or on its own line under them when it would overlap them. */
export interface LegendText {
  /** The caption (cut short with "…" only when even its own line is too narrow). */
  caption: string;
  /** Whether the caption has its own line under the numbers. */
  below: boolean;
  /** Height of the whole legend, bar and text, in CSS pixels. */
  height: number;
}

/** Lays out the legend's text in `width` CSS pixels; `measure` gives a text's width in the legend's font. */
export function legendText(measure: (text: string) => number, width: number, max: number, caption: string): LegendText {
  const side = Math.max(measure('0'), measure(max.toFixed(2)));
  if (measure(caption) <= width - 2 * (side + GAP)) return { caption, below: false, height: TEXT_Y + LINE_H + 1 };
  let text = caption;
  while (text.length > 1 && measure(text) > width) text = `${text.slice(0, -2)}…`;
  return { caption: text, below: true, height: TEXT_Y + 2 * LINE_H + 1 };
}

/** Draws the legend `width` CSS pixels wide into `canvas` (as tall as its text needs). */
export function drawLegend(canvas: HTMLCanvasElement, width: number, max: number, caption: string, theme: Theme): void {
  const scratch = document.createElement('canvas').getContext('2d');
  if (scratch) scratch.font = theme.font;
  const layout = legendText((t) => scratch?.measureText(t).width ?? t.length * 7, width, max, caption);
  const ctx = prepareCanvas(canvas, width, layout.height);
  if (!ctx) return;
  ctx.clearRect(0, 0, width, layout.height);
  // The bar in device pixels: one column per pixel, no seams.
  const dpr = pixelRatio();
  ctx.save();
  ctx.setTransform(1, 0, 0, 1, 0, 0);
  const x1 = Math.round(width * dpr);
  const h = Math.round(BAR_HEIGHT * dpr);
  for (let i = 0; i < x1; i++) {
    ctx.fillStyle = css(viridis(i / Math.max(1, x1 - 1)));
    ctx.fillRect(i, 0, 1, h);
  }
  ctx.restore();
  ctx.fillStyle = theme.muted;
  ctx.font = theme.font;
  ctx.textBaseline = 'top';
  ctx.textAlign = 'left';
  ctx.fillText('0', 0, TEXT_Y);
  ctx.textAlign = 'right';
  ctx.fillText(max.toFixed(2), width, TEXT_Y);
  if (layout.below) {
    ctx.textAlign = 'left';
    ctx.fillText(layout.caption, 0, TEXT_Y + LINE_H);
  } else {
    ctx.textAlign = 'center';
    ctx.fillText(layout.caption, width / 2, TEXT_Y);
  }
  canvas.dataset['caption'] = layout.below ? 'below' : 'inline';
}
