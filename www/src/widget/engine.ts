/**
 * The one engine every widget on a page shares: one worker, one wasm instance, one model loaded at
 * a time (downloaded once, then read from the Cache API). Widgets queue runs; each widget's newest
 * request replaces its older queued one, and identical runs are answered from a small cache (a run
 * with the mixing measures also answers the same run without them). If one widget's model stops the
 * engine, the fresh worker refuses that model (its widgets say why) and serves the others.
 */
import { EngineClient, type ModelFiles } from '../engine/client';
import { modelKey } from '../engine/crash-ledger';
import { MIXING_NEEDS, serves, type MixingNeed } from '../measure';
import type { BatchRun, Encoding, ModelInfo, Progress, WordFocus } from '../engine/protocol';

/** A finished run and the model it ran on. */
export interface FinishedRun {
  info: ModelInfo;
  output: BatchRun;
}

/** What widgets hear about outside their own requests. */
export interface EngineListener {
  /** Download progress of `modelUrl`. */
  onProgress(progress: Progress, modelUrl: string): void;
  /** The worker died; `restarting` says whether a fresh one took its place (ask again then). */
  onRestart(restarting: boolean): void;
}

interface Job {
  modelUrl: string;
  tokenizerUrl: string;
  texts: string[];
  mixing: MixingNeed;
  resolve: (result: FinishedRun | null) => void;
  reject: (error: Error) => void;
}

/** Attention bytes the result cache may hold (one 512-token sentence is ~75 MB on MiniLM). */
const CACHE_BYTES = 64 << 20;

function bytesOf(result: FinishedRun): number {
  const mixing = result.output.mixing ?? [];
  const measures = mixing.reduce((sum, m) => sum + m.normHead.byteLength + m.normLayer.byteLength + m.alti.byteLength + m.altiRollout.byteLength, 0);
  return result.output.attentions.reduce((sum, a) => sum + a.byteLength, measures);
}

/** Runs widgets' requests one at a time on one worker. */
export class SharedEngine {
  private client: EngineClient | null = null;
  private loaded: { key: string; info: ModelInfo } | null = null;
  /** The model being downloaded, for progress reports. */
  private loading: string | null = null;
  /** Models that failed to load (asked again, they fail at once rather than download again). */
  private readonly failed = new Map<string, Error>();
  /** Newest queued request of each widget, oldest widget first. */
  private readonly pending = new Map<object, Job>();
  private readonly results = new Map<string, FinishedRun>();
  private readonly listeners = new Set<EngineListener>();
  private busy = false;
  /** Counts worker restarts, so a failure caused by a crash is not remembered as the model's. */
  private generation = 0;

  /** `defaultModel`: the widgets' default model, which is retried after a crash (any other model that stopped the engine is refused). */
  constructor(
    private readonly createWorker: () => Worker,
    private readonly defaultModel: ModelFiles | null = null,
  ) {}

  /** Whether `modelUrl` (with its tokenizer) is the model in the worker now. */
  isLoaded(modelUrl: string, tokenizerUrl: string): boolean {
    return this.loaded?.key === modelKey({ modelUrl, tokenizerUrl });
  }

  /**
   * Runs `texts` for `owner`, with the context-mixing measures when `mixing`; resolves to `null` if
   * `owner` asked again (or left) before this ran.
   */
  run(owner: object, modelUrl: string, tokenizerUrl: string, texts: readonly string[], mixing: MixingNeed = 'none'): Promise<FinishedRun | null> {
    return new Promise((resolve, reject) => {
      this.forget(owner);
      this.pending.set(owner, { modelUrl, tokenizerUrl, texts: [...texts], mixing, resolve, reject });
      void this.pump();
    });
  }

  /** The engine's answer (`analysis::find_word`) for the `occurrence`-th `word` of each of `sentences` (after a run). */
  findWords(sentences: readonly Encoding[], word: string, occurrence: number): Promise<WordFocus[]> {
    if (!this.client) return Promise.reject(new Error('the engine has not run yet'));
    return this.client.findWords(sentences, word, occurrence);
  }

  /** Drops `owner`'s queued request (its promise resolves to `null`). */
  forget(owner: object): void {
    this.pending.get(owner)?.resolve(null);
    this.pending.delete(owner);
  }

  /** Adds a listener; returns the function that removes it. */
  subscribe(listener: EngineListener): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  private async pump(): Promise<void> {
    if (this.busy) return;
    this.busy = true;
    try {
      for (let next = this.pending.entries().next(); !next.done; next = this.pending.entries().next()) {
        const [owner, job] = next.value;
        this.pending.delete(owner);
        try {
          job.resolve(await this.execute(job));
        } catch (e) {
          job.reject(e instanceof Error ? e : new Error(String(e)));
        }
      }
    } finally {
      this.busy = false;
    }
  }

  private async execute(job: Job): Promise<FinishedRun> {
    const key = modelKey(job);
    const runKey = (mixing: MixingNeed): string => JSON.stringify([key, job.texts, mixing]);
    const made = MIXING_NEEDS.find((need) => serves(need, job.mixing) && this.results.has(runKey(need)));
    const cached = made && this.results.get(runKey(made));
    if (cached) return cached;
    const failure = this.failed.get(key);
    if (failure) throw failure;
    this.client ??= new EngineClient(
      this.createWorker,
      {
        onProgress: (progress) => {
          const url = this.loading;
          if (url) for (const listener of this.listeners) listener.onProgress(progress, url);
        },
        // The model that stopped the engine is refused from now on (its widgets say why); the others load again.
        onCrash: ({ message, restarting }) => {
          console.warn(`bertscope: the engine stopped: ${message}`);
          this.generation++;
          this.loaded = null;
          for (const listener of this.listeners) listener.onRestart(restarting);
        },
      },
      this.defaultModel,
    );
    if (this.loaded?.key !== key) {
      this.loaded = null;
      this.loading = job.modelUrl;
      const generation = this.generation;
      try {
        this.loaded = { key, info: await this.client.load(job.modelUrl, job.tokenizerUrl, job.texts.length) };
      } catch (e) {
        const error = e instanceof Error ? e : new Error(String(e));
        if (generation === this.generation) this.failed.set(key, error);
        throw error;
      } finally {
        this.loading = null;
      }
    }
    const info = this.loaded.info;
    const output = await this.client.run(job.texts, { mixing: job.mixing });
    // Runs go one at a time here, so the client never replaces one; null would mean it did.
    if (!output) throw new Error('the run was cancelled');
    const result = { info, output };
    this.remember(runKey(job.mixing), result);
    return result;
  }

  /** Keeps `result` for identical requests, within `CACHE_BYTES` (the newest always). */
  private remember(runKey: string, result: FinishedRun): void {
    this.results.set(runKey, result);
    let total = 0;
    for (const r of this.results.values()) total += bytesOf(r);
    for (const [k, r] of this.results) {
      if (total <= CACHE_BYTES || this.results.size === 1) break;
      this.results.delete(k);
      total -= bytesOf(r);
    }
  }
}
