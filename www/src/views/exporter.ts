/**
 * The export bar: what each view saves. Every file names what it shows in one caption (model,
 * measure, layer and heads, sentences, and the colour switches): drawn at the top of the PNG and
 * SVG figures, stored in the PNG, and the `caption` of the JSON. The PNG and the SVG are one figure
 * laid out for the panel's width (painted on a canvas, or written as vectors), so both are cropped
 * to what the view draws.
 * Numbers: the focus view's matrices (as before); the head and model views' full
 * `[layer][head][q][k]` tensor of the sentence they show; the rollout and drift views' rows;
 * and, from any view, every sentence's tensor of the run in one JSON file.
 */
import { describeHead, type HeadChoice } from '../attention';
import { shorten } from '../draw/canvas';
import { readTheme } from '../draw/colors';
import { messageOf } from '../engine/errors';
import type { BatchRun, ModelInfo } from '../engine/protocol';
import { MEASURE_INFO, type Measure } from '../measure';
import { describeScope, drawnMeasure } from '../mixing';
import { resolveView, type Store, type ViewState } from '../state';
import { HIDDEN_NOTE, SHARED_NOTE } from '../specials';
import { levelNames, pairName, type DriftView } from './drift';
import { download, embedSnippet, figurePng, measureTable, toCsv, withoutSpecialsTable, type NumberTable } from './export';
import { float32Number, nestedTensor, sentenceTensor, shownGrid, tensorDescription, tensorTable } from './export-tensor';
import type { FocusFigure } from './focus';
import type { HeadFigure } from './head';
import type { ModelFigure } from './model';
import type { RolloutView } from './rollout';
import { driftSvg, figureSvg, focusSvg, headSvg, modelSvg, rolloutSvg, type Figure } from './svg-figure';

/** What the exports read from the page. */
export interface ExportHost {
  store: Store<ViewState>;
  shown(): BatchRun | null;
  info(): ModelInfo | null;
  /** The name the page shows for the loaded model. */
  modelName(): string;
  /** What the focus view shows, per sentence. */
  focusFigures(): FocusFigure[];
  /** What the head view draws, if anything. */
  headFigure(): HeadFigure | null;
  /** What the model view draws, if anything. */
  modelFigure(): ModelFigure | null;
}

/** The views whose numbers follow the measure control. */
const MEASURED_VIEWS: readonly string[] = ['focus', 'head', 'model', 'rollout'];
/** Longest sentence text in a caption. */
const CAPTION_CHARS = 80;

/** A JSON file: indented for reading, or compact (`tensor`: nested arrays of numbers, one per line would triple the file). */
function json(value: unknown, tensor = false): Blob {
  return new Blob([tensor ? JSON.stringify(value) : JSON.stringify(value, null, 1)], { type: 'application/json' });
}

function query<T extends Element>(selector: string): T {
  const element = document.querySelector<T>(selector);
  if (!element) throw new Error(`the page is missing ${selector}`);
  return element;
}

/** Wires the export bar's buttons to the view on screen. */
export class Exporter {
  private readonly note = query<HTMLElement>('[data-testid="export-note"]');
  private readonly snippet = query<HTMLTextAreaElement>('[data-testid="embed-snippet"]');

  constructor(
    private readonly host: ExportHost,
    private readonly rollout: RolloutView,
    private readonly drift: DriftView,
  ) {
    query('[data-testid="export-png"]').addEventListener('click', () => void this.exportPng());
    query('[data-testid="export-svg"]').addEventListener('click', () => this.exportSvg());
    query('[data-testid="export-json"]').addEventListener('click', () => this.exportNumbers('json'));
    query('[data-testid="export-csv"]').addEventListener('click', () => this.exportNumbers('csv'));
    query('[data-testid="export-run"]').addEventListener('click', () => this.exportRun());
    query('[data-testid="copy-embed"]').addEventListener('click', () => void this.copyEmbed());
  }

