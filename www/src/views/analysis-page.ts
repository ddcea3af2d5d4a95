/**
 * The explorer's analysis features (issue 7), wired in one place so main.ts only hands over its
 * client, store and result: the rollout and drift views, focus-word drift kept up to date as the
 * focus changes, the fill-mask panel, bring-your-own-model, and the export bar (exporter.ts).
 */
import type { FlowOutput, MaskPrediction } from '../engine/analysis-protocol';
import type { EngineClient } from '../engine/client';
import { messageOf } from '../engine/errors';
import type { ModelInfo, BatchRun, Reply } from '../engine/protocol';
import type { Store, ViewState } from '../state';
import './analysis.css';
import { OwnModelPicker, type OwnLoad, type StageProgress } from './byo-model';
import { DriftView } from './drift';
import { Exporter, type ExportHost } from './exporter';
import { FillMaskPanel } from './fillmask';
import type { QuantizeOutcome } from './quantize-panel';
import { RolloutView } from './rollout';
import type { SentenceViewOptions } from './sentence-view';

/** Hands the worker's `own-progress` updates to `progress`. */
function stageUpdates(progress: StageProgress): (reply: Reply) => void {
  return (update) => {
    if (update.type === 'own-progress') progress(update.stage, update.done, update.total);
  };
}

/** Wait after the last focus edit before asking for its drift, in ms. */
const DRIFT_DELAY_MS = 150;

/** What the analysis features need from the page (the exports' needs included). */
export interface AnalysisHost extends ExportHost {
  client: EngineClient;
  store: Store<ViewState>;
  shown(): BatchRun | null;
  info(): ModelInfo | null;
  /** A model from the user's file `name` is loaded (`quantized`: the smaller copy made of it here): show it and run again. */
  modelLoaded(info: ModelInfo, name: string, quantized: boolean): void;
  /** Draws the current view again. */
  redraw(): void;
  /** Makes the word holding token `token` of sentence `sentence` (of the result on screen) the focus word. */
  pickToken(sentence: number, token: number): void;
}

/** What a draw needs (main.ts's `common`, plus the sentence shown). */
export type AnalysisDraw = SentenceViewOptions & { rolloutLayer?: number | null };

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

  constructor(private readonly host: AnalysisHost) {
    this.rollout = new RolloutView(query('#rollout-view'), (sentence, progress) => this.flow(sentence, progress), (rolloutLayer) => host.store.set({ rolloutLayer }), (sentence, token) => host.pickToken(sentence, token));
    this.drift = new DriftView(query('#drift-view'), (sentence, token) => host.pickToken(sentence, token));
    this.fillMask = new FillMaskPanel(query('#fill-mask-view'), (sentence, k) => this.fill(sentence, k));
    this.picker = new OwnModelPicker(query('#byo-model'), {
      load: (model, tokenizer, reuse, progress) => this.loadOwn(model, tokenizer, reuse, progress),
      quantize: (model, progress) => this.quantizeOwn(model, progress),
    });
    host.store.subscribe((state, previous) => {
      if (state.focusWord !== previous.focusWord || state.focusOccurrence !== previous.focusOccurrence) this.scheduleDrift();
    });
    new Exporter(host, this.rollout, this.drift);
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
}
