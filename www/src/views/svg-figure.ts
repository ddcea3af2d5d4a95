/**
 * The current view as an SVG file for papers: vector shapes and real text (no embedded image),
 * drawn by the same painting code as the screen, under a caption line (model, measure, layer and
 * heads, sentences) and laid out for the panel's width. The focus view gives each sentence's
 * title, summary, focus strip (or the raw-versus-mixing pair and its sentence) and heatmap; the
 * head view its shown heads' lines; the model view every map; the rollout view its strips; the
 * drift view its chart and map. The PNG export paints the same figure on a canvas (export.ts `figurePng`).
 */
import { paintLineChart, paintScatter, paintStrips, stripHeight, stripNameWidth, stripWidth, type LineChartSpec, type ScatterSpec } from '../draw/chart';
import type { Theme } from '../draw/colors';
import { headColour } from '../draw/colors';
import { layoutGrid } from '../draw/grid';
import { paintVectorGrid, type VectorGrid } from '../draw/grid-vector';
import { paintVectorHeatmap, paintVectorLegend, vectorCell, vectorHeatmapSize, vectorLegendHeight } from '../draw/heatmap-vector';
import { paintVectorLines, vectorLinesLayout } from '../draw/lines-vector';
import type { FigurePainter } from '../draw/painter';
import { SvgPainter } from '../draw/svg';
import type { FocusFigure } from './focus';
import type { HeadFigure } from './head';
import type { SentenceRows } from './rollout';

/** What every figure is drawn in: its caption line and the width it is laid out for (CSS pixels). */
export interface FigureFrame {
  caption: string;
  width: number;
}

/** A laid-out figure: its size in CSS pixels, its caption, and how to paint it (into an SVG, or on a canvas for the PNG). */
export interface Figure {
  width: number;
  height: number;
  caption: string;
  paint(p: FigurePainter): void;
}

/** The figure as an SVG document, titled with its caption. */
export function figureSvg(figure: Figure): string {
  const p = new SvgPainter();
  figure.paint(p);
  return p.document(figure.width, figure.height, figure.caption);
}

/** One piece of the figure; pieces are stacked top to bottom. */
interface Block {
  width: number;
  height: number;
  paint(p: FigurePainter): void;
}

const MARGIN = 16;
const GAP = 10;
/** Narrowest width a figure is laid out for, in CSS pixels. */
const MIN_WIDTH = 300;
const LINE_H = 20;

/** Width inside the margins of a figure laid out for `frame`. */
function inner(frame: FigureFrame): number {
  return Math.max(MIN_WIDTH, frame.width) - 2 * MARGIN;
}

/** `text` in lines of at most `width` CSS pixels, broken between words (a longer word gets a line of its own). */
function wrapped(p: SvgPainter, text: string, font: string, colour: string, width: number): Block {
  p.font = font;
  const lines: string[] = [];
  for (const word of text.split(/\s+/).filter(Boolean)) {
    const last = lines[lines.length - 1];
    if (last !== undefined && p.measureText(`${last} ${word}`).width <= width) lines[lines.length - 1] = `${last} ${word}`;
    else lines.push(word);
  }
  return {
    width: Math.min(width, Math.max(0, ...lines.map((l) => p.measureText(l).width))),
    height: LINE_H * Math.max(1, lines.length),
    paint(q) {
      q.font = font;
      q.fillStyle = colour;
      q.textAlign = 'left';
      q.textBaseline = 'middle';
      lines.forEach((line, i) => q.fillText(line, 0, LINE_H * i + LINE_H / 2));
    },
  };
}

/** The figure's caption line(s), first in every file. */
function captionBlock(p: SvgPainter, frame: FigureFrame, theme: Theme): Block {
  return named('caption', wrapped(p, frame.caption, theme.boldFont, theme.foreground, inner(frame)));
}

/** A block named `name` in the file (a `<g data-figure=…>`). */
function named(name: string, block: Block): Block {
  return { ...block, paint: (p) => p.group({ 'data-figure': name }, () => block.paint(p)) };
}

