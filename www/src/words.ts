/**
 * The focus word in a sentence, as the engine finds it. What a word is, and which occurrence of
 * it the user means, is decided in one place: bertscope-core's `analysis::find_word` (a token and
 * the `##` pieces after it, compared trimmed and lowercased; the n-th one spelled so; else a
 * special token of that name), reached through the bindings (`findWord`, asked by the worker's
 * `find-word` request). The page and the widget ask the engine before they draw (`lookUpFocus`) and
 * every view reads its answer here (`findWord`), so no view can disagree with another, nor with
 * drift or the CLI, which call the same rule.
 *
 * A word's attention row is the mean of its pieces' rows as queries (it still sums to 1); as a key,
 * a word receives the sum over its pieces.
 */
import type { Encoding, Word, WordFocus as EngineFocus } from './engine/protocol';

/** The focus in one sentence: the word found (its pieces `start..end`), or why there is none. */
export type WordFocus = { word: Word; miss: null } | { word: null; miss: string };

/** The engine's answers, per sentence of a result (its `Encoding` object) and word asked. */
const answers = new WeakMap<Encoding, Map<string, WordFocus>>();

function keyOf(typed: string, occurrence: number): string {
  return `${Math.max(1, Math.floor(occurrence))}:${typed}`;
}

/** The engine's reason, as the page writes it: "“pear” is not in this sentence." */
function asSentence(miss: string): string {
  return `${miss.charAt(0).toUpperCase()}${miss.slice(1)}.`;
}

/** Keeps the engine's answer for the `occurrence`-th `typed` in `sentence`. */
export function rememberFocus(sentence: Encoding, typed: string, occurrence: number, found: EngineFocus): void {
  let known = answers.get(sentence);
  if (!known) answers.set(sentence, (known = new Map()));
  known.set(keyOf(typed, occurrence), found.word ? { word: found.word, miss: null } : { word: null, miss: asSentence(found.miss ?? 'not found') });
}

/** Whether the engine's answer for every (word, occurrence) of `asked` in every sentence is known. */
export function knowsFocus(sentences: readonly Encoding[], asked: readonly [string, number][]): boolean {
  return asked.every(([typed, occurrence]) => sentences.every((s) => answers.get(s)?.has(keyOf(typed, occurrence))));
}

/**
 * Asks the engine (through `find`, the worker's `find-word` request) for what it does not know yet
 * of `asked` in `sentences`, and keeps the answers.
 */
export async function lookUpFocus(
  sentences: readonly Encoding[],
  asked: readonly [string, number][],
  find: (sentences: readonly Encoding[], word: string, occurrence: number) => Promise<EngineFocus[]>,
): Promise<void> {
  for (const [typed, occurrence] of asked) {
    if (knowsFocus(sentences, [[typed, occurrence]])) continue;
    const found = await find(sentences, typed, occurrence);
    sentences.forEach((s, i) => rememberFocus(s, typed, occurrence, found[i] ?? { word: undefined, miss: 'the engine gave no answer' }));
  }
}

/**
 * The `occurrence`-th (from 1) word of `sentence` spelled `typed`, or why there is none: the
 * engine's answer (see `lookUpFocus`, which must have run for it).
 */
export function findWord(sentence: Encoding, typed: string, occurrence = 1): WordFocus {
  return answers.get(sentence)?.get(keyOf(typed, occurrence)) ?? { word: null, miss: `The engine has not looked “${typed.trim()}” up yet.` };
}

/** "1st", "2nd", "3rd", "11th" (for naming an occurrence). */
export function ordinal(n: number): string {
  const suffix = n % 100 >= 11 && n % 100 <= 13 ? 'th' : (['th', 'st', 'nd', 'rd'][n % 10] ?? 'th');
  return `${n}${suffix}`;
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
