/** Plain-words notices about the tokenized batch: truncation, empty sentences, unknown characters, pairs a model reads without segment ids. */
import { isBlank } from '../attention';
import type { Batch, ModelInfo } from '../engine/protocol';
import { el } from './dom';

/** The tokenizer's name for what it does not know. */
const UNKNOWN = '[UNK]';

/** One sentence per notice, in sentence order; `info`: the model that ran them, if known. */
export function batchNotices(batch: Batch, info: ModelInfo | null = null): string[] {
  const notices: string[] = [];
  batch.sentences.forEach((sentence, i) => {
    const name = `Sentence ${i + 1}`;
    const pair = sentence.sentence_b_start !== null;
    if (pair && info && !info.token_type_ids) {
      notices.push(`${name} is a sentence pair, and this model has no token_type_ids input: it tells A from B only by the [SEP] between them.`);
    }
    if (isBlank(sentence)) {
      notices.push(`${name} is empty: it shows only the [CLS] and [SEP] tokens the model adds.`);
      return;
    }
    if (sentence.truncated && pair) {
      notices.push(`${name} (a pair) was cut to ${sentence.len} tokens, the most the model takes, longest first: tokens came off the end of the longer of A and B; the rest is not shown.`);
    } else if (sentence.truncated) notices.push(`${name} was cut to ${sentence.len} tokens, the most the model takes; the rest is not shown.`);
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
