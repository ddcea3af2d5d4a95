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
  font: string;
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
    font: get('--canvas-font', '12px system-ui, sans-serif'),
  };
}
