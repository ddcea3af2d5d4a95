/**
 * The prepared engine, kept between visits. Loading a model is mostly tract's graph work (parse,
 * typing, declutter, optimise) and the packing of its weights; a returning visitor would do it all
 * again on the same files. Instead the worker writes its whole wasm memory (the model with its
 * packed weights, the tokenizer, the first plan) to the origin's private file system, a second
 * after the model's first run: the single-thread build as it is then; the threaded build as it
 * was taken just before its pool's threads started (their stacks and rayon's pool would be in the
 * image otherwise), with the first plan made by a run of placeholder sentences. A later visit with
 * the same wasm build, the same files (as their cached copies' validators say) and the same load
 * options reads it back into a fresh instance (before any pool thread starts) and goes straight
 * to running.
 *
 * The image is the heap of the same code, so it holds every pointer and table index the engine
 * needs; what it cannot hold is JavaScript objects, and the engine keeps none between calls (its
 * externref table is grown back to the size it had, and the strings it held are put back). The
 * length and a checksum of image and header are checked before it is used, and the engine's own
 * description of itself (`info`) once it is in place; a file that fails is deleted and the model
 * loads as usual (after the last check, in a new worker: the instance is overwritten by then).
 *
 * The image is the engine's whole heap, so it may also hold pieces of the first sentences run;
 * like the cached model, it stays in this browser (deleted with the site's data).
 */
import { messageOf } from './errors';
import type { ModelInfo } from './protocol';

/** Name of the file, in the origin private file system. */
const FILE_NAME = 'bertscope-prepared-engine.bin';
/** Bytes before the memory image: magic, header length, the header as JSON. */
const HEADER_BYTES = 64 * 1024;
const MAGIC = 0x50534246; // "FBSP": bertscope's prepared engine, format 1
/** Larger memories are not kept (a first run of hundreds of tokens, say): the disk is the visitor's. */
const MAX_IMAGE_BYTES = 256 * 1024 * 1024;
const WASM_PAGE = 64 * 1024;

/** What the prepared engine was made from: equal keys restore the same engine. */
export interface SnapshotKey {
  wasm: string;
  model: FileIdentity;
  tokenizer: FileIdentity;
  fillMask: boolean;
  firstBatch: number;
}

/** A cached copy of a file: its address, the stamp the cache kept it with, the server's validators. */
export interface FileIdentity {
  url: string;
  kept: string | null;
  etag: string | null;
  lastModified: string | null;
}

/** What the file says about the image after it. */
interface Header {
  key: string;
  /** The `Engine`'s address in the image (wasm-bindgen's pointer). */
  engine: number;
  imageBytes: number;
  externrefs: number;
  /** The externref table's entries the engine holds (cached strings: field names, say), by index. */
  values: [number, Primitive][];
  checksum: number;
  info: ModelInfo;
}

/** What a kept table entry can be: what JSON can write. */
type Primitive = string | number | boolean | null;

/** The table's entries as `[index, value]` (empty ones left out); null if one holds an object, which an image cannot. */
function tableValues(table: WebAssembly.Table): [number, Primitive][] | null {
  const values: [number, Primitive][] = [];
  for (let i = 0; i < table.length; i++) {
    const value: unknown = table.get(i);
    if (value === undefined) continue;
    const kind = typeof value;
    if (value !== null && kind !== 'string' && kind !== 'boolean' && !(kind === 'number' && Number.isFinite(value))) return null;
    values.push([i, value as Primitive]);
  }
  return values;
}

/** A prepared engine read from disk, checked, ready to be written into a fresh instance. */
export interface Snapshot {
  header: Header;
  image: Uint8Array;
}

/** The wasm instance's parts the image goes into. */
export interface Instance {
  memory: WebAssembly.Memory;
  __wbindgen_externrefs: WebAssembly.Table;
}

/** wasm-bindgen's private side of a class: its pointer, and making an object of one. */
interface Wrapped {
  __wbg_ptr: number;
}
interface Wrapping<T> {
  __wrap(pointer: number): T;
}

