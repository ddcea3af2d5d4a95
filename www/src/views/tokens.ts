/**
 * The tokenization table: tokens, input_ids, token_type_ids and attention_mask of each sentence.
 * Each real token is a button (click or Enter makes it the focus word); arrow keys move between a
 * sentence's tokens. In a sentence pair (`A | B`) sentence B's tokens are marked and a line sets
 * them off from A's.
 */
import { shorten } from '../draw/canvas';
import type { Batch, Encoding, Word } from '../engine/protocol';
import { inWord } from '../words';
import { activeElementOf, el } from './dom';

/** Longest sentence text shown in a table caption. */
const CAPTION_CHARS = 90;

/** Whether token `i` belongs to sentence B of a pair (its tokens and its closing [SEP]). */
function inSentenceB(sentence: Encoding, i: number): boolean {
  return sentence.sentence_b_start !== null && i >= sentence.sentence_b_start && i < sentence.len;
}

/** Class of a token cell: special ([CLS], [SEP]), padding, word piece, or an ordinary token; and sentence B of a pair. */
function tokenClass(sentence: Encoding, i: number, focus: Word | null): string {
  const classes = ['tok'];
  if (inSentenceB(sentence, i)) classes.push('tok-b');
  if (i === sentence.sentence_b_start) classes.push('tok-b-start');
  if (sentence.attention_mask[i] !== 1) classes.push('tok-pad');
  else if (sentence.special[i]) classes.push('tok-special');
  else if (sentence.tokens[i]?.startsWith('##')) classes.push('tok-piece');
  if (inWord(focus, i)) classes.push('tok-focus');
  return classes.join(' ');
}

function row(name: string, label: string, cells: readonly HTMLTableCellElement[]): HTMLTableRowElement {
  return el('tr', { attrs: { 'data-row': name } }, [el('th', { text: label, attrs: { scope: 'row' } }), ...cells]);
}

/** The cell of token `i`: a button for real tokens, plain text for padding. */
function tokenCell(sentence: Encoding, i: number, className: string, tabStop: boolean): HTMLTableCellElement {
  const token = sentence.tokens[i] ?? '';
  if (sentence.attention_mask[i] !== 1) return el('td', { className, text: token });
  const button = el('button', {
    className: 'tok-button',
    text: token,
    attrs: { type: 'button', tabindex: tabStop ? '0' : '-1', 'data-index': String(i), title: `Make “${token}” the focus word` },
  });
  return el('td', { className }, [button]);
}

/** What the tokenizer cut: a sentence loses its end; a pair loses the end of its longer sentence first. */
export function truncationNote(sentence: Encoding): string {
  return sentence.sentence_b_start === null
    ? `This sentence was cut to ${sentence.len} tokens, the most the model takes.`
    : `This pair was cut to ${sentence.len} tokens, the most the model takes, longest first: tokens came off the end of the longer sentence until both fit.`;
}

function sentenceTable(sentence: Encoding, index: number, focus: Word | null): HTMLElement {
  const positions = sentence.input_ids.map((_, i) => i);
  const classOf = (i: number): string => tokenClass(sentence, i, focus);
  const tabStop = focus ? focus.start : 0;
  const kind = sentence.sentence_b_start === null ? 'Sentence' : 'Sentence pair';
  const caption = `${kind} ${index + 1}: “${shorten(sentence.text, CAPTION_CHARS)}”`;
  const table = el('table', { className: 'token-table', attrs: { 'data-sentence': String(index) } }, [
    el('caption', { text: caption }),
    el('tbody', {}, [
      row('tokens', 'token', positions.map((i) => tokenCell(sentence, i, classOf(i), i === tabStop))),
      row('input_ids', 'input_id', positions.map((i) => el('td', { className: classOf(i), text: String(sentence.input_ids[i]) }))),
      row(
        'token_type_ids',
        'token_type_id',
        positions.map((i) => el('td', { className: classOf(i), text: String(sentence.token_type_ids[i]) })),
      ),
      row(
        'attention_mask',
        'attention_mask',
        positions.map((i) => el('td', { className: classOf(i), text: String(sentence.attention_mask[i]) })),
      ),
    ]),
  ]);
  const children: Node[] = [table];
  if (sentence.truncated) {
    children.push(el('p', { className: 'note', text: truncationNote(sentence) }));
  }
  return el('div', { className: 'table-scroll' }, children);
}

/**
 * Replaces `container`'s content with one table per sentence; `focus[i]` is sentence i's focus
 * word (its pieces) or null. A token button that had keyboard focus keeps it.
 */
export function renderTokens(container: HTMLElement, batch: Batch, focus: readonly (Word | null)[]): void {
  const active = activeElementOf(container);
  const had = active instanceof HTMLButtonElement && container.contains(active) ? active : null;
  const sentence = had?.closest<HTMLElement>('table[data-sentence]')?.dataset['sentence'];
  const index = had?.dataset['index'];
  container.replaceChildren(...batch.sentences.map((s, i) => sentenceTable(s, i, focus[i] ?? null)));
  if (sentence === undefined || index === undefined) return;
  const again = container.querySelector<HTMLButtonElement>(`table[data-sentence="${sentence}"] button[data-index="${index}"]`);
  if (!again) return;
  again.closest('tr')?.querySelectorAll<HTMLButtonElement>('button.tok-button').forEach((b) => (b.tabIndex = b === again ? 0 : -1));
  again.focus();
}

/** Calls `onPick(sentence, token)` when a token button in `container` is activated; arrow keys move between tokens. */
export function bindTokenPicking(container: HTMLElement, onPick: (sentence: number, token: number) => void): void {
  const buttonOf = (target: EventTarget | null): HTMLButtonElement | null =>
    target instanceof HTMLElement ? target.closest<HTMLButtonElement>('button.tok-button') : null;
  container.addEventListener('click', (event) => {
    const button = buttonOf(event.target);
    const table = button?.closest<HTMLElement>('table[data-sentence]');
    if (button && table) onPick(Number(table.dataset['sentence']), Number(button.dataset['index']));
  });
  container.addEventListener('keydown', (event) => {
    const button = buttonOf(event.target);
    const rowElement = button?.closest('tr');
    if (!button || !rowElement) return;
    const buttons = Array.from(rowElement.querySelectorAll<HTMLButtonElement>('button.tok-button'));
    const at = buttons.indexOf(button);
    const moves: Record<string, number> = { ArrowLeft: at - 1, ArrowRight: at + 1, Home: 0, End: buttons.length - 1 };
    const next = buttons[moves[event.key] ?? -1];
    if (!next) return;
    event.preventDefault();
    button.tabIndex = -1;
    next.tabIndex = 0;
    next.focus();
  });
}
