/**
 * The explorer's analysis features (issue 7), wired in one place so main.ts only hands over its
 * client, store and result: the rollout and drift views, focus-word drift kept up to date as the
 * focus changes, the fill-mask panel, bring-your-own-model, and export (PNG, SVG, JSON, CSV, embed snippet).
 */
import { shorten } from '../draw/canvas';
import { readTheme } from '../draw/colors';
import type { FlowOutput, MaskPrediction } from '../engine/analysis-protocol';
import type { EngineClient } from '../engine/client';
import { messageOf } from '../engine/errors';
import type { ModelInfo, BatchRun, Reply } from '../engine/protocol';
import { MEASURE_INFO, type Measure } from '../measure';
import { drawnMeasure, describeScope } from '../mixing';
import { resolveView, type Store, type ViewState } from '../state';
import './analysis.css';
import { OwnModelPicker, type OwnLoad, type StageProgress } from './byo-model';
import { DriftView, levelNames, pairName } from './drift';
import { download, embedSnippet, measureTable, panelPng, toCsv, withoutSpecialsTable, type NumberTable } from './export';
import { FillMaskPanel } from './fillmask';
import type { FocusFigure } from './focus';
import type { QuantizeOutcome } from './quantize-panel';
import { RolloutView } from './rollout';
import { driftSvg, focusSvg, rolloutSvg } from './svg-figure';
import type { SentenceViewOptions } from './sentence-view';

/** Hands the worker's `own-progress` updates to `progress`. */
function stageUpdates(progress: StageProgress): (reply: Reply) => void {
  return (update) => {
    if (update.type === 'own-progress') progress(update.stage, update.done, update.total);
  };
}

/** Wait after the last focus edit before asking for its drift, in ms. */
const DRIFT_DELAY_MS = 150;

/** What the analysis features need from the page. */
export interface AnalysisHost {
  client: EngineClient;
  store: Store<ViewState>;
  shown(): BatchRun | null;
  info(): ModelInfo | null;
  /** A model from the user's file `name` is loaded (`quantized`: the smaller copy made of it here): show it and run again. */
  modelLoaded(info: ModelInfo, name: string, quantized: boolean): void;
  /** Draws the current view again. */
  redraw(): void;
  /** What the focus view shows, per sentence (for the SVG export). */
  focusFigures(): FocusFigure[];
}

/** What a draw needs (main.ts's `common`, plus the sentence shown). */
export type AnalysisDraw = SentenceViewOptions & { rolloutLayer?: number | null };

/** The views whose numbers follow the measure control. */
const MEASURED_VIEWS: readonly string[] = ['focus', 'head', 'model', 'rollout'];

function query<T extends Element>(selector: string): T {
  const element = document.querySelector<T>(selector);
  if (!element) throw new Error(`the page is missing ${selector}`);
  return element;
}

export class AnalysisFeatures {
  readonly rollout: RolloutView;
  readonly drift: DriftView;
  private readonly fillMask: FillMaskPanel;
  private driftTimer: number | undefined;
  /** The run whose rollout was last asked for. */
  private rolloutAsked: number | null = null;
  private readonly picker: OwnModelPicker;
  private readonly exportNote = query<HTMLElement>('[data-testid="export-note"]');
  private readonly snippet = query<HTMLTextAreaElement>('[data-testid="embed-snippet"]');

  constructor(private readonly host: AnalysisHost) {
    this.rollout = new RolloutView(query('#rollout-view'), (sentence, progress) => this.flow(sentence, progress), (rolloutLayer) => host.store.set({ rolloutLayer }));
    this.drift = new DriftView(query('#drift-view'));
    this.fillMask = new FillMaskPanel(query('#fill-mask-view'), (sentence, k) => this.fill(sentence, k));
    this.picker = new OwnModelPicker(query('#byo-model'), {
      load: (model, tokenizer, reuse, progress) => this.loadOwn(model, tokenizer, reuse, progress),
      quantize: (model, progress) => this.quantizeOwn(model, progress),
    });
    host.store.subscribe((state, previous) => {
      if (state.focusWord !== previous.focusWord || state.focusOccurrence !== previous.focusOccurrence) this.scheduleDrift();
    });
    query('[data-testid="export-png"]').addEventListener('click', () => void this.exportPng());
    query('[data-testid="export-svg"]').addEventListener('click', () => this.exportSvg());
    query('[data-testid="export-json"]').addEventListener('click', () => this.exportNumbers('json'));
    query('[data-testid="export-csv"]').addEventListener('click', () => this.exportNumbers('csv'));
    query('[data-testid="copy-embed"]').addEventListener('click', () => void this.copyEmbed());
  }

