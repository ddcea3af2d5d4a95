/**
 * The page's engine on several threads. Where the page is cross-origin isolated (so wasm memory
 * can be shared between workers), the engine worker runs the threaded build (www/pkg-threads,
 * which build_page copies to dist/threads/) with a pool of `navigator.hardwareConcurrency` threads,
 * at most `MAX_THREADS`: itself and a pool of workers (pool-thread.ts), started once the model is
 * loaded (or a kept engine restored, snapshot.ts). The products then split over them. Elsewhere (a
 * plain static host, the widget), or if that build is missing, the worker runs the single-thread
 * build: `startThreaded` resolves to null; if the pool does not start, the threaded build runs on
 * this worker's thread alone.
 *
 * A pool thread that traps (a panic, a failed allocation) or throws leaves this worker waiting for
 * its part for ever, deaf to everything: so each pool worker is given a port whose other end goes
 * to the page (`Threaded.alarms`), on which it says that it stopped (`PoolThreadAlarm`), and the
 * page ends this worker, its pool with it, and starts a fresh one (client.ts).
 */
import { useBindings, type Bindings, type InitOutput } from './bindings';
import { messageOf } from './errors';
import { timed } from './timing';

/**
 * How long the pool's workers may take to start, in ms (30-90 ms here): a worker whose script never
 * arrives (a stalled request, a script a proxy rewrote) neither answers nor fails, and the engine
 * would wait for it for ever. After that the engine runs on one thread.
 */
export const POOL_START_TIMEOUT_MS = 10_000;

/** Most threads the engine uses (measured: 2 on a 2-core machine, see docs/BENCHMARKS.md). */
export const MAX_THREADS = 4;

/** The threaded build's module: the same bindings, plus the pool. */
export interface ThreadedGlue extends Omit<Bindings, 'default' | 'initSync'> {
  default(init: { module_or_path: WebAssembly.Module }): Promise<InitOutput>;
  initSync(init: { module: WebAssembly.Module; memory: WebAssembly.Memory }): unknown;
  /** Makes rayon's pool of `threads` threads, handing them to workers already in `runPoolThread`. */
  startThreadPool(threads: number): void;
  /** Waits for one of the pool's threads and runs it (never returns). */
  runPoolThread(): void;
  /** Threads the products split over: the pool's and the calling one. */
  poolThreads(): number;
}

/** What a pool thread's worker is sent. */
export interface PoolThreadStart {
  glueUrl: string;
  module: WebAssembly.Module;
  memory: WebAssembly.Memory;
  /** Where it tells the page that it stopped (the page holds the other end). */
  alarm: MessagePort;
}

/** What a pool thread's worker tells the page on its alarm port: it stopped, and why, in words. */
export interface PoolThreadAlarm {
  stopped: string;
}

/** What a pool thread's worker answers once it runs, or why it cannot. */
export type PoolThreadReply = { ready: true } | { ready: false; error: string };

/** The threaded engine, started: its instance, and its pool, to start once the engine's memory is in place. */
export interface Threaded {
  output: InitOutput;
  memory: WebAssembly.Memory;
  /** What identifies this build (the digest build_page writes beside it), for the kept engine's key; null if unknown. */
  build: string | null;
  /**
   * Starts the pool. Its workers instantiate the build on the shared memory (their stacks and
   * thread-locals go into it), so only once that memory is final for now: a model loaded, or a kept
   * engine restored. Resolves to the threads the products split over, with the page's ends of the
   * pool workers' alarm ports (see `PoolThreadAlarm`); rejects if a thread does not start (or not
   * within `POOL_START_TIMEOUT_MS`), and the engine then runs on this one.
   */
  startPool(): Promise<{ threads: number; alarms: MessagePort[] }>;
}

/** Pool workers, kept referenced while the engine lives (a worker nobody references may be collected). */
const poolWorkers: Worker[] = [];