/**
 * FNV-1a over the image's 32-bit words (it is whole wasm pages), then over the bytes of what the
 * header says of it: about 20 ms for 64 MB, no allocation. A damaged header fails it too.
 */
function checksum(image: Uint8Array, header: Omit<Header, 'checksum'>): number {
  const words = new Uint32Array(image.buffer, image.byteOffset, image.byteLength >>> 2);
  let hash = 0x811c9dc5;
  for (let i = 0; i < words.length; i++) hash = Math.imul(hash ^ words[i]!, 0x01000193);
  const said = new TextEncoder().encode(JSON.stringify([header.key, header.engine, header.imageBytes, header.externrefs, header.values, header.info]));
  for (const byte of said) hash = Math.imul(hash ^ byte, 0x01000193);
  return hash >>> 0;
}

function keyText(a: SnapshotKey): string {
  return JSON.stringify([a.wasm, a.model, a.tokenizer, a.fillMask, a.firstBatch]);
}

/** The origin private file system's file, or null where there is none (or no sync access: not in a worker). */
async function file(create: boolean): Promise<FileSystemFileHandle | null> {
  if (typeof navigator === 'undefined' || !navigator.storage?.getDirectory) return null;
  if (typeof FileSystemFileHandle === 'undefined' || !('createSyncAccessHandle' in FileSystemFileHandle.prototype)) return null;
  try {
    const root = await navigator.storage.getDirectory();
    return await root.getFileHandle(FILE_NAME, { create });
  } catch {
    return null;
  }
}

/** The kept engine's size in bytes (0 if none). */
export async function keptEngineBytes(): Promise<number> {
  try {
    const root = await navigator.storage.getDirectory();
    return (await (await root.getFileHandle(FILE_NAME)).getFile()).size;
  } catch {
    return 0;
  }
}

/** Deletes the kept engine (it failed a check, its model changed, or the visitor asked). */
export async function forgetSnapshot(): Promise<void> {
  try {
    const root = await navigator.storage.getDirectory();
    await root.removeEntry(FILE_NAME);
  } catch {
    // Nothing kept, or no file system: nothing to forget.
  }
}

/** Runs `use` with exclusive access to the file (another tab writing it: null). */
async function withAccess<T>(handle: FileSystemFileHandle, use: (access: FileSystemSyncAccessHandle) => T): Promise<T | null> {
  let access: FileSystemSyncAccessHandle | null = null;
  try {
    access = await handle.createSyncAccessHandle();
    return use(access);
  } catch (e) {
    console.warn(`bertscope: the prepared engine kept by this browser could not be used (${messageOf(e)}); loading the model`);
    return null;
  } finally {
    access?.close();
  }
}

/** The header of the file, if it holds a whole image; null if it holds none (a write cut short), `damaged` if it is not what was written. */
function readHeader(access: FileSystemSyncAccessHandle): Header | null | 'damaged' {
  const size = access.getSize();
  if (size < HEADER_BYTES) return null;
  const head = new Uint8Array(HEADER_BYTES);
  access.read(head, { at: 0 });
  const view = new DataView(head.buffer);
  const length = view.getUint32(4, true);
  if (view.getUint32(0, true) !== MAGIC || length > HEADER_BYTES - 8) return null;
  let header: Header;
  try {
    header = JSON.parse(new TextDecoder().decode(head.subarray(8, 8 + length))) as Header;
  } catch {
    return 'damaged';
  }
  return size === HEADER_BYTES + header.imageBytes && header.imageBytes % WASM_PAGE === 0 ? header : 'damaged';
}

/** The engine this browser kept, read whole and checked; null if none (a damaged one is deleted). */
export async function readSnapshot(): Promise<Snapshot | null> {
  const handle = await file(false);
  if (!handle) return null;
  const read = await withAccess(handle, (access) => {
    const header = readHeader(access);
    if (header === null || header === 'damaged') return header;
    const image = new Uint8Array(header.imageBytes);
    const whole = access.read(image, { at: HEADER_BYTES }) === image.length;
    return whole && checksum(image, header) === header.checksum ? { header, image } : 'damaged';
  });
  if (read === 'damaged') await forgetSnapshot();
  return read === 'damaged' ? null : read;
}