  /** A new result is on screen. */
  onResult(output: BatchRun): void {
    const info = this.host.info();
    if (info) void this.fillMask.update(output, info);
    this.scheduleDrift();
  }

  /** Draws the rollout or drift view; false if `view` is neither. */
  draw(view: string, options: AnalysisDraw): boolean {
    if (view === 'rollout') {
      this.requestRollout(options.output);
      this.rollout.update(options);
    } else if (view === 'drift') this.drift.update(options);
    else return false;
    return true;
  }

  /** What `view` still waits for from the worker for `output` (said in the status instead of "ready"), or null. */
  pending(view: string, output: BatchRun): string | null {
    const analysis = output.analysis;
    if (view === 'rollout' && analysis && !analysis.rollouts && analysis.rolloutError === undefined) return 'computing rollout…';
    return null;
  }

  private resultId(): number {
    const id = this.host.shown()?.analysis?.resultId;
    if (id === undefined) throw new Error('no analysed result yet');
    return id;
  }

  /** Asks the worker for the rollout of `output` once (it is kept on the result), then redraws. */
  private requestRollout(output: BatchRun): void {
    const analysis = output.analysis;
    if (!analysis || analysis.rollouts || analysis.rolloutError !== undefined || this.rolloutAsked === analysis.resultId) return;
    this.rolloutAsked = analysis.resultId;
    const current = (): boolean => this.host.shown() === output;
    this.host.client.ask({ type: 'rollout', resultId: analysis.resultId }).then(
      (reply) => {
        if (reply.type === 'rollout') analysis.rollouts = reply.rollouts;
        else analysis.rolloutError = `unexpected reply ${reply.type}`;
      },
      (e: unknown) => {
        // A newer run replaced this one: the rollout tab asks for the new run's instead.
        if (current()) analysis.rolloutError = messageOf(e);
      },
    ).finally(() => {
      if (current() && this.host.store.get().view === 'rollout') this.host.redraw();
    });
  }

  private async flow(sentence: number, progress: (done: number, total: number) => void): Promise<FlowOutput> {
    const reply = await this.host.client.ask({ type: 'flow', resultId: this.resultId(), sentence }, (update) => {
      if (update.type === 'flow-progress') progress(update.done, update.total);
    });
    if (reply.type !== 'flow') throw new Error(`unexpected reply ${reply.type}`);
    return { sentence: reply.sentence, tokens: reply.tokens, flow: reply.flow };
  }

  private async fill(sentence: number, k: number): Promise<MaskPrediction[]> {
    const reply = await this.host.client.ask({ type: 'fill-mask', resultId: this.resultId(), sentence, k });
    if (reply.type !== 'fill-mask') throw new Error(`unexpected reply ${reply.type}`);
    return reply.masks;
  }

  /** Asks for the drift of the focus word when the result on screen has another word's. */
  private scheduleDrift(): void {
    window.clearTimeout(this.driftTimer);
    this.driftTimer = window.setTimeout(() => void this.refreshDrift(), DRIFT_DELAY_MS);
  }

  private async refreshDrift(): Promise<void> {
    const output = this.host.shown();
    const { focusWord: word, focusOccurrence: occurrence } = this.host.store.get();
    const analysis = output?.analysis;
    if (!analysis || (analysis.driftWord === word && analysis.driftOccurrence === occurrence)) return;
    try {
      const reply = await this.host.client.ask({ type: 'drift', resultId: analysis.resultId, word, occurrence });
      if (reply.type !== 'drift' || this.host.shown() !== output) return;
      analysis.drifts = reply.drifts;
      analysis.driftWord = reply.word;
      analysis.driftOccurrence = reply.occurrence;
      if (this.host.store.get().view === 'drift') this.host.redraw();
    } catch {
      // A newer run replaced the result; its own drift comes with it.
    }
  }

