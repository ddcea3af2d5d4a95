/**
 * The sentence line syntax the page, its links, the widget and the CLI share (the engine reads it:
 * `Input::parse` in crates/bertscope-core/src/tokenize/pair.rs): a line with a bar, `A | B`, is a
 * sentence pair; `\|` is a bar that belongs to the text. The widget's `sentences` attribute lists
 * sentences with the same bar between them, so a bar inside one of them is written `\|` there too.
 */

/** Whether `line` is a sentence pair: it has a bar not written `\|`. */
export function isPairLine(line: string): boolean {
  return /(^|[^\\])\|/.test(line);
}

/**
 * The sentences of a `|`-separated list, cut at each bar not written `\|`. A `\|` stays as written,
 * so each sentence reaches the engine as one line whose bar is text.
 */
export function splitSentenceList(list: string): string[] {
  const sentences = [''];
  let previous = '';
  for (const c of list) {
    if (c === '|' && previous !== '\\') sentences.push('');
    else sentences[sentences.length - 1] += c;
    previous = c;
  }
  return sentences;
}

/**
 * `sentences` as one `|`-separated list that {@link splitSentenceList} reads back (each sentence
 * trimmed): a sentence ending in a backslash gets a space before the next bar, which would
 * otherwise read as `\|`, a bar inside the sentence.
 */
export function joinSentenceList(sentences: readonly string[]): string {
  return sentences.map((s, i) => (s.endsWith('\\') && i < sentences.length - 1 ? `${s} ` : s)).join('|');
}
