/**
 * The current view as an SVG file for papers: vector shapes and real text (no embedded image),
 * drawn by the same painting code as the screen. The focus view gives each sentence's title,
 * summary, focus strip (or the raw-versus-mixing pair and its sentence) and heatmap; the rollout view its strips; the drift view its chart and map.
 */
import { paintLineChart, paintScatter, paintStrips, stripHeight, stripNameWidth, stripWidth, type LineChartSpec, type ScatterSpec } from '../draw/chart';
import type { Theme } from '../draw/colors';
import { paintVectorHeatmap, vectorCell, vectorHeatmapSize } from '../draw/heatmap-vector';
import { SvgPainter } from '../draw/svg';
import type { FocusFigure } from './focus';
import type { SentenceRows } from './rollout';

/** One piece of the figure; pieces are stacked top to bottom. */
interface Block {
  width: number;
  height: number;
  paint(p: SvgPainter): void;
}

const MARGIN = 16;
const GAP = 10;
/** Width the charts and heatmaps are laid out for, in CSS pixels. */
const FIGURE_WIDTH = 720;
const LINE_H = 20;

/** One line of text. */
function textBlock(p: SvgPainter, text: string, font: string, colour: string): Block {
  p.font = font;
  return {
    width: p.measureText(text).width,
    height: LINE_H,
    paint(q) {
      q.font = font;
      q.fillStyle = colour;
      q.textAlign = 'left';
      q.textBaseline = 'middle';
      q.fillText(text, 0, LINE_H / 2);
    },
  };
}

/** A block named `name` in the file (a `<g data-figure=…>`). */
function named(name: string, block: Block): Block {
  return { ...block, paint: (p) => p.group({ 'data-figure': name }, () => block.paint(p)) };
}

/** The blocks stacked into one document on the theme's background. */
function stack(p: SvgPainter, blocks: readonly Block[], theme: Theme): string {
  const width = Math.ceil(Math.max(...blocks.map((b) => b.width)) + 2 * MARGIN);
  const height = Math.ceil(blocks.reduce((sum, b) => sum + b.height, 0) + GAP * (blocks.length - 1) + 2 * MARGIN);
  p.fillStyle = theme.surface;
  p.fillRect(0, 0, width, height);
  let y = MARGIN;
  for (const block of blocks) {
    p.save();
    p.translate(MARGIN, y);
    block.paint(p);
    p.restore();
    y += block.height + GAP;
  }
  return p.document(width, height);
}

/** The focus view: per sentence, title, summary, the focus token's strip and the heatmap. */
export function focusSvg(figures: readonly FocusFigure[], theme: Theme): string | null {
  if (figures.length === 0) return null;
  const p = new SvgPainter();
  const blocks: Block[] = [];
  figures.forEach((f, i) => {
    blocks.push(textBlock(p, f.title, theme.boldFont, theme.foreground));
    blocks.push(textBlock(p, f.measureLine, theme.font, theme.muted));
    if (f.summary) blocks.push(textBlock(p, f.summary, theme.font, theme.foreground));
    const strip = f.strip;
    if (strip) {
      const width = stripWidth(strip.tokens, FIGURE_WIDTH, stripNameWidth(strip.rows, theme));
      const rows = strip.rows;
      blocks.push(named(`strip-${i + 1}`, { width, height: stripHeight(rows.length), paint: (q) => void paintStrips(q, width, strip.tokens, rows, strip.focus, theme) }));
    }
    if (f.contrast) blocks.push(textBlock(p, f.contrast, theme.font, theme.muted));
    const cell = vectorCell(f.heatmap, FIGURE_WIDTH, theme);
    const size = vectorHeatmapSize(p, f.heatmap, cell, f.legendCaption, theme);
    blocks.push(named(`heatmap-${i + 1}`, { ...size, paint: (q) => paintVectorHeatmap(q, f.heatmap, cell, f.legendCaption, theme) }));
  });
  return stack(p, blocks, theme);
}

/** The rollout view: per sentence, its title and strips (raw, rollout, flow when computed). */
export function rolloutSvg(sentences: readonly { title: string; rows: SentenceRows }[], theme: Theme): string | null {
  if (sentences.length === 0) return null;
  const p = new SvgPainter();
  const blocks = sentences.flatMap(({ title, rows }) => {
    const width = stripWidth(rows.tokens, FIGURE_WIDTH, stripNameWidth(rows.rows, theme));
    const strips: Block = { width, height: stripHeight(rows.rows.length), paint: (q) => void paintStrips(q, width, rows.tokens, rows.rows, rows.focus, theme) };
    // The strips cut long row names short; the file names them in full.
    const names = `rows: ${rows.rows.map((r) => r.name).join('; ')}`;
    return [textBlock(p, title, theme.boldFont, theme.foreground), textBlock(p, names, theme.font, theme.muted), named(`rollout-${rows.sentence + 1}`, strips)];
  });
  return stack(p, blocks, theme);
}

/** The drift view: the similarity chart and the token map, each under its heading (either may be missing). */
export function driftSvg(chart: { spec: LineChartSpec; word: string } | null, map: ScatterSpec | null, theme: Theme): string | null {
  if (!chart && !map) return null;
  const p = new SvgPainter();
  const blocks: Block[] = [];
  if (chart) {
    blocks.push(textBlock(p, `Cosine similarity of “${chart.word}” across sentences, level by level`, theme.boldFont, theme.foreground));
    blocks.push(named('drift-chart', { width: FIGURE_WIDTH, height: 300, paint: (q) => void paintLineChart(q, FIGURE_WIDTH, 300, chart.spec, theme) }));
  }
  if (map) {
    blocks.push(textBlock(p, 'Every token’s final vector, projected to 2-D (PCA)', theme.boldFont, theme.foreground));
    blocks.push(named('token-map', { width: FIGURE_WIDTH, height: 420, paint: (q) => void paintScatter(q, FIGURE_WIDTH, 420, map, theme) }));
  }
  return stack(p, blocks, theme);
}
