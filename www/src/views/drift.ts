/**
 * The context-drift view: how similar the focus word's vectors are between each pair of sentences
 * at every level (embeddings, then after each layer), as a line chart with a table of the same
 * numbers; and a 2-D PCA map of every token's final vector across the sentences, the same word in
 * different sentences joined by a line. The engine computes the cosines and the projection.
 */
import { drawChart, paintLineChart, paintScatter, type LineChartSpec, type ScatterPoint, type ScatterSpec, type Series } from '../draw/chart';
import { findWord, inWord } from '../words';
import { headColour, type Theme } from '../draw/colors';
import type { PairDrift } from '../engine/analysis-protocol';
import type { BatchRun } from '../engine/protocol';
import { ChartHover } from './chart-hover';
import { el } from './dom';

/** "emb", "L1", … "L6": the levels of a model with `layers` layers. */
export function levelNames(layers: number): string[] {
  return ['emb', ...Array.from({ length: layers }, (_, i) => `L${i + 1}`)];
}

/** "the embeddings (emb)", "after layer 3 (L3)": level `i` in words. */
function levelInWords(i: number, levels: readonly string[]): string {
  return i === 0 ? `the embeddings (${levels[0]})` : `after layer ${i} (${levels[i]})`;
}

/** "sentence 1 ↔ sentence 2". */
export function pairName(d: PairDrift): string {
  return `sentence ${d.a + 1} ↔ sentence ${d.b + 1}`;
}

/** What the drift view shows. */
export interface DriftOptions {
  output: BatchRun;
  focusWord: string;
  /** Which occurrence of the focus word (from 1). */
  focusOccurrence: number;
  theme: Theme;
}

export class DriftView {
  private readonly chartNote = el('p', { className: 'long-summary', attrs: { 'data-testid': 'drift-summary' } });
  private readonly chart = el('canvas', { attrs: { 'data-testid': 'drift-chart', role: 'img' } });
  private readonly table = el('table', { className: 'drift-table', attrs: { 'data-testid': 'drift-table' } });
  private readonly mapNote = el('p', { className: 'view-intro', attrs: { 'data-testid': 'tokenmap-summary' } });
  private readonly map = el('canvas', { attrs: { 'data-testid': 'token-map', role: 'img' } });
  private readonly chartHover: ChartHover;
  private readonly mapHover: ChartHover;
  /** What the chart and the map show, for the read-outs and the SVG export. */
  chartShown: { spec: LineChartSpec; word: string; drifts: readonly PairDrift[] } | null = null;
  mapShown: { spec: ScatterSpec; names: string[]; coordinates: [number, number][]; tokens: readonly (readonly [number, number, string])[] } | null = null;

  /** `pick(sentence, token)` runs when a point of the token map is clicked or Enter is pressed on it: its word becomes the focus word. */
  constructor(
    private readonly container: HTMLElement,
    pick: (sentence: number, token: number) => void,
  ) {
    this.chartHover = new ChartHover(this.chart, 'drift-readout', 'Hover over a point (or focus the chart and use the arrow keys) for its value.', (i) => this.describePoint(i), () => this.chartShown?.spec.xLabels.length ?? 1, 'column');
    this.mapHover = new ChartHover(
      this.map,
      'tokenmap-readout',
      'Hover over a point (or focus the map and use the arrow keys) for its token and coordinates; click it (or press Enter) to make its word the focus word.',
      (i) => this.describeToken(i),
      () => 1,
      { radius: 16 },
      (i) => {
        const token = this.mapShown?.tokens[i];
        if (token) pick(token[0], token[1]);
      },
    );
    container.replaceChildren(
      el('h3', { text: 'Similarity of the focus word across sentences, level by level' }),
      this.chartNote,
      this.chartHover.readout.element,
      this.chart,
      // A wide table (one column per level) scrolls inside this box on a narrow screen, not the page.
      el('div', { className: 'table-scroll', attrs: { tabindex: '0', role: 'region', 'aria-label': 'Similarity table' } }, [this.table]),
      el('h3', { text: 'Every token’s final vector, projected to 2-D (PCA)' }),
      this.mapNote,
      this.mapHover.readout.element,
      this.map,
    );
  }

