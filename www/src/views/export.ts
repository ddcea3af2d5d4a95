/**
 * Export and share: the current view as a PNG (its canvases stacked under a title line), its
 * numbers as JSON and CSV (raw attention, or a mixing measure's own values and the row shares the
 * views draw), and the `<bert-attention>` markup that embeds the same figure in another page.
 */
import { headMatrix, type HeadChoice } from '../attention';
import { pixelRatio } from '../draw/canvas';
import type { BatchRun } from '../engine/protocol';
import { MEASURE_INFO, type Measure } from '../measure';
import { measuredMatrix } from '../mixing';
import { isSpecial, withoutSpecials } from '../specials';

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

/** What a PNG says above its drawings: a line of text in a colour. */
export interface PngTitle {
  text: string;
  colour: string;
}

/** Height of the PNG's title line, in CSS pixels (scaled by the canvases' pixel density). */
const TITLE_H = 28;

/**
 * The visible canvases of `panel` stacked into one PNG on the page background, under `title` (the
 * measure shown, say), or null if none.
 */
export async function panelPng(panel: HTMLElement, background: string, title?: PngTitle): Promise<Blob | null> {
  const canvases = Array.from(panel.querySelectorAll('canvas')).filter((c) => c.getClientRects().length > 0 && c.width > 0 && c.height > 0);
  if (canvases.length === 0) return null;
  const gap = 16;
  const scale = pixelRatio();
  const top = title ? Math.round(TITLE_H * scale) : 0;
  const width = Math.max(...canvases.map((c) => c.width));
  const height = top + canvases.reduce((sum, c) => sum + c.height, 0) + gap * (canvases.length - 1);
  const out = document.createElement('canvas');
  out.width = Math.min(width, 32_000);
  out.height = Math.min(height, 32_000);
  const ctx = out.getContext('2d');
  if (!ctx) return null;
  ctx.fillStyle = background;
  ctx.fillRect(0, 0, out.width, out.height);
  if (title) {
    ctx.fillStyle = title.colour;
    ctx.font = `600 ${Math.round(14 * scale)}px system-ui, sans-serif`;
    ctx.textBaseline = 'middle';
    ctx.fillText(title.text, Math.round(4 * scale), top / 2, out.width - 8 * scale);
  }
  let y = top;
  for (const c of canvases) {
    ctx.drawImage(c, 0, y);
    y += c.height + gap;
  }
  return new Promise((resolve) => out.toBlob((blob) => resolve(blob), 'image/png'));
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

/** `<bert-attention …></bert-attention>` for the state (layers and heads counted from 1). */
export function embedSnippet(state: EmbedState): string {
  const attrs: [string, string][] = [
    ['sentences', state.sentences.map((s) => s.replace(/\|/g, ' ')).join('|')],
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
  return `<bert-attention ${attrs.map(([k, v]) => `${k}="${escapeAttribute(v)}"`).join(' ')}></bert-attention>`;
}
