/** Plain-words notices about the tokenized batch: truncation, empty sentences, unknown characters. */
import { isBlank } from '../attention';
import type { Batch } from '../engine/protocol';
import { el } from './dom';

/** The tokenizer's name for what it does not know. */
const UNKNOWN = '[UNK]';

/** One sentence per notice, in sentence order. */
export function batchNotices(batch: Batch): string[] {
  const notices: string[] = [];
  batch.sentences.forEach((sentence, i) => {
    const name = `Sentence ${i + 1}`;
    if (isBlank(sentence)) {
      notices.push(`${name} is empty: it shows only the [CLS] and [SEP] tokens the model adds.`);
      return;
    }
    if (sentence.truncated) notices.push(`${name} was cut to ${sentence.len} tokens, the most the model takes; the rest is not shown.`);
    const unknown = sentence.tokens.filter((t, k) => t === UNKNOWN && sentence.attention_mask[k] === 1).length;
    if (unknown > 0) {
      const pieces = unknown === 1 ? '1 piece' : `${unknown} pieces`;
      notices.push(`${name} has ${pieces} the model's vocabulary does not know (emoji, rare scripts); ${unknown === 1 ? 'it shows' : 'they show'} as ${UNKNOWN}.`);
    }
  });
  return notices;
}

/** Replaces `container`'s content with the notices, after any `alerts` about the engine itself (hidden when there are none). */
export function renderNotices(container: HTMLElement, notices: readonly string[], alerts: readonly string[] = []): void {
  container.replaceChildren(
    ...alerts.map((text) => el('li', { text, attrs: { 'data-kind': 'crash', role: 'alert' } })),
    ...notices.map((text) => el('li', { text })),
  );
  container.hidden = notices.length + alerts.length === 0;
}