/** The blocks stacked under the caption on the theme's background, at least as wide as the frame (`p` measures text). */
function stack(p: SvgPainter, content: readonly Block[], theme: Theme, frame: FigureFrame): Figure {
  const blocks = [captionBlock(p, frame, theme), ...content];
  const width = Math.ceil(Math.max(Math.max(MIN_WIDTH, frame.width) - 2 * MARGIN, ...blocks.map((b) => b.width)) + 2 * MARGIN);
  const height = Math.ceil(blocks.reduce((sum, b) => sum + b.height, 0) + GAP * (blocks.length - 1) + 2 * MARGIN);
  const paint = (q: FigurePainter): void => {
    q.fillStyle = theme.surface;
    q.fillRect(0, 0, width, height);
    let y = MARGIN;
    for (const block of blocks) {
      q.save();
      q.translate(MARGIN, y);
      block.paint(q);
      q.restore();
      y += block.height + GAP;
    }
  };
  return { width, height, caption: frame.caption, paint };
}

/** The focus view: per sentence, title, summary, the focus token's strip and the heatmap. */
export function focusSvg(figures: readonly FocusFigure[], theme: Theme, frame: FigureFrame): Figure | null {
  if (figures.length === 0) return null;
  const p = new SvgPainter();
  const blocks: Block[] = [];
  figures.forEach((f, i) => {
    blocks.push(wrapped(p, f.title, theme.boldFont, theme.foreground, inner(frame)));
    blocks.push(wrapped(p, f.measureLine, theme.font, theme.muted, inner(frame)));
    if (f.summary) blocks.push(wrapped(p, f.summary, theme.font, theme.foreground, inner(frame)));
    const strip = f.strip;
    if (strip) {
      const width = stripWidth(strip.tokens, inner(frame), stripNameWidth(strip.rows, theme));
      const rows = strip.rows;
      blocks.push(named(`strip-${i + 1}`, { width, height: stripHeight(strip.tokens, rows, width, theme), paint: (q) => void paintStrips(q, width, strip.tokens, rows, strip.focus, theme, strip.hidden) }));
    }
    if (f.contrast) blocks.push(wrapped(p, f.contrast, theme.font, theme.muted, inner(frame)));
    const cell = vectorCell(f.heatmap, inner(frame), theme);
    const size = vectorHeatmapSize(p, f.heatmap, cell, f.legendCaption, theme);
    blocks.push(named(`heatmap-${i + 1}`, { ...size, paint: (q) => paintVectorHeatmap(q, f.heatmap, cell, f.legendCaption, theme) }));
  });
  return stack(p, blocks, theme, frame);
}

/** The rollout view: per sentence, its title and strips (raw, rollout, flow when computed). */
export function rolloutSvg(sentences: readonly { title: string; rows: SentenceRows }[], theme: Theme, frame: FigureFrame): Figure | null {
  if (sentences.length === 0) return null;
  const p = new SvgPainter();
  const blocks = sentences.flatMap(({ title, rows }) => {
    const width = stripWidth(rows.tokens, inner(frame), stripNameWidth(rows.rows, theme));
    const strips: Block = { width, height: stripHeight(rows.tokens, rows.rows, width, theme), paint: (q) => void paintStrips(q, width, rows.tokens, rows.rows, rows.focus, theme, rows.hidden) };
    return [wrapped(p, title, theme.boldFont, theme.foreground, inner(frame)), named(`rollout-${rows.sentence + 1}`, strips)];
  });
  return stack(p, blocks, theme, frame);
}

