/**
 * The engine, run inside a worker: owns the wasm instance and the loaded `Engine`, downloads (and
 * caches, see download.ts) model files, and answers `load` and `run` requests one at a time, in
 * order. The page's worker (worker.ts) and the widget's (the widget module itself, started as a
 * worker) call `serveEngine`.
 */
import * as wasm from './bindings';
import type { RunAnalysis } from './analysis-protocol';
import { ask, download, openCached, type Asked, type CachedFile } from './download';
import { isInputError, messageOf, trapInWords } from './errors';
import { mixingBuffers, runMixed } from './mixing-run';
import { measure, measureEnginePhases, timed } from './timing';
import { BufferPool } from './buffer-pool';
import { LentAttention } from './held-attention';
import { forgetSnapshot, madeFrom, readSnapshot, restoreSnapshot, takeSnapshot, writeSnapshot, type Snapshot, type SnapshotKey, type Taken } from './snapshot';
import type { MixingNeed } from '../measure';
import type { AttentionShape, FocusAnalyses, MixingProgress, ModelInfo, Progress, Reply, Request } from './protocol';
import type { Threaded } from './threads';

/** What the engine offers an extension (analysis-serve.ts). */
export interface EngineHost {
  post(reply: Reply, transfer?: Transferable[]): void;
  /** Makes the engine `create` returns (once wasm is ready) the loaded one; if it throws, the previous one stays loaded. */
  install(create: () => wasm.Engine): Promise<ModelInfo>;
  /** The loaded engine, if any. */
  loaded(): wasm.Engine | null;
  /** Frees the loaded engine (and what the extension keeps of it), so a big next step can reuse its memory. */
  unload(): void;
  /** The wasm memory's size in bytes (it only grows, so this is its peak so far). */
  memoryBytes(): number;
}

/** More that one worker does than the engine (the page's analyses; the widget's worker has none). */
export interface EngineExtension {
  /** Load models with their masked-LM logits (when they have them). */
  fillMask: boolean;
  /** Takes over a `run` (the extension frees it) when the run asked for analyses. */
  analyse(run: wasm.BatchRun, engine: wasm.Engine, id: number, focus: string, occurrence: number): { analysis: RunAnalysis; transfer: Transferable[] };
  /** Frees what it keeps (before a new run or model needs the memory). */
  release(): void;
  /** Answers a request the engine does not know; false if it does not know it either. */
  handle(request: Request, host: EngineHost): Promise<boolean>;
}

let extension: EngineExtension | null = null;
/** Starts the threaded build where allowed (the page's worker; the widget's runs on one thread). */
let startThreaded: (() => Promise<Threaded | null>) | null = null;
/** Threads the engine runs on. */
let threads = 1;
/** Starts the threaded build's pool, once the engine's memory holds its model (null: no pool to start). */
let startPool: Threaded['startPool'] | null = null;
/** What names the wasm build in use in the kept engine's key; null where nothing may be kept (a threaded build without its digest). */
let build: string | null = null;
/** How `build` names the threaded build: this, then its digest. */
const THREADED = 'threads ';

const wasmUrl = new URL('../../pkg/bertscope_wasm_bg.wasm', import.meta.url);

let wasmReady: Promise<wasm.InitOutput> | null = null;
let wasmMemory: WebAssembly.Memory | null = null;
let engine: wasm.Engine | null = null;
let queue: Promise<void> = Promise.resolve();
/** Attention buffers the page gave back, filled again by the next runs. */
const pool = new BufferPool();
/** Attention the page reads in place, through views of the engine's shared memory (threaded build). */
const lent = new LentAttention();

/**
 * Whether nothing the wasm instance holds matters yet (no model loaded, no file given to it): an
 * engine kept by an earlier visit can then be written over its memory (snapshot.ts).
 */