  /** The engine restarted with the page's model: a file the user loaded is no longer the one shown. */
  engineRestarted(lostModel: string | null): void {
    if (lostModel) this.picker.forget(`${lostModel} stopped the engine; drop it again to retry.`);
  }

  /** Loads the user's files (the worker reads them itself: only file handles cross). */
  private async loadOwn(model: File, tokenizer: File, reuse: boolean, progress: StageProgress): Promise<OwnLoad> {
    const reply = await this.host.client.ask({ type: 'load-own', model, tokenizer, reuse }, stageUpdates(progress));
    if (reply.type !== 'own-loaded') throw new Error(`unexpected reply ${reply.type}`);
    const { info, reused, wasmBytes } = reply;
    this.host.modelLoaded(info, model.name, reused !== null);
    const description = `${info.layers} layers × ${info.heads} heads, ${info.quantization}${info.fill_mask ? ', with a fill-mask head' : ''}`;
    return { info, description, reused, wasmBytes };
  }

  /** Makes the loaded fp32 file smaller, measuring the attention change on the sentences shown. */
  private async quantizeOwn(model: File, progress: StageProgress): Promise<QuantizeOutcome> {
    const texts = this.host.store.get().sentences;
    const reply = await this.host.client.ask({ type: 'quantize', model, texts: [...texts] }, stageUpdates(progress));
    if (reply.type !== 'quantized') throw new Error(`unexpected reply ${reply.type}`);
    const { info, record, kept, reused, wasmBytes } = reply;
    this.host.modelLoaded(info, model.name, true);
    return { info, record, kept, reused, wasmBytes };
  }

  /** The measure the current view draws (raw attention when the run lacks the chosen one), or null for views it does not apply to. */
  private measureShown(): Measure | null {
    const state = this.host.store.get();
    const output = this.host.shown();
    if (!MEASURED_VIEWS.includes(state.view)) return null;
    return output ? drawnMeasure(output, state.measure) : 'raw';
  }

  private fileStem(): string {
    const state = this.host.store.get();
    const word = state.focusWord.trim().replace(/[^\p{L}\p{N}_-]+/gu, '') || 'all';
    const measure = this.measureShown();
    return `bertscope-${state.view}-${word}${measure && measure !== 'raw' ? `-${measure}` : ''}`;
  }

  /** The PNG's title line: the measure, layer and heads shown (views the measure applies to). */
  private pngTitle(): string | null {
    const measure = this.measureShown();
    const output = this.host.shown();
    if (!measure || !output) return null;
    const [layers, heads] = output.attentionShape;
    const { layer, head } = resolveView(this.host.store.get(), { layers, heads });
    const scope = this.host.store.get().view === 'model' ? 'every layer' : describeScope(measure, layer, head, heads);
    return `bertscope · ${MEASURE_INFO[measure].label}${measure === 'norm' ? ' (row shares)' : ''} · ${scope}`;
  }

  private async exportPng(): Promise<void> {
    const view = this.host.store.get().view;
    const panel = document.getElementById(`panel-${view}`);
    const background = getComputedStyle(document.body).backgroundColor || '#fff';
    const title = this.pngTitle();
    const colour = getComputedStyle(document.body).color || '#000';
    const blob = panel ? await panelPng(panel, background, title ? { text: title, colour } : undefined) : null;
    if (!blob) {
      this.exportNote.textContent = 'This view has nothing drawn to save yet.';
      return;
    }
    download(blob, `${this.fileStem()}.png`);
    this.exportNote.textContent = `Saved ${this.fileStem()}.png.`;
  }