  /** The measure the current view draws (raw attention when the run lacks the chosen one), or null for views it does not apply to. */
  private measureShown(): Measure | null {
    const state = this.host.store.get();
    const output = this.host.shown();
    if (!MEASURED_VIEWS.includes(state.view)) return null;
    return output ? drawnMeasure(output, state.measure) : 'raw';
  }

  /** The layer and head shown, fitted to the run's model. */
  private place(output: BatchRun): { layer: number; head: HeadChoice } {
    const [layers, heads] = output.attentionShape;
    return resolveView(this.host.store.get(), { layers, heads });
  }

  private fileStem(): string {
    const state = this.host.store.get();
    const word = state.focusWord.trim().replace(/[^\p{L}\p{N}_-]+/gu, '') || 'all';
    const measure = this.measureShown();
    const sentence = state.view === 'head' || state.view === 'model' ? `-s${this.sentenceIndex() + 1}` : '';
    return `bertscope-${state.view}-${word}${sentence}${measure && measure !== 'raw' ? `-${measure}` : ''}`;
  }

  /** The sentence the head and model views show (0-based). */
  private sentenceIndex(): number {
    const count = this.host.shown()?.batch.sentences.length ?? 1;
    return Math.max(0, Math.min(this.host.store.get().sentence, count - 1));
  }

  /**
   * One line naming what the current view shows: model · measure · layer and heads · sentence(s)
   * · colour switches, as the figures, the PNG's text and the JSON's `caption` say it.
   */
  caption(): string {
    const state = this.host.store.get();
    const output = this.host.shown();
    if (!output) return `bertscope · ${this.host.modelName()}`;
    const [layers, heads] = output.attentionShape;
    const { layer, head } = this.place(output);
    const measure = this.measureShown();
    const parts = ['bertscope', this.host.modelName()];
    if (measure) parts.push(`${MEASURE_INFO[measure].label}${measure === 'norm' ? ' (row shares)' : ''}`);
    const texts = output.batch.sentences.map((s) => s.text);
    const index = this.sentenceIndex();
    const one = `sentence ${index + 1}: “${shorten(texts[index] ?? '', CAPTION_CHARS)}”`;
    const all = texts.length === 1 ? `“${shorten(texts[0] ?? '', CAPTION_CHARS)}”` : `${texts.length} sentences`;
    const word = `focus “${state.focusWord}”${state.focusOccurrence > 1 ? ` (occurrence ${state.focusOccurrence})` : ''}`;
    if (state.view === 'head' && measure) {
      const figure = this.host.headFigure();
      const shown = figure?.spec.visible.flatMap((on, h) => (on ? [h + 1] : [])) ?? [];
      const which = figure?.wholeLayer ? 'the layer as a whole' : shown.length === heads ? `all ${heads} heads` : `heads ${shown.join(', ') || 'none'} of ${heads}`;
      parts.push(`layer ${layer + 1}, ${which}`, one);
    } else if (state.view === 'model') {
      const perHead = measure ? MEASURE_INFO[measure].perHead : true;
      parts.push(perHead ? `${layers} layers × ${heads} heads, selected ${describeHead(layer, head, heads)}` : `${layers} layers, one map each, selected layer ${layer + 1}`, one);
    }
    else if (state.view === 'rollout') parts.push(`${describeScope(measure ?? 'raw', layer, head, heads)}, rollout through layer ${this.rollout.layerShown + 1}`, word, all);
    else if (state.view === 'drift') parts.push(`context drift of “${output.analysis?.driftWord ?? state.focusWord}”`, all);
    else parts.push(describeScope(measure ?? 'raw', layer, head, heads), word, all);
    if (measure && state.hideSpecial) parts.push(HIDDEN_NOTE);
    if (measure && state.sharedScale) parts.push(SHARED_NOTE);
    return parts.join(' · ');
  }