let pristine = true;
/** The model loaded from these files, kept for the next visit once its first run is done. */
interface ToKeep {
  engine: wasm.Engine;
  modelUrl: string;
  tokenizerUrl: string;
  fillMask: boolean;
  firstBatch: number;
  /** The threaded build's image, taken before its pool started; null: the single-thread build's, taken when kept. */
  taken: Taken | null;
}
/** What the files of a model and its load options are: all but the engine. */
type ModelFiles = Omit<ToKeep, 'engine' | 'taken'>;
let toKeep: ToKeep | null = null;
/** Whether this worker keeps and restores its prepared engine at all (`ServeOptions.keepEngine`). */
let keeping = false;
/**
 * How long after the first run the engine is kept: writing its memory (60 MB for the default
 * model, 0.1-0.4 s) must not compete with the page drawing that run on a 2-core machine.
 */
const KEEP_DELAY_MS = 1000;

/** Where replies go: the worker's global scope once `serveEngine` has run. */
let scope: DedicatedWorkerGlobalScope | null = null;

function post(reply: Reply, transfer: Transferable[] = []): void {
  scope?.postMessage(reply, { transfer });
}

/** Initialises the wasm module once; a failed attempt may be retried. */
function ensureWasm(): Promise<wasm.InitOutput> {
  if (!wasmReady) {
    wasmReady = startWasm().catch((e: unknown) => {
      wasmReady = null;
      throw new Error(`the engine (WebAssembly) could not start: ${messageOf(e)}`);
    });
  }
  return wasmReady;
}

/** Starts the threaded build where allowed, else (or if it fails) the single-thread one. */
async function startWasm(): Promise<wasm.InitOutput> {
  try {
    const started = await startThreaded?.();
    if (started) {
      wasmMemory = started.memory;
      startPool = started.startPool;
      build = started.build === null ? null : `${THREADED}${started.build}`;
      return started.output;
    }
  } catch (e) {
    console.warn(`bertscope: the engine runs on one thread (${messageOf(e)})`);
  }
  const output = await wasm.initSingle(wasmUrl);
  wasmMemory = output.memory;
  threads = 1;
  build = wasmUrl.href;
  return output;
}

/**
 * Starts the threaded build's pool, if it has one not started yet: once its memory holds the
 * model (loaded or restored), since the pool's workers put their stacks and thread-locals into it.
 * If the pool does not start, the engine runs on this thread.
 */
async function ensurePool(): Promise<void> {
  const start = startPool;
  if (!start) return;
  startPool = null;
  try {
    const started = await start();
    threads = started.threads;
    // The page listens to the pool's threads itself: if one stops, this worker waits for it for ever.
    post({ type: 'pool-alarms', id: 0, ports: started.alarms }, started.alarms);
  } catch (e) {
    console.warn(`bertscope: the engine runs on one thread (${messageOf(e)})`);
  }
}

/**
 * Loads a model from the network (or the cache); its files are kept in the cache only once the
 * engine has accepted them. A returning visitor's engine, kept by this browser for the same files
 * and options, is restored instead of loaded, if the server says the files did not change.
 */
