/**
 * The engine worker: owns the wasm instance and the loaded Explorer, downloads (and caches) model
 * files, and answers `load` and `run` requests one at a time, in order.
 */
import init, { Explorer } from '../../pkg/bertscope_wasm.js';
import type { AttentionShape, Batch, ModelInfo, Progress, Reply, Request } from './protocol';

/** Cache API bucket holding downloaded model and tokenizer files. */
const CACHE_NAME = 'bertscope-models-v1';
/** Least time between two progress replies, in ms. */
const PROGRESS_INTERVAL_MS = 100;

const wasmUrl = new URL('../../pkg/bertscope_wasm_bg.wasm', import.meta.url);

let wasmReady: Promise<unknown> | null = null;
let explorer: Explorer | null = null;
let queue: Promise<void> = Promise.resolve();

function post(reply: Reply, transfer: Transferable[] = []): void {
  self.postMessage(reply, { transfer });
}

function messageOf(e: unknown): string {
  if (e instanceof Error) return e.message;
  return typeof e === 'string' ? e : String(e);
}

/** Initialises the wasm module once; a failed attempt may be retried. */
function ensureWasm(): Promise<unknown> {
  if (!wasmReady) {
    wasmReady = init({ module_or_path: wasmUrl }).catch((e: unknown) => {
      wasmReady = null;
      throw new Error(`the engine (WebAssembly) could not start: ${messageOf(e)}`);
    });
  }
  return wasmReady;
}

async function openCache(): Promise<Cache | null> {
  // The Cache API exists only in secure contexts (https, localhost).
  if (typeof caches === 'undefined') return null;
  try {
    return await caches.open(CACHE_NAME);
  } catch {
    return null;
  }
}

/** Reads a response body, reporting progress against the expected `total` (0 if unknown). */
async function readBody(response: Response, total: number, onProgress: (p: Progress) => void): Promise<Uint8Array> {
  if (!response.body) return new Uint8Array(await response.arrayBuffer());
  const reader = response.body.getReader();
  let buffer = new Uint8Array(total > 0 ? total : 1 << 20);
  let received = 0;
  let lastReport = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    if (received + value.length > buffer.length) {
      const grown = new Uint8Array(Math.max(buffer.length * 2, received + value.length));
      grown.set(buffer.subarray(0, received));
      buffer = grown;
    }
    buffer.set(value, received);
    received += value.length;
    const now = performance.now();
    if (now - lastReport >= PROGRESS_INTERVAL_MS) {
      lastReport = now;
      onProgress({ received, total: Math.max(total, received), fromCache: false });
    }
  }
  onProgress({ received, total: received, fromCache: false });
  return received === buffer.length ? buffer : buffer.slice(0, received);
}

/** Fetches `url`, from the cache when it holds it, else from the network (then stores it). */
async function fetchBytes(url: string, cache: Cache | null, onProgress: (p: Progress) => void): Promise<Uint8Array> {
  const cached = await cache?.match(url);
  if (cached) {
    const bytes = new Uint8Array(await cached.arrayBuffer());
    onProgress({ received: bytes.length, total: bytes.length, fromCache: true });
    return bytes;
  }
  let response: Response;
  try {
    response = await fetch(url);
  } catch (e) {
    throw new Error(`could not reach ${url} (${messageOf(e)})`);
  }
  if (!response.ok) {
    throw new Error(`could not download ${url}: the server answered ${response.status} ${response.statusText}`.trim());
  }
  const total = Number(response.headers.get('Content-Length')) || 0;
  const bytes = await readBody(response, total, onProgress);
  if (cache) {
    const stored = new Response(bytes.slice(), {
      headers: { 'Content-Type': response.headers.get('Content-Type') ?? 'application/octet-stream' },
    });
    await cache.put(url, stored).catch((e: unknown) => {
      console.warn(`bertscope: could not cache ${url}: ${messageOf(e)}`);
    });
  }
  return bytes;
}

async function load(id: number, modelUrl: string, tokenizerUrl: string): Promise<void> {
  const cache = await openCache();
  const [, modelBytes, tokenizerBytes] = await Promise.all([
    ensureWasm(),
    fetchBytes(modelUrl, cache, (p) => post({ type: 'progress', id, ...p })),
    fetchBytes(tokenizerUrl, cache, () => {}),
  ]);
  explorer?.free();
  explorer = null;
  explorer = new Explorer(modelBytes, tokenizerBytes, false);
  post({ type: 'loaded', id, info: explorer.info() as ModelInfo });
}

function run(id: number, texts: string[]): void {
  if (!explorer) throw new Error('no model is loaded yet');
  const result = explorer.run(texts);
  try {
    const batch = result.batch() as Batch;
    const attentionShape = Array.from(result.attentionShape()) as AttentionShape;
    const attentions: Float32Array[] = [];
    for (let i = 0; i < result.count(); i++) attentions.push(result.attention(i));
    post({ type: 'result', id, batch, attentionShape, attentions }, attentions.map((a) => a.buffer));
  } finally {
    result.free();
  }
}

async function handle(request: Request): Promise<void> {
  try {
    if (request.type === 'load') await load(request.id, request.modelUrl, request.tokenizerUrl);
    else run(request.id, request.texts);
  } catch (e) {
    // A trap (panic, out of memory) leaves the wasm instance unusable: the page must restart us.
    const fatal = e instanceof WebAssembly.RuntimeError;
    post({ type: 'error', id: request.id, error: messageOf(e), fatal });
  }
}

self.addEventListener('message', (event: MessageEvent<Request>) => {
  const request = event.data;
  queue = queue.then(() => handle(request));
});
