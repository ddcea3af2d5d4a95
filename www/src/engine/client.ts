/**
 * Promise API over the engine worker. Only the newest run matters: a run asked for while another
 * is computing waits, and is replaced by any newer one (replaced runs resolve to `null`). If the
 * worker dies, every open request fails, a fresh worker is started and `onCrash` is told which
 * model was in it and which one to restart with (see crash-ledger.ts): a model that stopped the
 * engine is not loaded again automatically, so a bad model cannot make the page loop. The threaded
 * engine's pool threads report their own crashes here (the worker, waiting for them, cannot): the
 * client then ends the worker, its pool with it, as if it had crashed itself.
 */
import { CrashLedger, type ModelFiles } from './crash-ledger';
import { InputError } from './errors';
import type { BatchRun, Encoding, ModelInfo, Progress, Reply, Request, RunOptions, WordFocus } from './protocol';
import type { PoolThreadAlarm } from './threads';

export type { ModelFiles } from './crash-ledger';

/** What the client tells about the worker dying. */
export interface Crash {
  /** Why, in words. */
  message: string;
  /** The model in the worker (or being loaded into it) when it died; null for the user's own file or none. */
  culprit: ModelFiles | null;
  /** Whether a fresh worker (with no model) took its place. */
  restarting: boolean;
  /** The model to load into the fresh worker: the last that ran, else the default, never one refused after a crash; null if none is left. */
  restartWith: ModelFiles | null;
}

/** Callbacks for what happens outside any single request. */
export interface ClientEvents {
  /** Model download progress (also reported, instantly, when it comes from the cache). */
  onProgress?: (progress: Progress) => void;
  /** A load found the server's files newer than the cached copies (their URLs), and used them in their place. */
  onReplaced?: (urls: string[]) => void;
  /** The worker died; see `Crash` for what replaced it and what to load. */
  onCrash?: (crash: Crash) => void;
}

/** Why a request failed when the worker died; `restarting` tells whether a fresh worker took its place. */
export class EngineStopped extends Error {
  constructor(
    message: string,
    readonly restarting: boolean,
  ) {
    super(message);
    this.name = 'EngineStopped';
  }
}

/** Crashes after which the client stops starting fresh workers, whatever the models (a last guard against loops). */
const MAX_CRASHES = 12;

type Outgoing = Request extends infer R ? (R extends { id: number } ? Omit<R, 'id'> : never) : never;

interface Waiter {
  resolve: (reply: Reply) => void;
  reject: (error: Error) => void;
}

interface QueuedRun {
  texts: string[];
  options: RunOptions;
  resolve: (output: BatchRun | null) => void;
  reject: (error: Error) => void;
}

/** Talks to one engine worker at a time. */
export class EngineClient {
  private worker: Worker | null = null;
  /** The alarm ports of the worker's pool threads (threaded engine only), closed with it. */
  private alarms: MessagePort[] = [];
  private nextId = 1;
  private readonly waiting = new Map<number, Waiter>();
  /** Interim replies (`flow-progress`, `mixing-progress`, `own-progress`) go to the request's listener. */
  private readonly updates = new Map<number, (reply: Reply) => void>();
  /** Token of the run being computed, if any. */
  private runInFlight: object | null = null;
  private queuedRun: QueuedRun | null = null;
  private crashes = 0;
  private deadReason: string | null = null;
  private readonly ledger: CrashLedger;
  /** The model loaded in the worker (null: none, or the user's own file). */
  private loaded: ModelFiles | null = null;
  /** The model the worker holds or is loading now: the one blamed if it dies. */
  private suspect: ModelFiles | null = null;
  /** How many threads the engine ran its last load on (several where the page is cross-origin isolated). */
  threads = 1;

  /**
   * `createWorker` starts a worker running the engine (the page's worker.ts, or the widget's own
   * file); `defaultModel` is what a restart falls back to when no other model ran.
   */
  constructor(
    private readonly createWorker: () => Worker,
    private readonly events: ClientEvents = {},
    defaultModel: ModelFiles | null = null,
  ) {
    this.ledger = new CrashLedger(defaultModel);
    this.spawn();
  }

