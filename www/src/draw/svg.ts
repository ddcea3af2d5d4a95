/**
 * An SVG writer with the canvas calls of `Painter`, so the charts and heatmaps draw into a vector
 * file through the same code that draws them on screen: rectangles, text, paths and circles
 * (no embedded image). Colours become hex with an opacity, fonts become SVG font attributes.
 */
import type { Painter } from './painter';

/** A 2-D affine transform `[a, b, c, d, e, f]`, as canvas and SVG write it. */
type Matrix = [number, number, number, number, number, number];

const IDENTITY: Matrix = [1, 0, 0, 1, 0, 0];

/** What `save` keeps and `restore` brings back. */
interface DrawState {
  fillStyle: Painter['fillStyle'];
  strokeStyle: Painter['strokeStyle'];
  lineWidth: number;
  lineJoin: CanvasLineJoin;
  font: string;
  textAlign: CanvasTextAlign;
  textBaseline: CanvasTextBaseline;
  dash: number[];
  matrix: Matrix;
}

/** One piece of the current path, in document coordinates. */
type PathPiece = { kind: 'move' | 'line'; x: number; y: number } | { kind: 'circle'; x: number; y: number; r: number };

/** Vertical shift of text for each canvas baseline (SVG text sits on the alphabetic baseline). */
const BASELINE_SHIFT: Partial<Record<CanvasTextBaseline, string>> = { middle: '0.35em', top: '0.8em', hanging: '0.8em', bottom: '-0.2em', ideographic: '-0.2em' };
const ANCHOR: Record<CanvasTextAlign, string> = { left: 'start', start: 'start', center: 'middle', right: 'end', end: 'end' };

let scratch: CanvasRenderingContext2D | null = null;

/** A canvas context for measuring text and reading colours. */
function scratchContext(): CanvasRenderingContext2D | null {
  scratch ??= document.createElement('canvas').getContext('2d');
  return scratch;
}

/** Rounds to 2 decimals (a 100th of a pixel is plenty and keeps the file small). */
function num(v: number): string {
  return String(Math.round(v * 100) / 100);
}

function escapeXml(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
}

/** A CSS colour as SVG paint: `#rrggbb` and, when not opaque, an opacity. */
function paintOf(style: Painter['fillStyle']): { colour: string; opacity: number } {
  const ctx = scratchContext();
  if (typeof style !== 'string' || !ctx) return { colour: '#000000', opacity: 1 };
  ctx.fillStyle = '#000';
  ctx.fillStyle = style;
  const normal = String(ctx.fillStyle);
  if (normal.startsWith('#')) return { colour: normal, opacity: 1 };
  const [r = 0, g = 0, b = 0, a = 1] = normal.match(/[\d.]+/g)?.map(Number) ?? [];
  const hex = `#${[r, g, b].map((c) => Math.round(c).toString(16).padStart(2, '0')).join('')}`;
  return { colour: hex, opacity: a };
}

/** SVG font attributes of a canvas font such as `bold 12px system-ui, sans-serif`. */
function fontAttributes(font: string): string {
  const match = /(\d+(?:\.\d+)?)px\s+(.+)$/.exec(font);
  const size = match?.[1] ?? '10';
  const family = match?.[2] ?? 'sans-serif';
  const bold = /\bbold\b|\b[6-9]00\b/.test(font.slice(0, match?.index ?? 0));
  return `font-size="${size}" font-family="${escapeXml(family)}"${bold ? ' font-weight="bold"' : ''}`;
}

export class SvgPainter implements Painter {
  fillStyle: Painter['fillStyle'] = '#000';
  strokeStyle: Painter['strokeStyle'] = '#000';
  lineWidth = 1;
  lineJoin: CanvasLineJoin = 'miter';
  font = '10px sans-serif';
  textAlign: CanvasTextAlign = 'start';
  textBaseline: CanvasTextBaseline = 'alphabetic';
  private dash: number[] = [];
  private matrix: Matrix = [...IDENTITY];
  private readonly saved: DrawState[] = [];
  private path: PathPiece[] = [];
  private readonly parts: string[] = [];

