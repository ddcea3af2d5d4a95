/**
 * Export and share: the current view as a PNG (its canvases stacked), its raw numbers as JSON and
 * CSV, and the `<bert-attention>` markup that embeds the same figure in another page.
 */
import { headMatrix, type HeadChoice } from '../attention';
import type { BatchRun } from '../engine/protocol';

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

/** The visible canvases of `panel` stacked into one PNG on the page background, or null if none. */
export async function panelPng(panel: HTMLElement, background: string): Promise<Blob | null> {
  const canvases = Array.from(panel.querySelectorAll('canvas')).filter((c) => c.getClientRects().length > 0 && c.width > 0 && c.height > 0);
  if (canvases.length === 0) return null;
  const gap = 16;
  const width = Math.max(...canvases.map((c) => c.width));
  const height = canvases.reduce((sum, c) => sum + c.height, 0) + gap * (canvases.length - 1);
  const out = document.createElement('canvas');
  out.width = Math.min(width, 32_000);
  out.height = Math.min(height, 32_000);
  const ctx = out.getContext('2d');
  if (!ctx) return null;
  ctx.fillStyle = background;
  ctx.fillRect(0, 0, out.width, out.height);
  let y = 0;
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

function escapeAttribute(value: string): string {
  return value.replace(/&/g, '&amp;').replace(/"/g, '&quot;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}

/** What the embed snippet describes. */
export interface EmbedState {
  sentences: readonly string[];
  focusWord: string;
  /** 0-based. */
  layer: number;
  head: HeadChoice;
  /** The widget's view closest to the page's. */
  view: 'focus' | 'head' | null;
}

/** `<bert-attention …></bert-attention>` for the state (layers and heads counted from 1). */
export function embedSnippet(state: EmbedState): string {
  const attrs: [string, string][] = [
    ['sentences', state.sentences.map((s) => s.replace(/\|/g, ' ')).join('|')],
    ['focus', state.focusWord],
    ['layer', String(state.layer + 1)],
    ['head', typeof state.head === 'number' ? String(state.head + 1) : state.head],
  ];
  if (state.view) attrs.push(['view', state.view]);
  return `<bert-attention ${attrs.map(([k, v]) => `${k}="${escapeAttribute(v)}"`).join(' ')}></bert-attention>`;
}