  /**
   * Downloads (or reads from the cache) and prepares a model; resolves with what it is. A model that
   * stopped the engine before is refused at once, in words. `firstBatch`, the number of sentences
   * the first run will have, and `firstMixing`, whether it reads the context-mixing measures, let
   * the engine prepare for that run while it loads.
   */
  async load(modelUrl: string, tokenizerUrl: string, firstBatch?: number, firstMixing?: boolean): Promise<ModelInfo> {
    const files = { modelUrl, tokenizerUrl };
    const refusal = this.ledger.refusal(files);
    if (refusal !== null) throw new Error(refusal);
    const reply = await this.loading(files, () => this.request({ type: 'load', modelUrl, tokenizerUrl, ...(firstBatch ? { firstBatch } : {}), ...(firstMixing ? { firstMixing } : {}) }));
    if (reply.type !== 'loaded') throw new Error(`unexpected reply ${reply.type} to load`);
    this.threads = reply.threads;
    // For DevTools' timeline (and the tests): how the engine got its model.
    performance.mark(reply.restored ? 'bertscope: engine restored' : 'bertscope: model loaded');
    if (reply.replaced.length > 0) this.events.onReplaced?.(reply.replaced);
    return reply.info;
  }

  /**
   * Runs the model on `texts`; resolves to `null` if a newer run replaced this one. `options` asks
   * for the page's analyses (rollout, drift of a focus word, the token map) and for the
   * context-mixing measures, with their progress.
   */
  run(texts: string[], options: RunOptions = {}): Promise<BatchRun | null> {
    return new Promise((resolve, reject) => {
      this.queuedRun?.resolve(null);
      this.queuedRun = { texts, options, resolve, reject };
      this.pump();
    });
  }

  /** The engine's answer (`analysis::find_word`) for the `occurrence`-th `word` of each of `sentences`. */
  async findWords(sentences: readonly Encoding[], word: string, occurrence: number): Promise<WordFocus[]> {
    const reply = await this.request({ type: 'find-word', sentences: [...sentences], word, occurrence });
    if (reply.type !== 'find-word') throw new Error(`unexpected reply ${reply.type}`);
    return reply.found;
  }

  /** Sends any other request (the page's analyses); `onUpdate` hears its interim replies. */
  async ask(message: Outgoing, onUpdate?: (reply: Reply) => void): Promise<Reply> {
    // The user's own file replaces the model: a crash from now on is its doing, not the page model's.
    if (message.type === 'load-own' || message.type === 'quantize') return this.loading(null, () => this.request(message, onUpdate));
    return this.request(message, onUpdate);
  }

  /** Sends a request that loads `files` (null: the user's file), keeping track of which model the worker holds. */
  private async loading(files: ModelFiles | null, send: () => Promise<Reply>): Promise<Reply> {
    this.suspect = files;
    try {
      const reply = await send();
      this.loaded = files;
      return reply;
    } catch (e) {
      // A refused file leaves the previous model loaded, unless a newer load (a restart's) is under way.
      if (this.suspect === files) this.suspect = this.loaded;
      throw e;
    }
  }

  /**
   * Gives the attention of `output` back to the worker: buffers it copied out are moved back to be
   * filled again in the next runs instead of fresh ones; attention it lent (views of its shared
   * memory, threaded build) is freed. Only for a result nothing reads any more: its `attentions`
   * are empty afterwards either way.
   */
  recycle(output: BatchRun): void {
    const { lent } = output;
    if (lent !== undefined) {
      // The views would read whatever the engine writes there next: nothing may reach them now.
      output.attentions = output.attentions.map(() => new Float32Array(0));
      delete output.lent;
    }
    const buffers = [...new Set(output.attentions.map((a) => a.buffer))].filter((b): b is ArrayBuffer => b instanceof ArrayBuffer && b.byteLength > 0);
    if (!this.worker || (buffers.length === 0 && lent === undefined)) return;
    // A worker that replaced a crashed one never lent `lent` (ids are never reused): it ignores it.
    this.worker.postMessage({ type: 'recycle', id: 0, buffers, ...(lent !== undefined ? { lent } : {}) } satisfies Request, buffers);
  }

  /** Stops the worker for good. */
  dispose(): void {
    this.deadReason = 'the engine was shut down';
    this.failAll(new Error(this.deadReason));
    this.stopWorker();
  }

  /** Ends the worker (and its pool threads) and stops listening to them. */
  private stopWorker(): void {
    this.worker?.terminate();
    this.worker = null;
    for (const port of this.alarms.splice(0)) port.close();
  }