  /** The width the current view's panel lays its content out in, in CSS pixels. */
  private panelWidth(): number {
    const panel = document.getElementById(`panel-${this.host.store.get().view}`);
    if (!panel || panel.clientWidth === 0) return 720;
    const style = getComputedStyle(panel);
    return Math.round(panel.clientWidth - parseFloat(style.paddingLeft) - parseFloat(style.paddingRight));
  }

  /** The current view's figure (null: nothing drawn yet; undefined: the view has none). */
  private figure(): Figure | null {
    const state = this.host.store.get();
    const output = this.host.shown();
    const theme = readTheme();
    const frame = { caption: this.caption(), width: this.panelWidth() };
    if (!output) return null;
    if (state.view === 'focus') return focusSvg(this.host.focusFigures(), theme, frame);
    if (state.view === 'head') {
      const figure = this.host.headFigure();
      return figure ? headSvg(figure, theme, frame) : null;
    }
    if (state.view === 'model') {
      const figure = this.host.modelFigure();
      if (!figure) return null;
      const grid = shownGrid(output, figure.sentence, figure.measure, state.hideSpecial);
      const splitAt = output.batch.sentences[figure.sentence]?.sentence_b_start ?? null;
      return modelSvg(figure.caption, { ...grid, scaleMax: figure.scaleMax, layer: figure.layer, head: figure.head, splitAt }, theme, frame);
    }
    if (state.view === 'rollout') {
      const sentences = output.batch.sentences;
      return rolloutSvg(this.rollout.shown.map((rows) => ({ title: `${rows.sentence + 1}. “${shorten(sentences[rows.sentence]?.text ?? '', 160)}”`, rows })), theme, frame);
    }
    return driftSvg(this.drift.chartShown, this.drift.mapShown?.spec ?? null, theme, frame);
  }

  private async exportPng(): Promise<void> {
    const figure = this.figure();
    this.note.textContent = 'Drawing the PNG…';
    const blob = figure ? await figurePng(figure, (done, total) => (this.note.textContent = `Drawing the PNG: ${done} of ${total} parts…`)) : null;
    if (!blob) {
      this.note.textContent = 'This view has nothing drawn to save yet.';
      return;
    }
    const name = `${this.fileStem()}.png`;
    download(blob, name);
    this.note.textContent = `Saved ${name}.`;
  }

  /** The current view as vector SVG. */
  private exportSvg(): void {
    const figure = this.figure();
    if (!figure) {
      this.note.textContent = 'This view has nothing drawn to save yet.';
      return;
    }
    const name = `${this.fileStem()}.svg`;
    download(new Blob([figureSvg(figure)], { type: 'image/svg+xml' }), name);
    this.note.textContent = `Saved ${name} (vector: shapes and text, ready to scale).`;
  }

  /** What every numbers file says about what it holds. */
  private about(): Record<string, unknown> {
    const state = this.host.store.get();
    const measure = this.measureShown();
    return {
      caption: this.caption(),
      model: this.host.modelName(),
      view: state.view,
      sentences: state.sentences,
      focus: state.focusWord,
      focus_occurrence: state.focusOccurrence,
      ...(measure ? { measure, measure_name: MEASURE_INFO[measure].label } : {}),
      hide_special: state.hideSpecial,
      shared_scale: state.sharedScale,
    };
  }