  /** The finished document, `width×height` CSS pixels, titled `title` when given. */
  document(width: number, height: number, title?: string): string {
    return (
      `<?xml version="1.0" encoding="UTF-8"?>\n` +
      `<svg xmlns="http://www.w3.org/2000/svg" width="${num(width)}" height="${num(height)}" viewBox="0 0 ${num(width)} ${num(height)}">\n` +
      (title ? `<title>${escapeXml(title)}</title>\n` : '') +
      `${this.parts.join('\n')}\n</svg>\n`
    );
  }

  /** Wraps what `draw` paints in a `<g>` with `attributes` (names what it is, for readers of the file). */
  group(attributes: Record<string, string>, draw: () => void): void {
    const attrs = Object.entries(attributes).map(([k, v]) => ` ${k}="${escapeXml(v)}"`).join('');
    this.parts.push(`<g${attrs}>`);
    draw();
    this.parts.push('</g>');
  }

  fillRect(x: number, y: number, w: number, h: number): void {
    this.parts.push(`<rect ${this.placed(x, y, 'x', 'y')} width="${num(w)}" height="${num(h)}"${this.fillAttributes()}/>`);
  }

  strokeRect(x: number, y: number, w: number, h: number): void {
    this.parts.push(`<rect ${this.placed(x, y, 'x', 'y')} width="${num(w)}" height="${num(h)}" fill="none"${this.strokeAttributes()}/>`);
  }

  fillText(text: string, x: number, y: number): void {
    this.text(text, x, y, this.fillAttributes());
  }

  strokeText(text: string, x: number, y: number): void {
    this.text(text, x, y, ` fill="none"${this.strokeAttributes()}`);
  }

  measureText(text: string): TextMetrics {
    const ctx = scratchContext();
    if (!ctx) return { width: text.length * 7 } as TextMetrics;
    ctx.font = this.font;
    return ctx.measureText(text);
  }

  beginPath(): void {
    this.path = [];
  }

  moveTo(x: number, y: number): void {
    this.path.push({ kind: 'move', ...this.point(x, y) });
  }

  lineTo(x: number, y: number): void {
    this.path.push({ kind: 'line', ...this.point(x, y) });
  }

  /** Full circles become circles; a part of one, a polyline of short segments. */
  arc(x: number, y: number, radius: number, startAngle: number, endAngle: number, counterclockwise = false): void {
    const scale = Math.hypot(this.matrix[0], this.matrix[1]);
    if (Math.abs(endAngle - startAngle) >= Math.PI * 2 - 1e-9) {
      this.path.push({ kind: 'circle', ...this.point(x, y), r: radius * scale });
      return;
    }
    let sweep = endAngle - startAngle;
    if (counterclockwise && sweep > 0) sweep -= Math.PI * 2;
    if (!counterclockwise && sweep < 0) sweep += Math.PI * 2;
    const steps = Math.max(2, Math.ceil(Math.abs(sweep) / (Math.PI / 16)));
    for (let i = 0; i <= steps; i++) {
      const a = startAngle + (sweep * i) / steps;
      const kind = i === 0 && this.path.length === 0 ? 'move' : 'line';
      this.path.push({ kind, ...this.point(x + radius * Math.cos(a), y + radius * Math.sin(a)) });
    }
  }

  fill(): void {
    this.emitPath(this.fillAttributes());
  }

  stroke(): void {
    this.emitPath(` fill="none"${this.strokeAttributes()}`);
  }

  setLineDash(segments: Iterable<number>): void {
    this.dash = Array.from(segments);
  }

  save(): void {
    const { fillStyle, strokeStyle, lineWidth, lineJoin, font, textAlign, textBaseline, dash, matrix } = this;
    this.saved.push({ fillStyle, strokeStyle, lineWidth, lineJoin, font, textAlign, textBaseline, dash: [...dash], matrix: [...matrix] });
  }