async function load(id: number, modelUrl: string, tokenizerUrl: string, firstBatch = 1, firstMixing = false): Promise<void> {
  const fillMask = extension?.fillMask ?? false;
  const progress = (p: Progress): void => post({ type: 'progress', id, ...p });
  const wasmStarted = timed('start the wasm', ensureWasm());
  const kept = keeping && pristine ? timed('read the prepared engine', readSnapshot()) : Promise.resolve(null);
  // The server is asked about both cached copies at once: its answers decide the restore and the load.
  const [model, tokenizer] = await Promise.all([ask(modelUrl, 'model', progress), ask(tokenizerUrl, 'tokenizer', () => {})]);
  const files = { modelUrl, tokenizerUrl, fillMask, firstBatch };
  const restored = await restoreKept(files, await kept, model, tokenizer, wasmStarted);
  if (restored) {
    post({ type: 'progress', id, received: restored.file_bytes, total: restored.file_bytes, fromCache: true });
    await ensurePool();
    post({ type: 'loaded', id, info: restored, replaced: [], threads, restored: true });
    return;
  }
  const [output, modelFile, tokenizerFile] = await Promise.all([
    wasmStarted,
    timed('read the model file', download(model, progress)),
    timed('read the tokenizer file', download(tokenizer, () => {})),
  ]);
  const info = await timed('load the model', install(() => wasm.Engine.withFirstBatch(modelFile.bytes, tokenizerFile.bytes, fillMask, firstBatch)));
  measureEnginePhases(wasm);
  await Promise.all([modelFile.keep(), tokenizerFile.keep()]);
  // The threaded build can only be kept as it is before its pool starts (the single-thread build's is taken later).
  if (keeping && engine && build) {
    const threaded = build.startsWith(THREADED);
    const taken = threaded && startPool ? await takeBeforePool(files, firstMixing, output) : null;
    if (!threaded || taken) toKeep = { engine, ...files, taken };
  }
  await ensurePool();
  const replaced = [modelFile, tokenizerFile].filter((file) => file.source === 'replaced').map((file) => file.url);
  post({ type: 'loaded', id, info, replaced, threads, restored: false });
}

/** What the engine loaded from `files` is made from, given their cached copies; null if the build cannot be named. */
function keyOf(files: ModelFiles, model: CachedFile, tokenizer: CachedFile): SnapshotKey | null {
  return build === null ? null : { wasm: build, model: model.identity, tokenizer: tokenizer.identity, fillMask: files.fillMask, firstBatch: files.firstBatch };
}

/** `keyOf` the copies of `files` the cache holds now (after they were kept); null unless both are cached. */
async function keptKey(files: ModelFiles): Promise<SnapshotKey | null> {
  const [model, tokenizer] = await Promise.all([openCached(files.modelUrl), openCached(files.tokenizerUrl)]);
  return model && tokenizer && keyOf(files, model, tokenizer);
}

/**
 * Restores `snapshot` (the engine this browser kept) into the fresh wasm instance if it was made
 * from `files` as cached, and the server says neither changed: what the engine says it is. Null
 * otherwise (a kept engine of files that changed is deleted).
 */
async function restoreKept(files: ModelFiles, snapshot: Snapshot | null, model: Asked, tokenizer: Asked, wasmStarted: Promise<wasm.InitOutput>): Promise<ModelInfo | null> {
  if (!snapshot || !model.cached || !tokenizer.cached) return null;
  const [output, newerModel, newerTokenizer] = await Promise.all([wasmStarted, model.newer, tokenizer.newer]);
  const key = keyOf(files, model.cached, tokenizer.cached);
  if (!key || !madeFrom(snapshot, key)) return null;
  if (newerModel || newerTokenizer) await forgetSnapshot();
  if (newerModel || newerTokenizer || threads !== 1 || !pristine) return null;
  const start = performance.now();
  pristine = false;
  try {
    engine = restoreSnapshot<wasm.Engine>(snapshot, output, wasm.Engine);
  } catch (e) {
    engine = null;
    await forgetSnapshot();
    // The instance's memory is overwritten: only a new worker can load the model now.
    throw new WebAssembly.RuntimeError(`the copy of the prepared engine this browser kept was damaged (${messageOf(e)})`);
  }
  measure('restore the prepared engine', start, performance.now(), { bytes: snapshot.header.imageBytes });
  return engine.info();
}

/**
 * The threaded engine's image, for keeping once its first run is done, taken now, before its pool
 * starts (the pool's threads would be in it). Its first plan is made first, by a run of
 * `firstBatch` placeholder sentences, with the mixing tensors if `firstMixing` (the page's first
 * run then finds that plan made). Null if it cannot be kept.
 */
