/**
 * The user's own model files, in the worker: loading a dropped file, and making an fp32 file
 * about 4× smaller with the engine's weight-only int8 quantizer, with the attention change that
 * causes measured on the page's sentences. The int8 copy is kept in the Cache API under the
 * SHA-256 of the dropped file, so dropping the same file again loads the copy at once.
 *
 * Memory (an fp32 DistilBERT-base is 265 MB): a file is read straight into wasm memory in pieces
 * (`FileBytes`), never whole into JavaScript; the engine takes those bytes and frees them once
 * decoded; the original's attention is measured with the engine already loaded, which is then
 * freed before the file is read again and quantized. So at most about two copies are alive.
 */
import * as wasm from './bindings';
import { messageOf } from './errors';
import { QUANTIZED_CACHE, type OwnModelReply, type OwnModelRequest, type OwnModelStage, type QuantizedRecord } from './own-model-protocol';
import type { EngineHost } from './serve';
import type { ModelInfo } from './protocol';

/** Least time between two progress replies while reading a file, in ms. */
const PROGRESS_INTERVAL_MS = 100;

/** The own model the engine has loaded. */
interface Installed {
  engine: wasm.Engine;
  /** The dropped file's name. */
  name: string;
  /** SHA-256 of the dropped file, when it is loaded as it is and the browser can hash. */
  sha256: string | null;
  tokenizer: Uint8Array;
  /** Loaded as dropped (not the int8 copy). */
  original: boolean;
}

let installed: Installed | null = null;

type Progress = (stage: OwnModelStage, done: number, total: number) => void;

/**
 * Reads `file` into wasm memory piece by piece, through one reused buffer where the browser
 * allows (a BYOB reader): no whole copy of it is ever made in JavaScript, and the pieces do not
 * pile up as garbage.
 */
async function readIntoWasm(file: Blob, progress: Progress): Promise<wasm.FileBytes> {
  const held = new wasm.FileBytes(file.size);
  try {
    const next = pieces(file);
    let at = 0;
    let last = 0;
    for (;;) {
      const value = await next();
      if (!value) break;
      if (at + value.length > file.size) throw new Error('the file grew while it was being read');
      held.view().set(value, at);
      at += value.length;
      const now = performance.now();
      if (now - last >= PROGRESS_INTERVAL_MS) {
        last = now;
        progress('reading', at, file.size);
      }
    }
    if (at !== file.size) throw new Error('the file shrank while it was being read');
    progress('reading', at, file.size);
    return held;
  } catch (e) {
    held.free();
    throw new Error(`the file could not be read (${messageOf(e)})`);
  }
}

/** Size of the buffer a file is read through, in bytes. */
const PIECE_BYTES = 1 << 20;

/** A function giving the next piece of `file` (null at its end), each read into the same buffer when it can be. */
function pieces(file: Blob): () => Promise<Uint8Array | null> {
  let byob: ReadableStreamBYOBReader | null = null;
  try {
    byob = file.stream().getReader({ mode: 'byob' });
  } catch {
    // Not a byte stream here: the default reader gives a new buffer per piece.
  }
  if (!byob) {
    const reader = file.stream().getReader();
    return async () => (await reader.read()).value ?? null;
  }
  const reader = byob;
  let buffer = new ArrayBuffer(PIECE_BYTES);
  return async () => {
    const { done, value } = await reader.read(new Uint8Array(buffer));
    if (done || !value) return null;
    buffer = value.buffer;
    return value;
  };
}

/** Copies bytes (the int8 copy from the cache) into wasm memory for `Engine.fromFile`. */
function intoWasm(bytes: Uint8Array): wasm.FileBytes {
  const held = new wasm.FileBytes(bytes.length);
  held.view().set(bytes);
  return held;
}

/** SHA-256 of the bytes, hex; null where the browser offers no WebCrypto (insecure contexts). */
async function sha256(held: wasm.FileBytes): Promise<string | null> {
  if (typeof crypto === 'undefined' || !crypto.subtle) return null;
  // digest() copies the view before it returns: no wasm call can move the memory under it. It
  // refuses shared memory (the threaded build's), which is hashed from a copy.
  const view = held.view();
  const digest = await crypto.subtle.digest('SHA-256', view.buffer instanceof ArrayBuffer ? (view as Uint8Array<ArrayBuffer>) : view.slice());
  return Array.from(new Uint8Array(digest), (b) => b.toString(16).padStart(2, '0')).join('');
}