  restore(): void {
    const state = this.saved.pop();
    if (!state) return;
    ({ fillStyle: this.fillStyle, strokeStyle: this.strokeStyle, lineWidth: this.lineWidth, lineJoin: this.lineJoin, font: this.font } = state);
    ({ textAlign: this.textAlign, textBaseline: this.textBaseline, dash: this.dash, matrix: this.matrix } = state);
  }

  translate(x: number, y: number): void {
    this.multiply([1, 0, 0, 1, x, y]);
  }

  rotate(angle: number): void {
    const [c, s] = [Math.cos(angle), Math.sin(angle)];
    this.multiply([c, s, -s, c, 0, 0]);
  }

  private multiply([a2, b2, c2, d2, e2, f2]: Matrix): void {
    const [a, b, c, d, e, f] = this.matrix;
    this.matrix = [a * a2 + c * b2, b * a2 + d * b2, a * c2 + c * d2, b * c2 + d * d2, a * e2 + c * f2 + e, b * e2 + d * f2 + f];
  }

  /** Whether the transform only moves (so coordinates can be written already transformed). */
  private onlyMoves(): boolean {
    const [a, b, c, d] = this.matrix;
    return a === 1 && b === 0 && c === 0 && d === 1;
  }

  private point(x: number, y: number): { x: number; y: number } {
    const [a, b, c, d, e, f] = this.matrix;
    return { x: a * x + c * y + e, y: b * x + d * y + f };
  }

  /** Position attributes of a shape at (`x`, `y`): moved coordinates, or a `transform` when rotated. */
  private placed(x: number, y: number, xName: string, yName: string): string {
    if (this.onlyMoves()) {
      const p = this.point(x, y);
      return `${xName}="${num(p.x)}" ${yName}="${num(p.y)}"`;
    }
    return `${xName}="${num(x)}" ${yName}="${num(y)}" transform="matrix(${this.matrix.map(num).join(' ')})"`;
  }

  private text(text: string, x: number, y: number, paint: string): void {
    const shift = BASELINE_SHIFT[this.textBaseline];
    const stroke = paint.includes('stroke=') ? ` stroke-linejoin="${this.lineJoin}"` : '';
    this.parts.push(
      `<text ${this.placed(x, y, 'x', 'y')}${shift ? ` dy="${shift}"` : ''} text-anchor="${ANCHOR[this.textAlign]}" ${fontAttributes(this.font)}${paint}${stroke}>${escapeXml(text)}</text>`,
    );
  }

  private fillAttributes(): string {
    const { colour, opacity } = paintOf(this.fillStyle);
    return ` fill="${colour}"${opacity < 1 ? ` fill-opacity="${num(opacity)}"` : ''}`;
  }

  private strokeAttributes(): string {
    const { colour, opacity } = paintOf(this.strokeStyle);
    const width = this.lineWidth * Math.hypot(this.matrix[0], this.matrix[1]);
    const dash = this.dash.length ? ` stroke-dasharray="${this.dash.map(num).join(' ')}"` : '';
    return ` stroke="${colour}"${opacity < 1 ? ` stroke-opacity="${num(opacity)}"` : ''} stroke-width="${num(width)}"${dash}`;
  }

  /** The current path as one `<circle>` when it is one, else a `<path>`. */
  private emitPath(paint: string): void {
    const only = this.path.length === 1 ? this.path[0] : undefined;
    if (only?.kind === 'circle') {
      this.parts.push(`<circle cx="${num(only.x)}" cy="${num(only.y)}" r="${num(only.r)}"${paint}/>`);
      return;
    }
    const d = this.path
      .map((p) =>
        p.kind === 'circle'
          ? `M${num(p.x - p.r)} ${num(p.y)}A${num(p.r)} ${num(p.r)} 0 1 0 ${num(p.x + p.r)} ${num(p.y)}A${num(p.r)} ${num(p.r)} 0 1 0 ${num(p.x - p.r)} ${num(p.y)}Z`
          : `${p.kind === 'move' ? 'M' : 'L'}${num(p.x)} ${num(p.y)}`,
      )
      .join('');
    if (d) this.parts.push(`<path d="${d}"${paint}/>`);
  }
}
