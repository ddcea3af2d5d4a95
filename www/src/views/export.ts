/**
 * Export and share: the current view's figure as a PNG (the SVG figure painted on a canvas, its
 * caption in the file too), its numbers as JSON and CSV (raw attention, or a mixing measure's own values
 * and the row shares the views draw), and the `<bert-attention>` markup that embeds the same
 * figure in another page. What each view exports is chosen in exporter.ts.
 */
import { headMatrix, type HeadChoice } from '../attention';
import { canvasFigurePainter } from '../draw/painter';
import type { BatchRun } from '../engine/protocol';
import { isPairLine, joinSentenceList } from '../lines';
import { MEASURE_INFO, type Measure } from '../measure';
import { measuredMatrix } from '../mixing';
import { isSpecial, withoutSpecials } from '../specials';
import type { Figure } from './svg-figure';

/** A table of numbers: a header row and data rows (CSV and JSON are made from it). */
export interface NumberTable {
  /** What the numbers are, for the JSON. */
  description: string;
  columns: string[];
  rows: (string | number)[][];
}

/** Saves `blob` as `filename` through a temporary link. */
export function download(blob: Blob, filename: string): void {
  const url = URL.createObjectURL(blob);
  const a = document.createElement('a');
  a.href = url;
  a.download = filename;
  a.rel = 'noopener';
  document.body.append(a);
  a.click();
  a.remove();
  window.setTimeout(() => URL.revokeObjectURL(url), 10_000);
}

/** Largest side of an exported PNG, in pixels (browsers refuse bigger canvases). */
const MAX_PNG_SIDE = 16_384;
/** Most pixels of an exported PNG: painting and compressing more takes many seconds. */
const MAX_PNG_PIXELS = 12_000_000;
/** Pixels per CSS pixel of an exported PNG (sharp in print and on high-density screens), within the limits above. */
export const PNG_SCALE = 2;
/** Height of the bands a PNG is painted in, in pixels: the page stays responsive between them. */
const BAND = 1024;

/** The pixels per CSS pixel of the PNG of a `width×height` figure. */
export function pngScale(width: number, height: number): number {
  const w = Math.max(width, 1);
  const h = Math.max(height, 1);
  return Math.min(PNG_SCALE, MAX_PNG_SIDE / Math.max(w, h), Math.sqrt(MAX_PNG_PIXELS / (w * h)));
}

/**
 * `figure` painted on a canvas at `pngScale` as a PNG, with its caption stored in the file as its
 * UTF-8 “Description” text. A tall figure (a head view of hundreds of tokens draws tens of
 * thousands of long lines) is painted band by band, letting the page breathe in between;
 * `progress(done, total)` hears of each band.
 */
export async function figurePng(figure: Figure, progress?: (done: number, total: number) => void): Promise<Blob | null> {
  const scale = pngScale(figure.width, figure.height);
  const out = document.createElement('canvas');
  out.width = Math.max(1, Math.round(figure.width * scale));
  out.height = Math.max(1, Math.round(figure.height * scale));
  const ctx = out.getContext('2d');
  if (!ctx) return null;
  const painter = canvasFigurePainter(ctx);
  const bands = Math.ceil(out.height / BAND);
  for (let band = 0; band < bands; band++) {
    ctx.save();
    ctx.beginPath();
    ctx.rect(0, band * BAND, out.width, BAND);
    ctx.clip();
    ctx.scale(scale, scale);
    figure.paint(painter);
    ctx.restore();
    progress?.(band + 1, bands);
    if (bands > 1) await new Promise((resolve) => window.setTimeout(resolve, 0));
  }
  const png = await new Promise<Blob | null>((resolve) => out.toBlob(resolve, 'image/png'));
  return png ? withPngText(png, 'Description', figure.caption) : null;
}

let crcTable: Uint32Array | null = null;

/** The CRC-32 (ISO 3309, as PNG chunks use) of `bytes`. */
function crc32(bytes: Uint8Array): number {
  if (!crcTable) {
    crcTable = new Uint32Array(256);
    for (let n = 0; n < 256; n++) {
      let c = n;
      for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
      crcTable[n] = c >>> 0;
    }
  }
  let crc = 0xffffffff;
  for (const b of bytes) crc = crcTable[(crc ^ b) & 0xff]! ^ (crc >>> 8);
  return (crc ^ 0xffffffff) >>> 0;
}