async function openCache(): Promise<Cache | null> {
  if (typeof caches === 'undefined') return null;
  try {
    return await caches.open(QUANTIZED_CACHE);
  } catch {
    return null;
  }
}

/** Cache keys of the int8 copy of the file with hash `sha` and of its record (the Cache API wants URLs; nothing is ever fetched from them). */
function cacheKeys(sha: string): { model: string; record: string } {
  const base = `${self.location.origin}/bertscope-quantized/${sha}`;
  return { model: `${base}.onnx`, record: `${base}.json` };
}

/** The int8 copy made before of the file with hash `sha`, if the cache holds it whole. */
async function cachedCopy(sha: string | null): Promise<{ bytes: Uint8Array; record: QuantizedRecord } | null> {
  const cache = sha ? await openCache() : null;
  if (!cache || !sha) return null;
  const keys = cacheKeys(sha);
  // The record is stored after the model: with it there, the model is whole.
  const record = await cache.match(keys.record);
  const model = record ? await cache.match(keys.model) : undefined;
  if (!record || !model) return null;
  return { record: (await record.json()) as QuantizedRecord, bytes: new Uint8Array(await model.arrayBuffer()) };
}

/** Removes the int8 copy of the file with hash `sha` from the cache. */
async function forget(sha: string): Promise<void> {
  const cache = await openCache();
  const keys = cacheKeys(sha);
  await cache?.delete(keys.record);
  await cache?.delete(keys.model);
}

/** Stores the int8 copy and its record; null if stored, else why not, in words. */
async function keep(bytes: Uint8Array, record: QuantizedRecord): Promise<string | null> {
  const cache = await openCache();
  if (!cache) return 'this browser offers no cache to this page';
  const keys = cacheKeys(record.sha256);
  try {
    await cache.put(keys.model, new Response(bytes as Uint8Array<ArrayBuffer>, { headers: { 'Content-Type': 'application/octet-stream' } }));
    await cache.put(keys.record, new Response(JSON.stringify(record), { headers: { 'Content-Type': 'application/json' } }));
    return null;
  } catch (e) {
    await cache.delete(keys.model).catch(() => false);
    return `the browser would not store it (${messageOf(e)})`;
  }
}

/** Loads a dropped file, or the int8 copy this browser made of it before when `reuse` and the cache holds one. */
async function loadOwn(request: Extract<OwnModelRequest, { type: 'load-own' }>, host: EngineHost, fillMask: boolean, progress: Progress): Promise<OwnModelReply> {
  const tokenizer = new Uint8Array(await request.tokenizer.arrayBuffer());
  const name = request.model instanceof File ? request.model.name : 'model.onnx';
  let held: wasm.FileBytes | null = await readIntoWasm(request.model, progress);
  try {
    const sha = await sha256(held);
    const copy = request.reuse ? await cachedCopy(sha) : null;
    if (copy && sha) {
      // Freed first: the smaller copy's engine reuses that memory.
      held.free();
      held = null;
      try {
        const info = await installOwn(host, intoWasm(copy.bytes), { name, sha256: null, tokenizer, original: false }, fillMask);
        return { type: 'own-loaded', id: request.id, info, sha256: sha, reused: copy.record, wasmBytes: host.memoryBytes() };
      } catch (e) {
        if (e instanceof WebAssembly.RuntimeError) throw e;
        // A damaged copy: forget it and load the file itself.
        await forget(sha);
        held = await readIntoWasm(request.model, progress);
      }
    }
    const file = held;
    held = null; // the engine takes it
    const info = await installOwn(host, file, { name, sha256: sha, tokenizer, original: true }, fillMask);
    return { type: 'own-loaded', id: request.id, info, sha256: sha, reused: null, wasmBytes: host.memoryBytes() };
  } finally {
    held?.free();
  }
}

/** Makes the engine of `file` (taken) the loaded one and remembers it as the own model. */
async function installOwn(host: EngineHost, file: wasm.FileBytes, own: Omit<Installed, 'engine'>, fillMask: boolean): Promise<ModelInfo> {
  let taken = false;
  try {
    const info = await host.install(() => {
      taken = true;
      return wasm.Engine.fromFile(file, own.tokenizer, fillMask);
    });
    installed = { ...own, engine: host.loaded()! };
    return info;
  } finally {
    if (!taken) file.free();
  }
}

/**
 * Quantizes the loaded own fp32 model and loads the result in its place, measuring on `texts`
 * how far attention moved. The original's attention comes from the engine already loaded, which
 * is then freed; if anything fails, the original is loaded again.
 */