/** The drift view: the similarity chart and the token map, each under its heading (either may be missing). */
export function driftSvg(chart: { spec: LineChartSpec; word: string } | null, map: ScatterSpec | null, theme: Theme, frame: FigureFrame): Figure | null {
  if (!chart && !map) return null;
  const p = new SvgPainter();
  const width = inner(frame);
  const blocks: Block[] = [];
  if (chart) {
    blocks.push(wrapped(p, `Cosine similarity of “${chart.word}” across sentences, level by level`, theme.boldFont, theme.foreground, inner(frame)));
    blocks.push(named('drift-chart', { width, height: 300, paint: (q) => void paintLineChart(q, width, 300, chart.spec, theme) }));
  }
  if (map) {
    blocks.push(wrapped(p, 'Every token’s final vector, projected to 2-D (PCA)', theme.boldFont, theme.foreground, inner(frame)));
    blocks.push(named('token-map', { width, height: 420, paint: (q) => void paintScatter(q, width, 420, map, theme) }));
  }
  return stack(p, blocks, theme, frame);
}

/** A row of head swatches ("■ 1 ■ 2 …") naming each shown head's colour, wrapped to `width`. */
function headKey(figure: HeadFigure, theme: Theme, width: number): Block {
  const heads = figure.spec.visible.flatMap((on, h) => (on ? [h] : []));
  const pitch = 40;
  const perLine = Math.max(1, Math.floor(width / pitch));
  const lines = Math.max(1, Math.ceil(heads.length / perLine));
  return {
    width: Math.min(heads.length, perLine) * pitch,
    height: lines * LINE_H,
    paint(q) {
      q.font = theme.font;
      q.textAlign = 'left';
      q.textBaseline = 'middle';
      heads.forEach((h, i) => {
        const x = (i % perLine) * pitch;
        const y = Math.floor(i / perLine) * LINE_H;
        q.fillStyle = figure.spec.colours[h] ?? headColour(theme, h);
        q.fillRect(x, y + 5, 10, 10);
        q.fillStyle = theme.foreground;
        q.fillText(String(h + 1), x + 14, y + LINE_H / 2);
      });
    },
  };
}

/** The head view: its caption, the shown heads' colours and the lines of every token (one group per head). */
export function headSvg(figure: HeadFigure, theme: Theme, frame: FigureFrame): Figure {
  const p = new SvgPainter();
  const width = inner(frame);
  const layout = vectorLinesLayout(figure.spec, width, theme);
  const shown = figure.spec.visible.filter(Boolean).length;
  const blocks: Block[] = [wrapped(p, figure.caption, theme.font, theme.muted, width)];
  if (figure.wholeLayer) blocks.push(wrapped(p, 'one set of lines for the layer as a whole (the measure has no per-head values)', theme.font, theme.muted, inner(frame)));
  else if (shown > 0) blocks.push(named('head-key', headKey(figure, theme, width)));
  else blocks.push(wrapped(p, 'no head is shown', theme.font, theme.muted, inner(frame)));
  blocks.push(named('head-view', { width: layout.width, height: layout.height, paint: (q) => paintVectorLines(q, figure.spec, layout, theme) }));
  return stack(p, blocks, theme, frame);
}

/** The model view: its caption and every map of the grid, with the colour bar of the one scale when there is one. */
export function modelSvg(caption: string, grid: VectorGrid, theme: Theme, frame: FigureFrame): Figure {
  const p = new SvgPainter();
  const width = inner(frame);
  const [layers, cells] = grid.shape;
  const layout = layoutGrid(layers, cells, width);
  const blocks: Block[] = [wrapped(p, caption, theme.font, theme.muted, width)];
  blocks.push(named('model-view', { width: layout.width, height: layout.height, paint: (q) => paintVectorGrid(q, grid, layout, theme) }));
  const scaleMax = grid.scaleMax;
  if (scaleMax !== null) {
    const legendWidth = Math.max(160, Math.min(360, layout.width - layout.left));
    const legendCaption = 'one scale for every map';
    const height = vectorLegendHeight(p, legendWidth, scaleMax, legendCaption, theme);
    blocks.push({ width: layout.left + legendWidth, height, paint: (q) => paintVectorLegend(q, layout.left, 0, legendWidth, scaleMax, legendCaption, theme) });
  }
  return stack(p, blocks, theme, frame);
}