/** Whether `snapshot` is the engine made from `key`. */
export function madeFrom(snapshot: Snapshot, key: SnapshotKey): boolean {
  return snapshot.header.key === keyText(key);
}

/**
 * Writes `snapshot`'s image into `instance` (a fresh one: nothing allocated yet that anyone
 * holds) and returns its engine, made an object of `Engine`. Throws if the engine does not
 * describe itself as it did when kept; the instance is then unusable.
 */
export function restoreSnapshot<T extends { info(): ModelInfo }>(snapshot: Snapshot, instance: Instance, Engine: unknown): T {
  const { header, image } = snapshot;
  const have = instance.memory.buffer.byteLength;
  if (have < header.imageBytes) instance.memory.grow((header.imageBytes - have) / WASM_PAGE);
  new Uint8Array(instance.memory.buffer, 0, header.imageBytes).set(image);
  const table = instance.__wbindgen_externrefs;
  if (table.length < header.externrefs) table.grow(header.externrefs - table.length);
  for (const [index, value] of header.values) table.set(index, value);
  const engine = (Engine as Wrapping<T>).__wrap(header.engine);
  if (JSON.stringify(engine.info()) !== JSON.stringify(header.info)) throw new Error('the prepared engine kept by this browser does not match its model');
  return engine;
}

/** An engine's image taken from its instance, and what the header will say of it (all but the checksum). */
export interface Taken {
  said: Omit<Header, 'checksum'>;
  image: Uint8Array;
}

/**
 * Takes `engine` (made from `key`) and the rest of `instance`'s memory as they are now: a view of
 * the memory, valid until the next call into wasm, or with `copy` a copy (the threaded build's,
 * taken before its pool's threads start). Null if it cannot be kept (too big, or the engine holds
 * a JavaScript object).
 */
export function takeSnapshot(key: SnapshotKey, engine: { info(): ModelInfo }, instance: Instance, copy: boolean): Taken | null {
  if (instance.memory.buffer.byteLength > MAX_IMAGE_BYTES) return null;
  // The last call into wasm before the image is taken: from here on its memory does not change.
  const info = engine.info();
  const values = tableValues(instance.__wbindgen_externrefs);
  if (!values) return null;
  const memory = new Uint8Array(instance.memory.buffer);
  const image = copy ? memory.slice() : memory;
  return {
    said: { key: keyText(key), engine: (engine as unknown as Wrapped).__wbg_ptr, imageBytes: image.length, externrefs: instance.__wbindgen_externrefs.length, values, info },
    image,
  };
}

/** Keeps the image `take` gives (called once the file is open, see `takeSnapshot`) for the next visit; false if not kept. */
export async function writeSnapshot(take: () => Taken | null): Promise<boolean> {
  const handle = await file(true);
  if (!handle) return false;
  let access: FileSystemSyncAccessHandle | null = null;
  let written = false;
  try {
    access = await handle.createSyncAccessHandle();
    const taken = take();
    if (!taken) return false;
    const { said, image } = taken;
    const header: Header = { ...said, checksum: checksum(image, said) };
    const json = new TextEncoder().encode(JSON.stringify(header));
    if (json.length > HEADER_BYTES - 8) return false;
    const head = new Uint8Array(HEADER_BYTES);
    new DataView(head.buffer).setUint32(4, json.length, true);
    head.set(json, 8);
    // The magic goes in last: a write cut short leaves a file no visit trusts.
    access.truncate(0);
    access.write(head, { at: 0 });
    access.write(image, { at: HEADER_BYTES });
    access.flush();
    new DataView(head.buffer).setUint32(0, MAGIC, true);
    access.write(head.subarray(0, 4), { at: 0 });
    access.flush();
    written = true;
  } catch (e) {
    console.warn(`bertscope: could not keep the prepared engine (${messageOf(e)})`);
  } finally {
    access?.close();
  }
  // A write cut short (the disk full, say) leaves nothing behind.
  if (!written && access) await forgetSnapshot();
  return written;
}