async function quantizeOwn(request: Extract<OwnModelRequest, { type: 'quantize' }>, host: EngineHost, fillMask: boolean, progress: Progress): Promise<OwnModelReply> {
  const own = installed;
  const original = host.loaded();
  if (!own?.original || own.engine !== original) throw new Error('the model shown is not a file this page can make smaller; drop it again');
  // A File is a snapshot: once the file on disk changes, reading it fails. Checked while the
  // original is still loaded; the bytes read below are then the loaded ones (and own.sha256 theirs,
  // not hashed again: hashing copies the whole file once more).
  try {
    await request.model.slice(0, 1).arrayBuffer();
  } catch {
    throw new Error(`${own.name} changed on disk since it was loaded; drop it again`);
  }
  progress('measuring', 0, 1);
  const before = original.run(request.texts);
  /** Loads the original again (from `file`, taken, or read anew) unless a model is loaded. */
  const restore = async (file?: wasm.FileBytes): Promise<void> => {
    if (host.loaded()) file?.free();
    else await installOwn(host, file ?? (await readIntoWasm(request.model, () => {})), own, fillMask);
  };
  try {
    host.unload();
    installed = null;
    const held = await readIntoWasm(request.model, progress);
    const sha = own.sha256;
    const made = await quantizeOrReuse(held, sha, progress, () => restore(held));
    progress('loading', 0, 1);
    const info = await installOwn(host, intoWasm(made.bytes), { ...own, sha256: null, original: false }, fillMask);
    progress('checking', 0, 1);
    const after = host.loaded()!.run(request.texts);
    const change = wasm.attentionChange(before, after);
    after.free();
    const measured = { change, changeTokens: change ? tokensAt(before, change) : null, texts: request.texts };
    const record: QuantizedRecord = { ...(made.cached ?? { name: own.name, sha256: sha ?? '', report: made.report, made: new Date().toISOString() }), ...measured };
    const kept = made.cached ? null : sha ? await keep(made.bytes, record) : 'this browser cannot fingerprint files here (no WebCrypto)';
    return { type: 'quantized', id: request.id, info, record, kept, reused: made.cached !== null, wasmBytes: host.memoryBytes() };
  } catch (e) {
    if (!(e instanceof WebAssembly.RuntimeError)) await restore().catch(() => {});
    throw e;
  } finally {
    before.free();
  }
}

/**
 * The int8 copy of `held` (freed here): from the cache if it holds one, else quantized now. If the
 * quantizer refuses the file, `restore` loads the original again (taking `held`) first.
 */
async function quantizeOrReuse(
  held: wasm.FileBytes,
  sha: string | null,
  progress: Progress,
  restore: () => Promise<void>,
): Promise<{ bytes: Uint8Array; report: wasm.QuantizeReport; cached: QuantizedRecord | null }> {
  const copy = await cachedCopy(sha);
  if (copy) {
    held.free();
    return { bytes: copy.bytes, report: copy.record.report, cached: copy.record };
  }
  let quantized: wasm.Quantized;
  try {
    quantized = wasm.quantize(held, (done, total) => progress('quantizing', done, total));
  } catch (e) {
    // The quantizer's refusal is already in words; the original comes back first.
    if (!(e instanceof WebAssembly.RuntimeError)) await restore();
    throw e;
  }
  held.free();
  try {
    return { bytes: quantized.bytes(), report: quantized.report(), cached: null };
  } finally {
    quantized.free();
  }
}

/** The query and key tokens where the largest change is. */
function tokensAt(run: wasm.BatchRun, change: wasm.AttentionChange): [string, string] | null {
  const tokens = run.batch().sentences[change.sentence]?.tokens;
  const query = tokens?.[change.query];
  const key = tokens?.[change.key];
  return query !== undefined && key !== undefined ? [query, key] : null;
}

/** Answers an own-model request; false if `request` is not one. */
export async function handleOwnModel(request: { type: string; id: number }, host: EngineHost, fillMask: boolean): Promise<boolean> {
  const r = request as OwnModelRequest;
  const progress: Progress = (stage, done, total) => host.post({ type: 'own-progress', id: r.id, stage, done, total });
  if (r.type === 'load-own') host.post(await loadOwn(r, host, fillMask, progress));
  else if (r.type === 'quantize') host.post(await quantizeOwn(r, host, fillMask, progress));
  else return false;
  return true;
}
