/**
 * Downloads of model and tokenizer files, kept in the Cache API. A download is checked before it
 * is kept (its length, that it is not a web page, that a tokenizer is JSON, the digest the server
 * gives), and kept only once the engine has accepted it (`Download.keep`): nothing else ever enters
 * the cache. A cached copy is revalidated with the server on each visit (a conditional request on
 * its ETag or Last-Modified); a newer file replaces it, and the page is told.
 */
import { messageOf } from './errors';
import type { Progress } from './protocol';
import type { FileIdentity } from './snapshot';

/** What a file should be: an ONNX model or a tokenizer.json. */
export type FileKind = 'model' | 'tokenizer';

/** A file's bytes and where they came from; `keep` stores them once the engine has accepted them. */
export interface Download {
  url: string;
  bytes: Uint8Array;
  /** `cache`: the cached copy (unchanged on the server, or the server unreachable); `network`: new; `replaced`: newer than the cached copy. */
  source: 'cache' | 'network' | 'replaced';
  /** Stores downloaded bytes in the cache, with the server's validators (nothing to do for cached ones). */
  keep(): Promise<void>;
}

/** Cache API bucket of checked model and tokenizer files. */
export const MODEL_CACHE = 'bertscope-models-v2';
/** Buckets of earlier versions, which kept any answer (web pages included): deleted. */
const OLD_CACHES = ['bertscope-models-v1'];
/** Header of a kept file: a stamp of when it was kept, so that its identity changes whenever it does. */
const KEPT_HEADER = 'X-Bertscope-Kept';
/** Least time between two progress reports, in ms. */
const PROGRESS_INTERVAL_MS = 100;

let cacheReady: Promise<Cache | null> | null = null;

/** The cache bucket (once per worker, after deleting older ones); null where there is no Cache API (insecure contexts). */
function openCache(): Promise<Cache | null> {
  cacheReady ??= (async () => {
    if (typeof caches === 'undefined') return null;
    try {
      await Promise.all(OLD_CACHES.map((name) => caches.delete(name)));
      return await caches.open(MODEL_CACHE);
    } catch {
      return null;
    }
  })();
  return cacheReady;
}

/** Reads the body of `response` for `url`; a connection that breaks off ends in words. */
async function readBody(url: string, response: Response, onProgress: (p: Progress) => void): Promise<Uint8Array> {
  try {
    return await readStream(response, Number(response.headers.get('Content-Length')) || 0, onProgress);
  } catch (e) {
    throw new Error(`the download of ${url} broke off (${messageOf(e)})`);
  }
}

/** Reads a response body, reporting progress against the expected `total` (0 if unknown). */
async function readStream(response: Response, total: number, onProgress: (p: Progress) => void): Promise<Uint8Array> {
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

/** Whether `bytes` start (after white space) with `<`: markup, as a server's error or maintenance page. */
function looksLikeMarkup(bytes: Uint8Array): boolean {
  for (const byte of bytes.subarray(0, 1024)) {
    if (byte === 0x20 || byte === 0x09 || byte === 0x0a || byte === 0x0d || byte === 0xef || byte === 0xbb || byte === 0xbf) continue;
    return byte === 0x3c;
  }
  return false;
}

/** The SHA-256 the server declares for the body (`Repr-Digest` or `Content-Digest`, RFC 9530), base64; null if none. */
function declaredSha256(response: Response): string | null {
  for (const name of ['Repr-Digest', 'Content-Digest']) {
    const match = /(?:^|,)\s*sha-256=:([A-Za-z0-9+/=]+):/.exec(response.headers.get(name) ?? '');
    if (match?.[1]) return match[1];
  }
  return null;
}

async function sha256Base64(bytes: Uint8Array): Promise<string> {
  const digest = new Uint8Array(await crypto.subtle.digest('SHA-256', bytes.slice()));
  let binary = '';
  for (const byte of digest) binary += String.fromCharCode(byte);
  return btoa(binary);
}

/** Throws, in words, unless `bytes` (the body of `response` for `url`) can be the `kind` of file asked for. */
async function check(url: string, kind: FileKind, bytes: Uint8Array, response: Response): Promise<void> {
  const what = kind === 'model' ? 'an ONNX model' : 'a tokenizer.json';
  if (bytes.length === 0) throw new Error(`${url} is empty (0 bytes), not ${what}`);
  // Only a same-origin answer shows whether it was compressed (Content-Length then counts compressed bytes).
  const plain = response.type === 'basic' && !response.headers.has('Content-Encoding');
  const declared = Number(response.headers.get('Content-Length'));
  if (plain && declared > 0 && declared !== bytes.length) {
    throw new Error(`the download of ${url} stopped early: ${bytes.length} of ${declared} bytes`);
  }
  const type = response.headers.get('Content-Type') ?? '';
  if (/^text\/html|^application\/xhtml/i.test(type) || looksLikeMarkup(bytes)) {
    throw new Error(`${url} is a web page (HTML), not ${what}: the server may be showing an error or maintenance page`);
  }
  if (kind === 'tokenizer') {
    let parsed: unknown;
    try {
      parsed = JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(bytes));
    } catch (e) {
      throw new Error(`${url} is not a tokenizer.json: it is not JSON (${messageOf(e)})`);
    }
    if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) throw new Error(`${url} is not a tokenizer.json: it is not a JSON object`);
  }
  const digest = declaredSha256(response);
  if (digest !== null && plain && typeof crypto !== 'undefined' && crypto.subtle) {
    if ((await sha256Base64(bytes)) !== digest) throw new Error(`${url} does not match the SHA-256 digest the server gave for it: the download is corrupt`);
  }
}