  /** "0.711 · cosine of “apple”, sentence 1 ↔ sentence 2, after layer 6 (L6)". */
  private describePoint(index: number): string {
    const shown = this.chartShown;
    const levels = shown?.spec.xLabels ?? [];
    const drift = shown?.drifts[Math.floor(index / Math.max(1, levels.length))];
    if (!shown || !drift) return '';
    const level = index % levels.length;
    return `${(drift.cosine[level] ?? 0).toFixed(3)} · cosine of “${shown.word}”, ${pairName(drift)}, ${levelInWords(level, levels)}`;
  }

  /** "“apple” (sentence 1, token 6) · PC1 1.234, PC2 -0.567". */
  private describeToken(index: number): string {
    const name = this.mapShown?.names[index];
    const [x, y] = this.mapShown?.coordinates[index] ?? [0, 0];
    return name === undefined ? '' : `${name} · PC1 ${x.toFixed(3)}, PC2 ${y.toFixed(3)}`;
  }

  update(options: DriftOptions): void {
    const { output, theme } = options;
    const analysis = output.analysis;
    const width = Math.max(320, Math.min(1040, this.container.clientWidth - 8));
    const layers = output.attentionShape[0];
    const levels = levelNames(layers);
    const drifts = analysis?.drifts ?? [];
    const word = (analysis?.driftWord ?? options.focusWord).trim().toLowerCase();
    if (!analysis) {
      this.chartNote.textContent = 'Drift is not available for this result.';
    } else if (drifts.length === 0 && analysis.error) {
      this.chartNote.textContent = `Drift is not available: ${analysis.error}`;
    } else if (drifts.length === 0) {
      this.chartNote.textContent =
        output.batch.sentences.length < 2
          ? 'Add a second sentence holding the focus word to compare its vectors.'
          : word
            ? `“${word}” must appear in at least two sentences to compare its vectors.`
            : 'No focus word is set: click a token to choose one.';
    } else {
      const last = drifts.map((d) => `${pairName(d)}: ${(d.cosine[d.cosine.length - 1] ?? 0).toFixed(2)}`).join(', ');
      this.chartNote.textContent =
        `Cosine similarity of “${word}” between sentences, from the embeddings (emb, before any context) to the last layer. ` +
        `At the last layer: ${last}. Lower means context made the vectors differ more.`;
    }
    this.chart.hidden = drifts.length === 0;
    this.table.hidden = drifts.length === 0;
    this.chartHover.readout.element.hidden = drifts.length === 0;
    this.chartShown = null;
    if (drifts.length) {
      const series: Series[] = drifts.map((d, i) => ({ label: pairName(d), colour: headColour(theme, i), values: d.cosine }));
      const spec: LineChartSpec = { xLabels: levels, series, xTitle: 'level (emb = embeddings, Ln = after layer n)', yTitle: 'cosine similarity', annotate: drifts.length <= 2 };
      this.chartShown = { spec, word, drifts };
      this.chartHover.show(() => drawChart(this.chart, paintLineChart, width, 300, spec, theme), theme);
      this.chart.setAttribute(
        'aria-label',
        `Line chart: cosine similarity of “${word}” per level. ` +
          drifts.map((d) => `${pairName(d)}: ${d.cosine.map((c, i) => `${levels[i]} ${c.toFixed(3)}`).join(', ')}.`).join(' '),
      );
      this.renderTable(drifts, levels, theme);
    }
    this.drawMap(options);
  }

  private renderTable(drifts: readonly PairDrift[], levels: readonly string[], theme: Theme): void {
    const head = el('tr', {}, [el('th', { text: 'pair', attrs: { scope: 'col' } }), ...levels.map((l) => el('th', { text: l, attrs: { scope: 'col' } }))]);
    const rows = drifts.map((d, i) => {
      const swatch = el('span', { className: 'swatch', attrs: { 'aria-hidden': 'true' } });
      swatch.style.backgroundColor = headColour(theme, i);
      return el('tr', { attrs: { 'data-pair': `${d.a}-${d.b}` } }, [
        el('th', { attrs: { scope: 'row' } }, [swatch, document.createTextNode(pairName(d))]),
        ...d.cosine.map((c) => el('td', { text: c.toFixed(3) })),
      ]);
    });
    this.table.replaceChildren(el('caption', { text: 'Cosine similarity per level (the chart’s numbers)' }), el('thead', {}, [head]), el('tbody', {}, rows));
  }