/** How many threads this worker may run the engine on: 1 unless memory can be shared here. */
export function threadsAllowed(): number {
  if (!self.crossOriginIsolated || typeof SharedArrayBuffer !== 'function') return 1;
  return Math.max(1, Math.min(navigator.hardwareConcurrency || 1, MAX_THREADS));
}

/**
 * Starts the threaded build (its pool comes later: `Threaded.startPool`) and makes it the bindings
 * in use; null where threads are not allowed. Rejects if the build is missing.
 */
export async function startThreaded(): Promise<Threaded | null> {
  const threads = threadsAllowed();
  if (threads < 2) return null;
  // The worker's script is in dist/assets/; the threaded build beside it, in dist/threads/.
  const base = new URL('../threads/', self.location.href);
  const glueUrl = new URL('bertscope_wasm.js', base).href;
  const [glue, module, build] = await Promise.all([
    import(/* @vite-ignore */ glueUrl) as Promise<ThreadedGlue>,
    timed('compile the wasm', WebAssembly.compileStreaming(fetch(new URL('bertscope_wasm_bg.wasm', base)))),
    buildId(new URL('build-id.txt', base)),
  ]);
  const output = await timed('instantiate the wasm', glue.default({ module_or_path: module }));
  useBindings(glue as unknown as Bindings);
  const memory = output.memory;
  const startPool = async (): Promise<{ threads: number; alarms: MessagePort[] }> => {
    const channels = Array.from({ length: threads - 1 }, () => new MessageChannel());
    try {
      // This worker is one of the threads (it multiplies a share of each product itself); the pool's
      // workers first (each waits for a thread), then the pool: making it waits until they run its threads.
      const started = Promise.all(channels.map((channel) => startPoolThread({ glueUrl, module, memory, alarm: channel.port2 })));
      await timed('start the pool threads', withinTime(started, POOL_START_TIMEOUT_MS, 'a thread of the engine did not start in time'));
      glue.startThreadPool(threads - 1);
    } catch (e) {
      // The workers that did start wait for a thread that never comes: end them (the engine runs on one thread).
      for (const worker of poolWorkers.splice(0)) worker.terminate();
      for (const channel of channels) channel.port1.close();
      throw e;
    }
    return { threads: glue.poolThreads(), alarms: channels.map((channel) => channel.port1) };
  };
  return { output, memory, build, startPool };
}

/** The build's digest from `url` (written by build_page); null if there is none. */
async function buildId(url: URL): Promise<string | null> {
  try {
    const response = await fetch(url);
    const text = response.ok ? (await response.text()).trim() : '';
    return /^[0-9a-f]{64}$/.test(text) ? text : null;
  } catch {
    return null;
  }
}

/** `promise`, or a rejection with `message` if it has not settled within `ms`. */
function withinTime<T>(promise: Promise<T>, ms: number, message: string): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${message} (${ms / 1000} s)`)), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

/** Starts one pool thread's worker; resolves once it runs. */
function startPoolThread(start: PoolThreadStart): Promise<void> {
  const worker = new Worker(new URL('./pool-thread.ts', import.meta.url), { type: 'module', name: 'bertscope-pool-thread' });
  poolWorkers.push(worker);
  return new Promise((resolve, reject) => {
    worker.addEventListener('message', (event: MessageEvent<PoolThreadReply>) => {
      if (event.data.ready) resolve();
      else reject(new Error(`a thread of the engine could not start: ${event.data.error}`));
    });
    // Heard only until the pool runs (this worker then waits in its products); later the pool worker tells the page itself.
    worker.addEventListener('error', (event: ErrorEvent) => {
      // Handled here: unprevented, the error would go on to this worker's own scope and on to the
      // page, which would take it for a crash of the engine instead of a start on one thread.
      event.preventDefault();
      reject(new Error(`a thread of the engine could not start: ${messageOf(event.message)}`));
    });
    worker.postMessage(start, [start.alarm]);
  });
}