  private pump(): void {
    if (this.runInFlight || !this.queuedRun) return;
    const { texts, options, resolve, reject } = this.queuedRun;
    const { analyses, mixing, onMixingProgress } = options;
    this.queuedRun = null;
    const token = {};
    this.runInFlight = token;
    const settle = (): boolean => {
      if (this.runInFlight === token) this.runInFlight = null;
      return this.queuedRun !== null; // a newer run is waiting: this result is stale
    };
    const onUpdate = (reply: Reply): void => {
      if (reply.type === 'mixing-progress') onMixingProgress?.({ sentence: reply.sentence, sentences: reply.sentences, done: reply.done, total: reply.total });
    };
    this.request({ type: 'run', texts, ...(analyses ? { analyses } : {}), ...(mixing && mixing !== 'none' ? { mixing } : {}) }, onUpdate).then(
      (reply) => {
        const stale = settle();
        if (reply.type !== 'result') reject(new Error(`unexpected reply ${reply.type} to run`));
        else {
          const { type: _type, id: _id, ...output } = reply;
          if (stale) {
            // Nobody will see it: its attention goes back to the worker at once.
            this.recycle(output);
            resolve(null);
          } else {
            if (this.loaded) this.ledger.worked(this.loaded);
            resolve(output);
          }
        }
        this.pump();
      },
      (error: Error) => {
        if (settle()) resolve(null);
        else reject(error);
        this.pump();
      },
    );
  }

  private request(message: Outgoing, onUpdate?: (reply: Reply) => void): Promise<Reply> {
    return new Promise((resolve, reject) => {
      if (this.deadReason !== null || !this.worker) {
        reject(new Error(this.deadReason ?? 'the engine is not running'));
        return;
      }
      const id = this.nextId++;
      this.waiting.set(id, { resolve, reject });
      if (onUpdate) this.updates.set(id, onUpdate);
      this.worker.postMessage({ ...message, id } as Request);
    });
  }

  private spawn(): void {
    const worker = this.createWorker();
    worker.addEventListener('message', (event: MessageEvent<Reply>) => {
      if (event.data.type === 'pool-alarms') this.listenToPool(worker, event.data.ports);
      else this.receive(event.data);
    });
    worker.addEventListener('error', (event: ErrorEvent) => {
      event.preventDefault();
      this.crash(event.message || 'the engine stopped unexpectedly');
    });
    worker.addEventListener('messageerror', () => this.crash('the engine sent a message that could not be read'));
    this.worker = worker;
  }

  /** Listens to the pool threads of `worker`: one that stops leaves `worker` waiting for it for ever, so that is a crash. */
  private listenToPool(worker: Worker, ports: MessagePort[]): void {
    if (worker !== this.worker) {
      for (const port of ports) port.close();
      return;
    }
    for (const port of ports) {
      port.addEventListener('message', (event: MessageEvent<PoolThreadAlarm>) => {
        if (worker === this.worker) this.crash(event.data.stopped);
      });
      port.start();
      this.alarms.push(port);
    }
  }

  private receive(reply: Reply): void {
    if (reply.type === 'progress') {
      const { received, total, fromCache } = reply;
      this.events.onProgress?.({ received, total, fromCache });
      return;
    }
    if (reply.type === 'flow-progress' || reply.type === 'mixing-progress' || reply.type === 'own-progress') {
      this.updates.get(reply.id)?.(reply);
      return;
    }
    const waiter = this.waiting.get(reply.id);
    this.waiting.delete(reply.id);
    this.updates.delete(reply.id);
    if (reply.type === 'error' && reply.fatal) {
      // The request fails with the others, as EngineStopped.
      if (waiter) this.waiting.set(reply.id, waiter);
      this.crash(reply.error);
    } else if (reply.type === 'error') {
      waiter?.reject(reply.input ? new InputError(reply.error) : new Error(reply.error));
    } else {
      waiter?.resolve(reply);
    }
  }

  private failAll(error: Error): void {
    for (const waiter of this.waiting.values()) waiter.reject(error);
    this.waiting.clear();
    this.updates.clear();
    this.queuedRun?.reject(error);
    this.queuedRun = null;
    this.runInFlight = null;
  }

  /** Fails what was asked of a dead worker, blames the model it held and, unless it keeps dying, starts a fresh one. */
  private crash(message: string): void {
    this.stopWorker();
    this.crashes++;
    const culprit = this.suspect;
    this.ledger.record(culprit, message);
    this.loaded = null;
    this.suspect = null;
    const restarting = this.crashes < MAX_CRASHES;
    if (!restarting) this.deadReason = `the engine keeps stopping (${message}); reload the page to try again`;
    this.failAll(new EngineStopped(restarting ? `the engine stopped (${message}) and is restarting` : this.deadReason ?? message, restarting));
    if (restarting) this.spawn();
    this.events.onCrash?.({ message, culprit, restarting, restartWith: restarting ? this.ledger.restartTarget() : null });
  }
}