async function takeBeforePool(files: ModelFiles, firstMixing: boolean, output: wasm.InitOutput): Promise<Taken | null> {
  const key = await keptKey(files);
  if (!engine || !key) return null;
  const start = performance.now();
  try {
    const placeholders = Array.from({ length: files.firstBatch }, () => 'a');
    (firstMixing ? engine.runWithMixing(placeholders) : engine.run(placeholders)).free();
  } catch (e) {
    console.warn(`bertscope: the prepared engine is not kept (${messageOf(e)})`);
    return null;
  }
  measureEnginePhases(wasm);
  const taken = takeSnapshot(key, engine, output, true);
  measure('take the prepared engine', start, performance.now(), { bytes: taken?.image.length ?? 0 });
  return taken;
}

/** Keeps the engine loaded from `files` for the next visit, if it is still the loaded one. */
async function keepEngine(files: ToKeep): Promise<void> {
  const output = await ensureWasm();
  let take: () => Taken | null;
  if (files.taken) {
    const taken = files.taken;
    take = () => taken;
  } else {
    const key = await keptKey(files);
    if (!key) return;
    take = () => (engine === files.engine ? takeSnapshot(key, files.engine, output, false) : null);
  }
  if (engine !== files.engine) return;
  const start = performance.now();
  if (await writeSnapshot(take)) measure('keep the prepared engine', start, performance.now(), { bytes: host.memoryBytes() });
}

/** Makes the engine `create` returns the loaded one; if it cannot be loaded, the previous one stays. */
async function install(create: () => wasm.Engine): Promise<ModelInfo> {
  await ensureWasm();
  pristine = false;
  toKeep = null;
  const next = create();
  unload();
  engine = next;
  return engine.info();
}

/** Frees the loaded engine and what the extension keeps of it. */
function unload(): void {
  extension?.release();
  engine?.free();
  engine = null;
}

const host: EngineHost = {
  post,
  install,
  loaded: () => engine,
  unload,
  memoryBytes: () => wasmMemory?.buffer.byteLength ?? 0,
};

/** Least time between two mixing progress replies, in ms. */
const MIXING_PROGRESS_INTERVAL_MS = 100;

/** Runs `texts` (with the mixing measures when asked) and posts the result, moving its buffers. */
function runBatch(id: number, texts: string[], analyses?: FocusAnalyses, need: MixingNeed = 'none'): void {
  if (!engine) throw new Error('no model is loaded yet');
  extension?.release();
  let last = 0;
  const progress = (p: MixingProgress): void => {
    const now = performance.now();
    if (now - last < MIXING_PROGRESS_INTERVAL_MS && p.done < p.total) return;
    last = now;
    post({ type: 'mixing-progress', id, ...p });
  };
  let start = performance.now();
  const { run, mixing, mixingError } = need !== 'none' ? runMixed(engine, texts, need === 'alti', progress) : { run: engine.run(texts), mixing: undefined, mixingError: undefined };
  measure('run', start);
  measureEnginePhases(wasm);
  let kept = false;
  let posted = false;
  try {
    start = performance.now();
    const batch = run.batch();
    const attentionShape = Array.from(run.attentionShape()) as AttentionShape;
    const size = attentionShape.reduce((a, b) => a * b, 1);
    const reusedBefore = pool.reuses;
    // Lent in place where memory is shared, else copied out (into buffers the page gave back, if any).
    const views = lent.lend(id, run, wasmMemory);
    const attentions: Float32Array[] = views ?? [];
    if (!views) {
      for (let i = 0; i < run.count(); i++) {
        const attention = pool.take(size);
        run.copyAttention(i, attention);
        attentions.push(attention);
      }
    }
    // Copies move to the page; views of shared memory are shared when posted (and cannot be moved).
    const transfer: Transferable[] = views ? [] : attentions.map((a) => a.buffer);
    measure('copy the attention out', start, performance.now(), {
      sentences: attentions.length,
      reused: pool.reuses - reusedBefore,
      lent: views?.length ?? 0,
      lentResults: lent.count,
      memoryBytes: host.memoryBytes(),
    });
    let analysis: RunAnalysis | undefined;
    if (extension && analyses) {
      kept = true;
      start = performance.now();
      const extra = extension.analyse(run, engine, id, analyses.focus, analyses.occurrence ?? 1);
      measure('analyse', start);
      analysis = extra.analysis;
      transfer.push(...extra.transfer);
    }
    if (mixing) transfer.push(...mixingBuffers(mixing));
    const reply: Reply = {
      type: 'result',
      id,
      batch,
      attentionShape,
      attentions,
      ...(views ? { lent: id } : {}),
      ...(analysis ? { analysis } : {}),
      ...(mixing ? { mixing } : {}),
      ...(mixingError !== undefined ? { mixingError } : {}),
    };
    start = performance.now();
    post(reply, transfer);
    posted = true;
    measure('post the result', start);
  } finally {
    // A result that never reached the page is never given back: its loan ends here.
    if (!posted) lent.giveBack(id);
    if (!kept) run.free();
  }
}

