/**
 * The focus word in a sentence. What a word is comes from the engine: each `Encoding` lists its
 * `words` (bertscope-core `tokenize::words_of`: a token and the `##` pieces after it, spelled
 * lowercased), so every view, the widget, drift and the CLI agree on which tokens a word is. Here
 * the typed word is only looked up among them, as `analysis::find_word` does in the core:
 * the `occurrence`-th word spelled so, else a special token of that name.
 *
 * A word's attention row is the mean of its pieces' rows as queries (it still sums to 1); as a key,
 * a word receives the sum over its pieces.
 */
import type { Encoding, Word } from './engine/protocol';

/** The focus in one sentence: the word found (its pieces `start..end`), or why there is none. */
export type WordFocus = { word: Word; miss: null } | { word: null; miss: string };

/** "1st", "2nd", "3rd", "11th". */
export function ordinal(n: number): string {
  const suffix = n % 100 >= 11 && n % 100 <= 13 ? 'th' : (['th', 'st', 'nd', 'rd'][n % 10] ?? 'th');
  return `${n}${suffix}`;
}

/** The `occurrence`-th (from 1) word of `sentence` spelled `typed` (trimmed, any case), or why there is none. */
export function findWord(sentence: Encoding, typed: string, occurrence = 1): WordFocus {
  const shown = typed.trim();
  const wanted = shown.toLowerCase();
  if (!wanted) return { word: null, miss: 'No focus word is set: click a token to choose one.' };
  const nth = Math.max(1, Math.floor(occurrence));
  const found = sentence.words.filter((w) => w.text === wanted);
  if (found.length === 0) {
    sentence.tokens.forEach((token, i) => {
      if (sentence.special[i] && sentence.attention_mask[i] === 1 && token.toLowerCase() === wanted) found.push({ start: i, end: i + 1, text: wanted });
    });
  }
  const word = found[nth - 1];
  if (word) return { word, miss: null };
  if (found.length === 0) return { word: null, miss: `“${shown}” is not in this sentence.` };
  const times = found.length === 1 ? 'once' : `${found.length} times`;
  return { word: null, miss: `“${shown}” is in this sentence only ${times}, not a ${ordinal(nth)} time.` };
}

/** The word holding token `token` and which occurrence of its spelling it is; null for special tokens and padding. */
export function wordAt(sentence: Encoding, token: number): { text: string; occurrence: number } | null {
  const index = sentence.words.findIndex((w) => w.start <= token && token < w.end);
  const word = sentence.words[index];
  if (!word) return null;
  const occurrence = sentence.words.slice(0, index + 1).filter((w) => w.text === word.text).length;
  return { text: word.text, occurrence };
}

/** The word's row of a square row-major `n×n` matrix: the mean of its pieces' rows. */
export function wordRow(matrix: Float32Array, n: number, word: Word): Float32Array {
  const row = new Float32Array(n);
  const pieces = Math.max(1, word.end - word.start);
  for (let q = word.start; q < word.end; q++) for (let k = 0; k < n; k++) row[k]! += matrix[q * n + k]!;
  for (let k = 0; k < n; k++) row[k]! /= pieces;
  return row;
}

/** The word's pieces, each as a word of its own (`token`, `##ization`): what the views show when asked for pieces. */
export function piecesOf(sentence: Encoding, word: Word): Word[] {
  return Array.from({ length: Math.max(1, word.end - word.start) }, (_, i) => ({ start: word.start + i, end: word.start + i + 1, text: sentence.tokens[word.start + i] ?? word.text }));
}

/** The word as the views show it: itself, or (with `pieces`, for a word of several pieces) each piece on its own. */
export function shownParts(sentence: Encoding, word: Word, pieces: boolean | undefined): Word[] {
  return pieces && word.end - word.start > 1 ? piecesOf(sentence, word) : [word];
}

/** Whether token `i` is one of the word's pieces. */
export function inWord(word: Word | null, i: number): boolean {
  return word !== null && word.start <= i && i < word.end;
}

/** How the focus is named: "bank", or "bank (2nd)" for a later occurrence. */
export function focusName(word: string, occurrence: number): string {
  return occurrence > 1 ? `${word.trim()} (${ordinal(occurrence)})` : word.trim();
}