  /** The head or model view's tensor of the sentence it shows: the JSON's fields, and the CSV's table. */
  private tensorFile(output: BatchRun): { fields: Record<string, unknown>; table: NumberTable } {
    const state = this.host.store.get();
    const index = this.sentenceIndex();
    const sentence = output.batch.sentences[index]!;
    const measure = drawnMeasure(output, state.measure);
    const [layers, heads] = output.attentionShape;
    const { layer } = this.place(output);
    const shownLayers = state.view === 'head' ? [layer] : Array.from({ length: layers }, (_, l) => l);
    const tensor = sentenceTensor(output, index, shownLayers, measure, state.hideSpecial);
    const figure = state.view === 'head' ? this.host.headFigure() : null;
    const model = state.view === 'model' ? this.host.modelFigure() : null;
    const fields: Record<string, unknown> = {
      description: `${tensorDescription(measure, state.hideSpecial)}; “layers” lists the layers included (from 1)`,
      sentence: index + 1,
      text: sentence.text,
      tokens: sentence.tokens.slice(0, sentence.len),
      input_ids: sentence.input_ids.slice(0, sentence.len),
      model_layers: layers,
      model_heads: heads,
      layers: tensor.layers.map((l) => l + 1),
      shape: [tensor.layers.length, tensor.cells, tensor.len, tensor.len],
      ...(figure && !figure.wholeLayer ? { heads_shown: figure.spec.visible.flatMap((on, h) => (on ? [h + 1] : [])) } : {}),
      ...(model ? { scale_max: model.scaleMax === null ? null : float32Number(model.scaleMax) } : {}),
      weights: nestedTensor(tensor.values, tensor.len),
      ...(tensor.exact ? { norm_values: nestedTensor(tensor.exact, tensor.len) } : {}),
    };
    return { fields, table: tensorTable(output, index, tensor, measure, state.hideSpecial) };
  }

  /** The numbers the focus, rollout or drift view draws, as a table, and anything more for the JSON. */
  private numbers(output: BatchRun): { table: NumberTable; extra: Record<string, unknown> } {
    const state = this.host.store.get();
    const [layers] = output.attentionShape;
    const { layer, head } = this.place(output);
    if (state.view === 'rollout') {
      const rows = this.rollout.shown.flatMap((s) =>
        s.rows.flatMap((r, ri) => r.values.map((v, i) => [s.sentence + 1, r.name, s.from[ri] ?? s.word, i + 1, s.tokens[i] ?? '', v] as (string | number)[])),
      );
      const hidden = state.hideSpecial ? '; [CLS]/[SEP] hidden and each row renormalised over the other tokens (their weights are 0)' : '';
      return {
        table: {
          description:
            'where the focus token looks: the chosen measure at the chosen layer and heads, attention rollout through the chosen layer, ' +
            `ALTI rollout through it (with a mixing measure), and attention flow when computed; positions count from 1${hidden}`,
          columns: ['sentence', 'measure', 'focus_token', 'key', 'key_token', 'weight'],
          rows,
        },
        extra: {},
      };
    }
    if (state.view === 'drift') {
      const levels = levelNames(layers);
      const drifts = output.analysis?.drifts ?? [];
      return {
        table: {
          description: `cosine similarity of “${output.analysis?.driftWord ?? ''}” between sentences per level (emb = embeddings, Ln = after layer n)`,
          columns: ['pair', 'sentence_a', 'token_a', 'sentence_b', 'token_b', 'level', 'cosine'],
          rows: drifts.flatMap((d) => d.cosine.map((c, i) => [pairName(d), d.a + 1, d.token_a + 1, d.b + 1, d.token_b + 1, levels[i] ?? String(i), c])),
        },
        extra: { tokenMap: output.analysis?.tokenMap ?? null },
      };
    }
    const sentences = output.batch.sentences.map((_, i) => i);
    const measure = drawnMeasure(output, state.measure);
    if (state.hideSpecial) return { table: withoutSpecialsTable(output, layer, head, sentences, measure), extra: {} };
    return { table: measureTable(output, layer, head, sentences, measure), extra: {} };
  }