/** `png` with an uncompressed international text chunk (`iTXt`) `keyword` = `text` after its header chunk. */
async function withPngText(png: Blob, keyword: string, text: string): Promise<Blob> {
  const bytes = new Uint8Array(await png.arrayBuffer());
  const encoder = new TextEncoder();
  // keyword, NUL, compression flag 0, method 0, empty language tag NUL, empty translated keyword NUL, UTF-8 text.
  const data = new Uint8Array([...encoder.encode(keyword), 0, 0, 0, 0, 0, ...encoder.encode(text)]);
  const chunk = new Uint8Array(12 + data.length);
  const view = new DataView(chunk.buffer);
  view.setUint32(0, data.length);
  chunk.set(encoder.encode('iTXt'), 4);
  chunk.set(data, 8);
  view.setUint32(8 + data.length, crc32(chunk.subarray(4, 8 + data.length)));
  // The signature (8 bytes) and IHDR (25 bytes) come first.
  const at = 8 + 25;
  return new Blob([bytes.subarray(0, at), chunk, bytes.subarray(at)], { type: 'image/png' });
}

function csvCell(value: string | number): string {
  const text = typeof value === 'number' ? String(value) : value;
  return /[",\n\r]/.test(text) || /^[=+\-@]/.test(text) ? `"${text.replace(/"/g, '""')}"` : text;
}

/** RFC 4180 CSV of a table (text cells that a spreadsheet would read as formulas are quoted). */
export function toCsv(table: NumberTable): string {
  return [table.columns, ...table.rows].map((row) => row.map(csvCell).join(',')).join('\r\n') + '\r\n';
}

/** One layer/head attention matrix per sentence (real tokens only), as a long table. */
export function attentionTable(output: BatchRun, layer: number, head: HeadChoice, sentences: readonly number[]): NumberTable {
  const rows: (string | number)[][] = [];
  const n = output.attentionShape[2];
  for (const s of sentences) {
    const sentence = output.batch.sentences[s];
    if (!sentence) continue;
    const m = headMatrix(output.attentions[s]!, output.attentionShape, layer, head);
    for (let q = 0; q < sentence.len; q++) {
      for (let k = 0; k < sentence.len; k++) rows.push([s + 1, q + 1, sentence.tokens[q] ?? '', k + 1, sentence.tokens[k] ?? '', m[q * n + k]!]);
    }
  }
  const headName = typeof head === 'number' ? `head ${head + 1}` : `${head} of heads`;
  return {
    description: `attention weights, layer ${layer + 1}, ${headName}; rows (queries) attend to keys; positions count from 1`,
    columns: ['sentence', 'query', 'query_token', 'key', 'key_token', 'weight'],
    rows,
  };
}

/**
 * What the focus view draws with `[CLS]`/`[SEP]` hidden: one layer's matrix of `measure` per
 * sentence, the special tokens' columns dropped and each real row renormalised (../specials), as
 * a long table over the real tokens.
 */
export function withoutSpecialsTable(output: BatchRun, layer: number, head: HeadChoice, sentences: readonly number[], measure: Measure): NumberTable {
  const rows: (string | number)[][] = [];
  let where = '';
  for (const s of sentences) {
    const sentence = output.batch.sentences[s];
    if (!sentence) continue;
    const m = measuredMatrix(output, s, layer, head, measure);
    where = `${MEASURE_INFO[m.measure].label}, ${m.where}`;
    const shown = withoutSpecials(m.values, m.n, sentence);
    for (let q = 0; q < sentence.len; q++) {
      for (let k = 0; k < sentence.len; k++) {
        if (!isSpecial(sentence, k)) rows.push([s + 1, q + 1, sentence.tokens[q] ?? '', k + 1, sentence.tokens[k] ?? '', shown[q * m.n + k]!]);
      }
    }
  }
  return {
    description: `${where}, with the [CLS]/[SEP] columns dropped and each row renormalised over the other tokens (as the focus view shows it); positions count from 1`,
    columns: ['sentence', 'query', 'query_token', 'key', 'key_token', 'weight'],
    rows,
  };
}

/** Which number `value` is, per measure, for the table's description. */
const VALUE_NAME: Readonly<Record<Exclude<Measure, 'raw'>, string>> = {
  norm: 'the length N_ij = ‖Σ_h α^h_ij f_h(x_j)‖ (all heads together) or N^h_ij = α^h_ij ‖f_h(x_j)‖ (one head; for “max of heads”, the largest over heads)',
  alti: 'ALTI’s contribution C_ij (rows sum to 1)',
  'alti-rollout': 'ALTI rollout R_ij through the layers (rows sum to 1)',
};

/**
 * One layer's matrix of `measure` per sentence (real tokens only), as a long table: raw attention
 * as `attentionTable` does; a mixing measure with the engine's value and the row share the views
 * draw. A run without the measure gives raw attention (its description says so).
 */
export function measureTable(output: BatchRun, layer: number, head: HeadChoice, sentences: readonly number[], measure: Measure): NumberTable {
  const first = sentences[0] ?? 0;
  const drawn = output.mixing ? measure : 'raw';
  if (drawn === 'raw') return attentionTable(output, layer, head, sentences);
  const rows: (string | number)[][] = [];
  let where = '';
  for (const s of sentences) {
    const sentence = output.batch.sentences[s];
    if (!sentence) continue;
    const m = measuredMatrix(output, s, layer, head, drawn);
    if (s === first) where = m.where;
    for (let q = 0; q < m.len; q++) {
      for (let k = 0; k < m.len; k++) {
        rows.push([s + 1, q + 1, sentence.tokens[q] ?? '', k + 1, sentence.tokens[k] ?? '', m.exact[q * m.len + k]!, m.values[q * m.n + k]!]);
      }
    }
  }
  const info = MEASURE_INFO[drawn];
  return {
    description:
      `${info.label}, ${where} (${info.reference}) Rows (queries) take from keys; “value” is ${VALUE_NAME[drawn]}; ` +
      '“row_share” is value / the sum of its row, what the views draw; positions count from 1',
    columns: ['sentence', 'query', 'query_token', 'key', 'key_token', 'value', 'row_share'],
    rows,
  };
}

function escapeAttribute(value: string): string {
  return value.replace(/&/g, '&amp;').replace(/"/g, '&quot;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}

/** What the embed snippet describes. */
export interface EmbedState {
  sentences: readonly string[];
  focusWord: string;
  /** Which occurrence of the focus word (from 1); absent means the first. */
  focusOccurrence?: number;
  /** Show a word of several pieces piece by piece. */
  pieces?: boolean;
  /** 0-based. */
  layer: number;
  head: HeadChoice;
  /** The widget's view closest to the page's. */
  view: 'focus' | 'head' | null;
  measure: Measure;
  hideSpecial: boolean;
  sharedScale: boolean;
}

/** The embed markup, and where the figure it makes differs from the page (none: the same). */
export interface EmbedSnippet {
  html: string;
  /** Each difference in words, to follow “Unlike the page,”. */
  differences: string[];
}

/**
 * `<bert-attention …></bert-attention>` for the state (layers and heads counted from 1). Sentences
 * keep the page's line syntax (`\|` a bar inside a sentence); a sentence pair goes into the
 * widget's one `pair` attribute, which it shows after the other sentences.
 */
export function embedSnippet(state: EmbedState): EmbedSnippet {
  const lines = state.sentences.filter((s) => s.trim() !== '');
  const singles = lines.filter((s) => !isPairLine(s));
  const [pair, ...leftOut] = lines.filter(isPairLine);
  const differences: string[] = [];
  if (pair !== undefined && lines.slice(lines.indexOf(pair) + 1).some((s) => !isPairLine(s))) {
    differences.push('the widget shows its sentence pair after the other sentences');
  }
  if (leftOut.length > 0) {
    const which = leftOut.map((s) => `“${s}”`).join(', ');
    differences.push(`the widget shows one sentence pair, so ${which} ${leftOut.length === 1 ? 'is' : 'are'} left out`);
  }
  const attrs: [string, string][] = [
    ...(singles.length > 0 || pair === undefined ? [['sentences', joinSentenceList(singles)] as [string, string]] : []),
    ...(pair !== undefined ? [['pair', pair] as [string, string]] : []),
    ['focus', state.focusWord],
    ...((state.focusOccurrence ?? 1) > 1 ? [['focus-nth', String(state.focusOccurrence)] as [string, string]] : []),
    ['layer', String(state.layer + 1)],
    ['head', typeof state.head === 'number' ? String(state.head + 1) : state.head],
  ];
  if (state.view) attrs.push(['view', state.view]);
  if (state.measure !== 'raw') attrs.push(['measure', state.measure]);
  if (state.hideSpecial) attrs.push(['hide-special', '']);
  if (state.sharedScale) attrs.push(['shared-scale', '']);
  if (state.pieces) attrs.push(['pieces', '']);
  const html = `<bert-attention ${attrs.map(([k, v]) => `${k}="${escapeAttribute(v)}"`).join(' ')}></bert-attention>`;
  return { html, differences };
}