  /** The current view as vector SVG (focus, rollout and drift views). */
  private exportSvg(): void {
    const view = this.host.store.get().view;
    const theme = readTheme();
    const sentences = this.host.shown()?.batch.sentences ?? [];
    const svg =
      view === 'focus'
        ? focusSvg(this.host.focusFigures(), theme)
        : view === 'rollout'
          ? rolloutSvg(this.rollout.shown.map((rows) => ({ title: `${rows.sentence + 1}. “${shorten(sentences[rows.sentence]?.text ?? '', 160)}”`, rows })), theme)
          : view === 'drift'
            ? driftSvg(this.drift.chartShown, this.drift.mapShown?.spec ?? null, theme)
            : undefined;
    if (svg === undefined) {
      this.exportNote.textContent = 'SVG covers the Focus word, Rollout and Context drift views; save this one as PNG.';
      return;
    }
    if (svg === null) {
      this.exportNote.textContent = 'This view has nothing drawn to save yet.';
      return;
    }
    const name = `${this.fileStem()}.svg`;
    download(new Blob([svg], { type: 'image/svg+xml' }), name);
    this.exportNote.textContent = `Saved ${name} (vector: shapes and text, ready to scale).`;
  }

  /** The numbers the current view draws, as a table, and anything more for the JSON. */
  private numbers(): { table: NumberTable; extra: Record<string, unknown> } | null {
    const state = this.host.store.get();
    const output = this.host.shown();
    if (!output) return null;
    const [layers, heads] = output.attentionShape;
    // The state's layer and head, fitted to the model, as main.ts draws them.
    const { layer, head } = resolveView(state, { layers, heads });
    if (state.view === 'rollout') {
      const rows = this.rollout.shown.flatMap((s) =>
        s.rows.flatMap((r, ri) => r.values.map((v, i) => [s.sentence + 1, r.name, s.from[ri] ?? s.word, i + 1, s.tokens[i] ?? '', v] as (string | number)[])),
      );
      return {
        table: {
          description:
            'where the focus token looks: the chosen measure at the chosen layer and heads, attention rollout through the chosen layer, ' +
            'ALTI rollout through it (with a mixing measure), and attention flow when computed; positions count from 1',
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
    const sentences = state.view === 'focus' ? output.batch.sentences.map((_, i) => i) : [Math.min(state.sentence, output.batch.sentences.length - 1)];
    const measure = drawnMeasure(output, state.measure);
    if (state.view === 'focus' && state.hideSpecial) return { table: withoutSpecialsTable(output, layer, head, sentences, measure), extra: {} };
    return { table: measureTable(output, layer, head, sentences, measure), extra: {} };
  }

  private exportNumbers(kind: 'json' | 'csv'): void {
    const numbers = this.numbers();
    if (!numbers) {
      this.exportNote.textContent = 'There is no result to export yet.';
      return;
    }
    const { table, extra } = numbers;
    const state = this.host.store.get();
    const name = `${this.fileStem()}.${kind}`;
    if (kind === 'csv') {
      download(new Blob([toCsv(table)], { type: 'text/csv' }), name);
    } else {
      const records = table.rows.map((row) => Object.fromEntries(table.columns.map((c, i) => [c, row[i]])));
      const measure = this.measureShown();
      const about = measure ? { measure, measure_name: MEASURE_INFO[measure].label } : {};
      const json = { view: state.view, sentences: state.sentences, focus: state.focusWord, focus_occurrence: state.focusOccurrence, hide_special: state.hideSpecial, shared_scale: state.sharedScale, ...about, description: table.description, columns: table.columns, records, ...extra };
      download(new Blob([JSON.stringify(json, null, 2)], { type: 'application/json' }), name);
    }
    this.exportNote.textContent = `Saved ${name} (${table.rows.length} rows).`;
  }

  private async copyEmbed(): Promise<void> {
    const state = this.host.store.get();
    const output = this.host.shown();
    const layers = output?.attentionShape[0] ?? this.host.info()?.layers ?? 1;
    const heads = output?.attentionShape[1] ?? this.host.info()?.heads ?? 1;
    const { layer, head } = resolveView(state, { layers, heads });
    const text = embedSnippet({
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
    this.snippet.value = text;
    this.snippet.hidden = false;
    try {
      await navigator.clipboard.writeText(text);
      this.exportNote.textContent = 'Embed snippet copied: paste it after the bert-attention.js script tag (see the README).';
    } catch (e) {
      this.snippet.select();
      this.exportNote.textContent = `Copy the snippet below (the clipboard refused: ${messageOf(e)}).`;
    }
  }
}
