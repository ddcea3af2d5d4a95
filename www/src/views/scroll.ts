/**
 * A scroll box for big canvases: a spacer gives the scroll range, and a stage the size of the
 * visible area stays in view (CSS sticky) holding the canvases, which redraw what is visible.
 */
import type { Viewport } from '../draw/heatmap';
import { el } from './dom';

/** The scroll box, its sticky stage and the content size it scrolls over. */
export class ScrollStage {
  /** The scrolling element (keyboard-focusable so arrow keys scroll it). */
  readonly element: HTMLDivElement;
  /** Holds the canvases; sized to the viewport. */
  readonly stage: HTMLDivElement;
  private readonly spacer: HTMLDivElement;
  private contentWidth = 0;
  private contentHeight = 0;
  private lastWidth = -1;

  /** `onScroll` runs on every scroll, `onResize` when the box's width changes. */
  constructor(label: string, canvases: readonly HTMLCanvasElement[], onScroll: () => void, onResize: () => void) {
    this.stage = el('div', { className: 'scroll-stage' }, canvases);
    this.spacer = el('div', { className: 'scroll-spacer' }, [this.stage]);
    this.element = el('div', { className: 'scroll-box', attrs: { tabindex: '0', role: 'group', 'aria-label': label } }, [this.spacer]);
    this.element.addEventListener('scroll', onScroll, { passive: true });
    new ResizeObserver(() => {
      const width = this.element.clientWidth;
      if (width === this.lastWidth) return;
      this.lastWidth = width;
      onResize();
    }).observe(this.element);
  }

  /** Width available for content, in CSS pixels (0 while hidden). */
  availableWidth(): number {
    return this.element.clientWidth;
  }

  /** Sets the size of what scrolls. */
  setContentSize(width: number, height: number): void {
    this.contentWidth = Math.ceil(width);
    this.contentHeight = Math.ceil(height);
    this.spacer.style.width = `${this.contentWidth}px`;
    this.spacer.style.height = `${this.contentHeight}px`;
  }

  /** The visible part of the content; also sizes the stage to it. */
  viewport(): Viewport {
    const box = this.element;
    const width = Math.max(1, Math.min(this.contentWidth, box.clientWidth || this.contentWidth));
    const height = Math.max(1, Math.min(this.contentHeight, box.clientHeight || this.contentHeight));
    this.stage.style.width = `${width}px`;
    this.stage.style.height = `${height}px`;
    return {
      x: Math.max(0, Math.min(box.scrollLeft, this.contentWidth - width)),
      y: Math.max(0, Math.min(box.scrollTop, this.contentHeight - height)),
      width,
      height,
    };
  }

  /** Scrolls so the content point (`x`, `y`) sits where the viewport point (`vx`, `vy`) is. */
  anchor(x: number, y: number, vx: number, vy: number): void {
    this.element.scrollLeft = Math.max(0, x - vx);
    this.element.scrollTop = Math.max(0, y - vy);
  }

  /** Scrolls the least needed to show the content band `[x, x + w)` right of a frozen band of `left` pixels. */
  revealColumns(x: number, w: number, left: number): void {
    const box = this.element;
    if (x - left < box.scrollLeft) box.scrollLeft = x - left;
    else if (x + w > box.scrollLeft + box.clientWidth) box.scrollLeft = x + w - box.clientWidth;
  }

  /** Scrolls the least needed to show the content band `[y, y + h)` below a frozen band of `top` pixels. */
  revealRows(y: number, h: number, top: number): void {
    const box = this.element;
    if (y - top < box.scrollTop) box.scrollTop = y - top;
    else if (y + h > box.scrollTop + box.clientHeight) box.scrollTop = y + h - box.clientHeight;
  }
}