async function handle(request: Request): Promise<void> {
  // Anything but a load or a word look-up may leave objects in wasm memory that a restore would overwrite.
  if (request.type !== 'load' && request.type !== 'find-word') pristine = false;
  try {
    if (request.type === 'load') await load(request.id, request.modelUrl, request.tokenizerUrl, request.firstBatch, request.firstMixing);
    else if (request.type === 'run') {
      // A model loaded through an extension (the user's own file) starts the pool here.
      await ensurePool();
      runBatch(request.id, request.texts, request.analyses, request.mixing ?? 'none');
      // Kept once its first run has built the plan, a moment after the page has drawn it.
      if (toKeep?.engine === engine && engine) {
        const files = toKeep;
        toKeep = null;
        setTimeout(() => {
          // A failure only costs the next visit its head start; the queue must go on.
          queue = queue.then(() => keepEngine(files)).catch((e: unknown) => console.warn(`bertscope: could not keep the prepared engine (${messageOf(e)})`));
        }, KEEP_DELAY_MS);
      }
    }
    else if (request.type === 'find-word') {
      await ensureWasm();
      post({ type: 'find-word', id: request.id, found: request.sentences.map((s) => wasm.findWord(s, request.word, request.occurrence)) });
    }
    else if (!(await extension?.handle(request, host))) throw new Error(`unknown request ${request.type}`);
  } catch (e) {
    // A trap (panic, out of memory) leaves the wasm instance unusable: the page must restart us.
    if (e instanceof WebAssembly.RuntimeError) post({ type: 'error', id: request.id, error: `it ${trapInWords(e)}`, fatal: true, input: false });
    else post({ type: 'error', id: request.id, error: messageOf(e), fatal: false, input: isInputError(e) });
  }
}

/** What a worker's engine does beyond loading and running. */
export interface ServeOptions {
  /** The page's analyses. */
  extension?: EngineExtension;
  /** Starts the threaded build where the page allows it (threads.ts); without it the engine runs on one thread. */
  threaded?: () => Promise<Threaded | null>;
  /**
   * Keep the prepared engine for the next visit, and restore it (snapshot.ts): the page does; the
   * widget does not, since it would take 60 MB of its host's storage that the host never asked for.
   */
  keepEngine?: boolean;
}

/** Answers the requests `worker` receives (call once, in the worker). */
export function serveEngine(worker: DedicatedWorkerGlobalScope, options: ServeOptions = {}): void {
  if (scope) return;
  scope = worker;
  extension = options.extension ?? null;
  startThreaded = options.threaded ?? null;
  keeping = options.keepEngine ?? false;
  worker.addEventListener('message', (event: MessageEvent<Request>) => {
    const request = event.data;
    // Given back at once (not queued), so the run queued next can fill them (or use the memory lent).
    if (request.type === 'recycle') {
      pool.give(request.buffers);
      if (request.lent !== undefined) lent.giveBack(request.lent);
    } else queue = queue.then(() => handle(request));
  });
}