  private exportNumbers(kind: 'json' | 'csv'): void {
    const output = this.host.shown();
    if (!output) {
      this.note.textContent = 'There is no result to export yet.';
      return;
    }
    const view = this.host.store.get().view;
    const name = `${this.fileStem()}.${kind}`;
    let table: NumberTable;
    if (view === 'head' || view === 'model') {
      const file = this.tensorFile(output);
      table = file.table;
      if (kind === 'json') download(json({ ...this.about(), ...file.fields }, true), name);
    } else {
      const numbers = this.numbers(output);
      table = numbers.table;
      if (kind === 'json') {
        const records = table.rows.map((row) => Object.fromEntries(table.columns.map((c, i) => [c, row[i]])));
        download(json({ ...this.about(), description: table.description, columns: table.columns, records, ...numbers.extra }), name);
      }
    }
    if (kind === 'csv') download(new Blob([toCsv(table)], { type: 'text/csv' }), name);
    this.note.textContent = `Saved ${name} (${table.rows.length.toLocaleString('en')} rows${kind === 'json' && (view === 'head' || view === 'model') ? ' in the CSV; the JSON holds them as a [layer][head][query][key] array' : ''}).`;
  }

  /** Every sentence of the run: its tokens, ids and every layer's and head's numbers under the measure and switches shown. */
  private exportRun(): void {
    const output = this.host.shown();
    if (!output) {
      this.note.textContent = 'There is no result to export yet.';
      return;
    }
    const state = this.host.store.get();
    const measure = drawnMeasure(output, state.measure);
    const [layers, heads] = output.attentionShape;
    const all = Array.from({ length: layers }, (_, l) => l);
    const sentences = output.batch.sentences.map((sentence, index) => {
      const tensor = sentenceTensor(output, index, all, measure, state.hideSpecial);
      return {
        sentence: index + 1,
        text: sentence.text,
        tokens: sentence.tokens.slice(0, sentence.len),
        input_ids: sentence.input_ids.slice(0, sentence.len),
        truncated: sentence.truncated,
        shape: [layers, tensor.cells, tensor.len, tensor.len],
        weights: nestedTensor(tensor.values, tensor.len),
        ...(tensor.exact ? { norm_values: nestedTensor(tensor.exact, tensor.len) } : {}),
      };
    });
    const name = `bertscope-run${measure === 'raw' ? '' : `-${measure}`}.json`;
    const file = {
      caption: `bertscope · ${this.host.modelName()} · ${MEASURE_INFO[measure].label}, every layer and head · ${output.batch.sentences.length} sentences${state.hideSpecial ? ` · ${HIDDEN_NOTE}` : ''}`,
      model: this.host.modelName(),
      measure,
      measure_name: MEASURE_INFO[measure].label,
      hide_special: state.hideSpecial,
      shared_scale: state.sharedScale,
      layers,
      heads,
      description: `${tensorDescription(measure, state.hideSpecial)}, per sentence (“weights”); shared_scale only changes colours, never these numbers`,
      sentences,
    };
    download(json(file, true), name);
    this.note.textContent = `Saved ${name} (${sentences.length} sentences × ${layers} layers × ${heads} heads).`;
  }

  private async copyEmbed(): Promise<void> {
    const state = this.host.store.get();
    const output = this.host.shown();
    const layers = output?.attentionShape[0] ?? this.host.info()?.layers ?? 1;
    const heads = output?.attentionShape[1] ?? this.host.info()?.heads ?? 1;
    const { layer, head } = resolveView(state, { layers, heads });
    const { html, differences } = embedSnippet({
      sentences: state.sentences,
      focusWord: state.focusWord,
      focusOccurrence: state.focusOccurrence,
      pieces: state.pieces,
      layer,
      head,
      view: state.view === 'head' ? 'head' : state.view === 'focus' ? 'focus' : null,
      measure: state.measure,
      hideSpecial: state.hideSpecial,
      sharedScale: state.sharedScale,
    });
    this.snippet.value = html;
    this.snippet.hidden = false;
    const unlike = differences.length > 0 ? ` Unlike the page, ${differences.join('; ')}.` : '';
    try {
      await navigator.clipboard.writeText(html);
      this.note.textContent = `Embed snippet copied: paste it after the bert-attention.js script tag (see the README).${unlike}`;
    } catch (e) {
      this.snippet.select();
      this.note.textContent = `Copy the snippet below (the clipboard refused: ${messageOf(e)}).${unlike}`;
    }
  }
}
