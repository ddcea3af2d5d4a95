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
import { forgetSnapshot, madeFrom, readSnapshot, restoreSnapshot, writeSnapshot, type Snapshot, type SnapshotKey } from './snapshot';
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
/** The model loaded from these files, kept for the next visit once its first run is done (single-thread build). */
interface ToKeep {
  engine: wasm.Engine;
  modelUrl: string;
  tokenizerUrl: string;
  fillMask: boolean;
  firstBatch: number;
}
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
      threads = started.threads;
      // The page listens to the pool's threads itself: if one stops, this worker waits for it for ever.
      post({ type: 'pool-alarms', id: 0, ports: started.alarms }, started.alarms);
      return started.output;
    }
  } catch (e) {
    console.warn(`bertscope: the engine runs on one thread (${messageOf(e)})`);
  }
  const output = await wasm.initSingle(wasmUrl);
  wasmMemory = output.memory;
  threads = 1;
  return output;
}

/**
 * Loads a model from the network (or the cache); its files are kept in the cache only once the
 * engine has accepted them. A returning visitor's engine, kept by this browser for the same files
 * and options, is restored instead of loaded, if the server says the files did not change.
 */
async function load(id: number, modelUrl: string, tokenizerUrl: string, firstBatch = 1): Promise<void> {
  const fillMask = extension?.fillMask ?? false;
  const progress = (p: Progress): void => post({ type: 'progress', id, ...p });
  const wasmStarted = timed('start the wasm', ensureWasm());
  // The threaded build keeps no engine (its memory is shared with its pool's threads).
  const mayRestore = keeping && pristine && !(startThreaded && self.crossOriginIsolated);
  const kept = mayRestore ? timed('read the prepared engine', readSnapshot()) : Promise.resolve(null);
  // The server is asked about both cached copies at once: its answers decide the restore and the load.
  const [model, tokenizer] = await Promise.all([ask(modelUrl, 'model', progress), ask(tokenizerUrl, 'tokenizer', () => {})]);
  const files = { modelUrl, tokenizerUrl, fillMask, firstBatch };
  if (await restoreKept(id, files, await kept, model, tokenizer, wasmStarted)) return;
  const [, modelFile, tokenizerFile] = await Promise.all([
    wasmStarted,
    timed('read the model file', download(model, progress)),
    timed('read the tokenizer file', download(tokenizer, () => {})),
  ]);
  const info = await timed('load the model', install(() => wasm.Engine.withFirstBatch(modelFile.bytes, tokenizerFile.bytes, fillMask, firstBatch)));
  measureEnginePhases(wasm);
  await Promise.all([modelFile.keep(), tokenizerFile.keep()]);
  if (keeping && threads === 1 && engine) toKeep = { engine, ...files };
  const replaced = [modelFile, tokenizerFile].filter((file) => file.source === 'replaced').map((file) => file.url);
  post({ type: 'loaded', id, info, replaced, threads, restored: false });
}

/** What the engine loaded from `files` is made from, given their cached copies. */
function keyOf(files: Omit<ToKeep, 'engine'>, model: CachedFile, tokenizer: CachedFile): SnapshotKey {
  return { wasm: wasmUrl.href, model: model.identity, tokenizer: tokenizer.identity, fillMask: files.fillMask, firstBatch: files.firstBatch };
}

/**
 * Restores `snapshot` (the engine this browser kept) into the fresh wasm instance if it was made
 * from `files` as cached, and the server says neither changed; the page is told. False otherwise
 * (a kept engine of files that changed is deleted).
 */
async function restoreKept(id: number, files: Omit<ToKeep, 'engine'>, snapshot: Snapshot | null, model: Asked, tokenizer: Asked, wasmStarted: Promise<wasm.InitOutput>): Promise<boolean> {
  if (!snapshot || !model.cached || !tokenizer.cached || !madeFrom(snapshot, keyOf(files, model.cached, tokenizer.cached))) return false;
  const [output, newerModel, newerTokenizer] = await Promise.all([wasmStarted, model.newer, tokenizer.newer]);
  if (newerModel || newerTokenizer) await forgetSnapshot();
  if (newerModel || newerTokenizer || threads !== 1 || !pristine) return false;
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
  const bytes = snapshot.header.info.file_bytes;
  post({ type: 'progress', id, received: bytes, total: bytes, fromCache: true });
  post({ type: 'loaded', id, info: engine.info(), replaced: [], threads, restored: true });
  return true;
}

/** Keeps the engine loaded from `files` for the next visit, if it is still the loaded one. */
async function keepEngine(files: ToKeep): Promise<void> {
  const output = await ensureWasm();
  const [model, tokenizer] = await Promise.all([openCached(files.modelUrl), openCached(files.tokenizerUrl)]);
  if (!model || !tokenizer || engine !== files.engine) return;
  const start = performance.now();
  if (await writeSnapshot(keyOf(files, model, tokenizer), engine, output)) measure('keep the prepared engine', start, performance.now(), { bytes: host.memoryBytes() });
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
    if (request.type === 'load') await load(request.id, request.modelUrl, request.tokenizerUrl, request.firstBatch);
    else if (request.type === 'run') {
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