  private drawMap(options: DriftOptions): void {
    const { output, theme, focusWord, focusOccurrence } = options;
    const map = output.analysis?.tokenMap;
    this.mapShown = null;
    this.mapHover.readout.element.hidden = !map || map.points.length === 0;
    if (!map || map.points.length === 0) {
      this.map.hidden = true;
      this.mapNote.textContent = output.analysis?.tokenMapError ? `No token map: ${output.analysis.tokenMapError}` : 'No token map for this result.';
      return;
    }
    this.map.hidden = false;
    const focus = output.batch.sentences.map((s) => findWord(s, focusWord, focusOccurrence).word);
    const points: ScatterPoint[] = map.tokens.map(([s, , text], i) => ({
      x: map.points[i]![0],
      y: map.points[i]![1],
      label: map.tokens.filter(([other]) => other !== s).length ? `${text}·${s + 1}` : text,
      colour: headColour(theme, s),
      strong: inWord(focus[s] ?? null, map.tokens[i]![1]),
    }));
    // The same (non-special) word in different sentences, joined in sentence order.
    const groups = new Map<string, number[]>();
    map.tokens.forEach(([s, position, text], i) => {
      if (output.batch.sentences[s]?.special[position]) return;
      const key = text.toLowerCase();
      const list = groups.get(key) ?? [];
      if (!list.some((j) => map.tokens[j]![0] === s)) list.push(i);
      groups.set(key, list);
    });
    const links = Array.from(groups.values()).filter((g) => g.length > 1);
    const [vx, vy] = map.explained_variance_ratio;
    const xTitle = `PC1 (${(vx * 100).toFixed(0)}% of variance)`;
    const yTitle = `PC2 (${(vy * 100).toFixed(0)}%)`;
    const width = Math.max(320, Math.min(1040, this.container.clientWidth - 8));
    const spec: ScatterSpec = { points, links, xTitle, yTitle };
    const names = map.tokens.map(([s, position, text]) => `“${text}” (sentence ${s + 1}, token ${position + 1})`);
    this.mapShown = { spec, names, coordinates: map.points, tokens: map.tokens };
    this.mapHover.show(() => drawChart(this.map, paintScatter, width, 420, spec, theme), theme);
    const labelled = spec.labelled ?? [];
    // Which labels were written and where (CSS pixels: point,x,y,w,h;…), for end-to-end tests.
    this.map.dataset['labels'] = labelled.map((l) => [l.point, l.x, l.y, l.w, l.h].map((v) => Math.round(v * 10) / 10).join(',')).join(';');
    const unlabelled = points.length - labelled.length;
    const linked = links.map((g) => map.tokens[g[0]!]![2]);
    this.mapNote.textContent =
      `${points.length} tokens from ${output.batch.sentences.length === 1 ? '1 sentence' : `${output.batch.sentences.length} sentences`} (colour = sentence, label·n = sentence n); ` +
      `the two axes keep ${((vx + vy) * 100).toFixed(0)}% of the variance. ` +
      (linked.length ? `Dashed lines join the same word across sentences: ${linked.join(', ')}.` : 'No word appears in more than one sentence.') +
      (unlabelled > 0 ? ` Labels are written where they fit (${labelled.length} of ${points.length}); hover over a point for any token.` : '');
    this.map.setAttribute(
      'aria-label',
      `Token map: ${map.tokens.map(([s, , t], i) => `${t} (sentence ${s + 1}) at ${map.points[i]![0].toFixed(2)}, ${map.points[i]![1].toFixed(2)}`).join('; ')}.`,
    );
  }
}