function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  return a.length === b.length && a.every((byte, i) => byte === b[i]);
}

/** The response's bytes as a `Download` that `keep` stores with the validators the server sent. */
function fresh(url: string, bytes: Uint8Array, response: Response, cache: Cache | null, source: 'network' | 'replaced'): Download {
  const headers: Record<string, string> = {
    'Content-Type': response.headers.get('Content-Type') ?? 'application/octet-stream',
    [KEPT_HEADER]: `${Date.now()}-${Math.random().toString(36).slice(2)}`,
  };
  for (const name of ['ETag', 'Last-Modified']) {
    const value = response.headers.get(name);
    if (value) headers[name] = value;
  }
  return {
    url,
    bytes,
    source,
    keep: async () => {
      await cache?.put(url, new Response(bytes.slice(), { headers })).catch((e: unknown) => {
        console.warn(`bertscope: could not cache ${url}: ${messageOf(e)}`);
      });
    },
  };
}

/** A file the cache holds. */
export interface CachedFile {
  /** Which copy it is: it changes whenever the cache keeps another. */
  identity: FileIdentity;
  /** Asks the server whether it is current: null if so, else the server's newer file (checked). */
  newer(kind: FileKind, onProgress: (p: Progress) => void): Promise<Download | null>;
  /** Its bytes (once). */
  read(): Promise<Uint8Array>;
}

/** The cached copy of `url`, if the cache holds one. */
export async function openCached(url: string): Promise<CachedFile | null> {
  const cache = await openCache();
  const cached = await cache?.match(url);
  if (!cache || !cached) return null;
  return {
    identity: { url, kept: cached.headers.get(KEPT_HEADER), etag: cached.headers.get('ETag'), lastModified: cached.headers.get('Last-Modified') },
    newer: async (kind, onProgress) => {
      const newer = await revalidate(url, kind, cached, onProgress);
      if (!newer) return null;
      const replaced = fresh(url, newer.bytes, newer.response, cache, 'replaced');
      // The same bytes under new validators (a file copied again, say) replace nothing: only the validators are kept.
      const current = await cache.match(url).catch(() => undefined);
      const kept = await current?.arrayBuffer().catch(() => undefined);
      return kept && sameBytes(new Uint8Array(kept), newer.bytes) ? { ...replaced, source: 'cache' } : replaced;
    },
    read: async () => new Uint8Array(await cached.arrayBuffer()),
  };
}

/** A file to load: its cached copy, if any, and the server's answer about that copy, asked at once. */
export interface Asked {
  url: string;
  kind: FileKind;
  cached: CachedFile | null;
  /** The server's newer file, or null (the cached copy is current, or nothing is cached). */
  newer: Promise<Download | null>;
}

/** Opens the cached copy of `url` and asks the server whether it is current (nothing is asked when nothing is cached). */
export async function ask(url: string, kind: FileKind, onProgress: (p: Progress) => void): Promise<Asked> {
  const cached = await openCached(url);
  return { url, kind, cached, newer: cached ? cached.newer(kind, onProgress) : Promise.resolve(null) };
}

/** The file `asked` is about: the server's newer one, else the cached copy, else downloaded (checked as its kind). */
export async function download(asked: Asked, onProgress: (p: Progress) => void): Promise<Download> {
  const { url, kind, cached } = asked;
  if (cached) {
    // The cached copy is read while the server is asked: a returning visit waits for the longer of
    // the two, not for a round trip and then the read.
    const [newer, bytes] = await Promise.all([asked.newer, cached.read()]);
    if (newer) return newer;
    onProgress({ received: bytes.length, total: bytes.length, fromCache: true });
    return { url, bytes, source: 'cache', keep: async () => {} };
  }
  const cache = await openCache();
  let response: Response;
  try {
    // The Cache API keeps the file: not the HTTP cache too.
    response = await fetch(url, cache ? { cache: 'no-store' } : {});
  } catch (e) {
    throw new Error(`could not reach ${url} (${messageOf(e)})`);
  }
  if (!response.ok) {
    throw new Error(`could not download ${url}: the server answered ${response.status} ${response.statusText}`.trim());
  }
  const bytes = await readBody(url, response, onProgress);
  await check(url, kind, bytes, response);
  return fresh(url, bytes, response, cache, 'network');
}

/**
 * Asks the server whether the cached copy of `url` is current (a conditional request on its ETag
 * or Last-Modified). Returns the server's newer file if it sent one that passes the checks; null to
 * use the cached copy (unchanged, no validators to ask with, server unreachable or answering with
 * an error or a file that fails the checks: the cached copy was checked when it was kept).
 */
async function revalidate(url: string, kind: FileKind, cached: Response, onProgress: (p: Progress) => void): Promise<{ bytes: Uint8Array; response: Response } | null> {
  const headers: Record<string, string> = {};
  const etag = cached.headers.get('ETag');
  const lastModified = cached.headers.get('Last-Modified');
  if (etag) headers['If-None-Match'] = etag;
  if (lastModified) headers['If-Modified-Since'] = lastModified;
  if (!etag && !lastModified) return null;
  try {
    const response = await fetch(url, { cache: 'no-store', headers });
    if (response.status === 304) return null;
    if (!response.ok) {
      console.warn(`bertscope: ${url} answered ${response.status} ${response.statusText}; using the cached copy`);
      return null;
    }
    const bytes = await readBody(url, response, onProgress);
    await check(url, kind, bytes, response);
    return { bytes, response };
  } catch (e) {
    console.warn(`bertscope: could not revalidate ${url} (${messageOf(e)}); using the cached copy`);
    return null;
  }
}
