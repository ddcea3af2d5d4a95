/** A horizontal viridis colour bar from 0 to a maximum, with its caption, on its own canvas. */
import { prepareCanvas, pixelRatio } from './canvas';
import { css, viridis, type Theme } from './colors';

const BAR_HEIGHT = 8;
const HEIGHT = 28;

/** Draws the legend `width` CSS pixels wide into `canvas`. */
export function drawLegend(canvas: HTMLCanvasElement, width: number, max: number, caption: string, theme: Theme): void {
  const ctx = prepareCanvas(canvas, width, HEIGHT);
  if (!ctx) return;
  ctx.clearRect(0, 0, width, HEIGHT);
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
  const y = BAR_HEIGHT + 4;
  ctx.textAlign = 'left';
  ctx.fillText('0', 0, y);
  ctx.textAlign = 'right';
  ctx.fillText(max.toFixed(2), width, y);
  ctx.textAlign = 'center';
  ctx.fillText(caption, width / 2, y);
}
