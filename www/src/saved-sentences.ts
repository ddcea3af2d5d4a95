/**
 * Sentences too long for a link, kept in this browser's local storage so that reloading the page
 * keeps them: the address names them by a key made from their text. The newest `KEEP` are kept.
 */

/** Prefix of the storage keys. */
const PREFIX = 'bertscope-sentences:';
/** Sets of saved sentences kept; older ones are removed. */
const KEEP = 20;

interface Saved {
  saved: number;
  sentences: string[];
}

/** The page's local storage, or null where it is unavailable (blocked, or not allowed). */
function storage(): Storage | null {
  try {
    return typeof localStorage === 'undefined' ? null : localStorage;
  } catch {
    return null;
  }
}

/** A 64-bit FNV-1a hash of `text`, as 16 hex digits: the same sentences always get the same key. */
function keyOf(text: string): string {
  let hash = 0xcbf29ce484222325n;
  for (let i = 0; i < text.length; i++) hash = ((hash ^ BigInt(text.charCodeAt(i))) * 0x100000001b3n) & 0xffffffffffffffffn;
  return hash.toString(16).padStart(16, '0');
}

function parse(text: string | null): Saved | null {
  if (text === null) return null;
  try {
    const value: unknown = JSON.parse(text);
    if (typeof value !== 'object' || value === null) return null;
    const { saved, sentences } = value as Partial<Saved>;
    return typeof saved === 'number' && Array.isArray(sentences) && sentences.every((s) => typeof s === 'string') ? { saved, sentences } : null;
  } catch {
    return null;
  }
}

/** Keeps `sentences`; returns the key an address names them by, or null if this browser will not store them. */
export function saveSentences(sentences: readonly string[]): string | null {
  const store = storage();
  if (!store) return null;
  const key = keyOf(JSON.stringify(sentences));
  try {
    store.setItem(PREFIX + key, JSON.stringify({ saved: Date.now(), sentences }));
  } catch {
    return null; // over the quota, or storage refused
  }
  const kept: [string, number][] = [];
  for (let i = 0; i < store.length; i++) {
    const name = store.key(i);
    if (name?.startsWith(PREFIX) && name !== PREFIX + key) kept.push([name, parse(store.getItem(name))?.saved ?? 0]);
  }
  kept.sort((a, b) => b[1] - a[1]);
  for (const [name] of kept.slice(KEEP - 1)) store.removeItem(name);
  return key;
}

/** The sentences saved under `key`, or null if this browser does not hold them. */
export function readSavedSentences(key: string): string[] | null {
  try {
    return parse(storage()?.getItem(PREFIX + key) ?? null)?.sentences ?? null;
  } catch {
    return null;
  }
}
