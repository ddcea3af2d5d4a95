/** The tokenization table: tokens, input_ids and attention_mask of each sentence. */
import type { Batch, Sentence } from '../engine/protocol';
import { el } from './dom';

/** Class of a token cell: special ([CLS], [SEP]), padding, word piece, or an ordinary token. */
function tokenClass(sentence: Sentence, i: number, focus: number): string {
  const classes = ['tok'];
  if (sentence.attention_mask[i] !== 1) classes.push('tok-pad');
  else if (sentence.special[i]) classes.push('tok-special');
  else if (sentence.tokens[i]?.startsWith('##')) classes.push('tok-piece');
  if (i === focus) classes.push('tok-focus');
  return classes.join(' ');
}

function row(name: string, label: string, cells: readonly HTMLTableCellElement[]): HTMLTableRowElement {
  return el('tr', { attrs: { 'data-row': name } }, [el('th', { text: label, attrs: { scope: 'row' } }), ...cells]);
}

function sentenceTable(sentence: Sentence, index: number, focus: number): HTMLElement {
  const positions = sentence.input_ids.map((_, i) => i);
  const classOf = (i: number): string => tokenClass(sentence, i, focus);
  const table = el('table', { className: 'token-table', attrs: { 'data-sentence': String(index) } }, [
    el('caption', { text: `Sentence ${index + 1}` }),
    el('tbody', {}, [
      row('tokens', 'token', positions.map((i) => el('td', { className: classOf(i), text: sentence.tokens[i] ?? '' }))),
      row('input_ids', 'input_id', positions.map((i) => el('td', { className: classOf(i), text: String(sentence.input_ids[i]) }))),
      row(
        'attention_mask',
        'attention_mask',
        positions.map((i) => el('td', { className: classOf(i), text: String(sentence.attention_mask[i]) })),
      ),
    ]),
  ]);
  const children: Node[] = [table];
  if (sentence.truncated) {
    children.push(el('p', { className: 'note', text: `This sentence was cut to ${sentence.len} tokens, the most the model takes.` }));
  }
  return el('div', { className: 'table-scroll' }, children);
}

/** Replaces `container`'s content with one table per sentence; `focus[i]` is sentence i's focus position or -1. */
export function renderTokens(container: HTMLElement, batch: Batch, focus: readonly number[]): void {
  container.replaceChildren(...batch.sentences.map((s, i) => sentenceTable(s, i, focus[i] ?? -1)));
}
