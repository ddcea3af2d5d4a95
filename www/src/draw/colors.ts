/** Colour scales and theme colours for canvas drawing. */

/** Viridis (perceptually uniform, colour-blind safe) sampled at 0, 0.1, …, 1. */
const VIRIDIS: readonly (readonly [number, number, number])[] = [
  [0x44, 0x01, 0x54],
  [0x48, 0x24, 0x75],
  [0x41, 0x44, 0x87],
  [0x35, 0x5f, 0x8d],
  [0x2a, 0x78, 0x8e],
  [0x21, 0x91, 0x8c],
  [0x22, 0xa8, 0x84],
  [0x44, 0xbf, 0x70],
  [0x7a, 0xd1, 0x51],
  [0xbd, 0xdf, 0x26],
  [0xfd, 0xe7, 0x25],
];

/** An sRGB colour, 0-255 per channel. */
export type Rgb = readonly [number, number, number];

function interpolate(table: readonly Rgb[], t: number): Rgb {
  const x = (Number.isFinite(t) ? Math.min(1, Math.max(0, t)) : 0) * (table.length - 1);
  const i = Math.min(table.length - 2, Math.floor(x));
  const f = x - i;
  const a = table[i]!;
  const b = table[i + 1]!;
  return [
    Math.round(a[0] + (b[0] - a[0]) * f),
    Math.round(a[1] + (b[1] - a[1]) * f),
    Math.round(a[2] + (b[2] - a[2]) * f),
  ];
}

/** 256 precomputed viridis colours. */
const VIRIDIS_LUT: readonly Rgb[] = Array.from({ length: 256 }, (_, i) => interpolate(VIRIDIS, i / 255));

/** Viridis colour of `t` in [0, 1] (clamped). */
export function viridis(t: number): Rgb {
  const i = Number.isFinite(t) ? Math.round(Math.min(1, Math.max(0, t)) * 255) : 0;
  return VIRIDIS_LUT[i]!;
}

/** CSS `rgb()` text of a colour. */
export function css(rgb: Rgb): string {
  return `rgb(${rgb[0]} ${rgb[1]} ${rgb[2]})`;
}

/** Black or white, whichever reads better on `rgb` (WCAG relative luminance). */
export function textOn(rgb: Rgb): string {
  const lin = (c: number): number => {
    const s = c / 255;
    return s <= 0.04045 ? s / 12.92 : ((s + 0.055) / 1.055) ** 2.4;
  };
  const luminance = 0.2126 * lin(rgb[0]) + 0.7152 * lin(rgb[1]) + 0.0722 * lin(rgb[2]);
  return luminance > 0.179 ? '#000' : '#fff';
}

/** Theme colours the canvases use, read from CSS custom properties. */
export interface Theme {
  foreground: string;
  muted: string;
  background: string;
  mask: string;
  maskLine: string;
  highlight: string;
  /** Card background: the canvases paint it under frozen labels. */
  surface: string;
  /** Outline of the keyboard cursor. */
  focusRing: string;
  font: string;
  /** Font for emphasised labels (the hovered token). */
  boldFont: string;
  /** One colour per head (categorical, colour-blind safe for this theme's background). */
  headColours: string[];
}

/** Reads the current theme from CSS custom properties on `element` (light defaults if unset). */
export function readTheme(element: Element = document.documentElement): Theme {
  const style = getComputedStyle(element);
  const get = (name: string, fallback: string): string => style.getPropertyValue(name).trim() || fallback;
  return {
    foreground: get('--fg', '#1b1d23'),
    muted: get('--muted', '#5c6270'),
    background: get('--bg', '#ffffff'),
    mask: get('--mask', '#e4e6eb'),
    maskLine: get('--mask-line', '#b9bec8'),
    highlight: get('--accent', '#d6336c'),
    surface: get('--surface', '#ffffff'),
    focusRing: get('--focus-ring', '#3b5bdb'),
    font: get('--canvas-font', '12px system-ui, sans-serif'),
    boldFont: get('--canvas-font-bold', 'bold 12px system-ui, sans-serif'),
    headColours: get('--head-colours', DEFAULT_HEAD_COLOURS).split(/[\s,]+/).filter(Boolean),
  };
}

/** Light-theme head colours, used when the page sets no `--head-colours` (see style.css). */
const DEFAULT_HEAD_COLOURS = '#0078ff #ff3c69 #a51e96 #78b400 #0f692d #d278b4 #6900ff #a596f0 #69780f #b40f69 #871ec3 #0fb487';

/** The colour of head `head` (0-based) in `theme`; models with more heads than colours reuse them. */
export function headColour(theme: Theme, head: number): string {
  return theme.headColours[head % theme.headColours.length] ?? theme.foreground;
}

let colourParser: CanvasRenderingContext2D | null = null;

/** The sRGB channels of a CSS colour (black if the browser cannot read it). */
export function rgbOf(colour: string): Rgb {
  colourParser ??= document.createElement('canvas').getContext('2d');
  if (!colourParser) return [0, 0, 0];
  colourParser.fillStyle = '#000';
  colourParser.fillStyle = colour;
  const normal = String(colourParser.fillStyle);
  if (/^#[0-9a-f]{6}$/i.test(normal)) {
    const n = parseInt(normal.slice(1), 16);
    return [(n >> 16) & 255, (n >> 8) & 255, n & 255];
  }
  const parts = normal.match(/[\d.]+/g)?.map(Number) ?? [];
  return [parts[0] ?? 0, parts[1] ?? 0, parts[2] ?? 0];
}
