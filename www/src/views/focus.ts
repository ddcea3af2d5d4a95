/**
 * The focus view: per sentence, the focus word's attention to every token at one layer/head
 * (a heat strip and a sentence naming its strongest target) and the full token×token heatmap.
 */
import { findFocus, headMatrix, matrixRow, maxUnmasked, receivedAttention, topTargets, type HeadChoice, type Target } from '../attention';
import { css, textOn, viridis, type Theme } from '../draw/colors';
import { drawHeatmap } from '../draw/heatmap';
import type { RunOutput, Sentence } from '../engine/protocol';
import { el } from './dom';

/** What the focus view shows. */
export interface FocusOptions {
  output: RunOutput;
  layer: number;
  head: HeadChoice;
  focusWord: string;
  theme: Theme;
}

/** How many attended tokens the text alternative names. */
const TOP_IN_LABEL = 3;

/** "layer 2, head 5" or "layer 2, mean of 12 heads" (1-based, as people count). */
export function describeHead(layer: number, head: HeadChoice, heads: number): string {
  return head === 'mean' ? `layer ${layer + 1}, mean of ${heads} heads` : `layer ${layer + 1}, head ${head + 1}`;
}

function listTargets(targets: readonly Target[]): string {
  return targets.map((t) => `${t.token} (${t.weight.toFixed(2)})`).join(', ');
}

/** The heat strip: one chip per real token, coloured by the focus token's attention to it. */
function strip(sentence: Sentence, row: Float32Array, focus: number, caption: string): HTMLElement {
  let max = 0;
  for (let i = 0; i < sentence.len; i++) max = Math.max(max, row[i] ?? 0);
  const chips: Node[] = [];
  for (let i = 0; i < sentence.len; i++) {
    const weight = row[i] ?? 0;
    const colour = viridis(max > 0 ? weight / max : 0);
    const attrs = { role: 'listitem', title: `${sentence.tokens[i]}: ${weight.toFixed(3)}` };
    const chip = el('span', { className: i === focus ? 'chip chip-focus' : 'chip', attrs }, [
      el('span', { className: 'chip-token', text: sentence.tokens[i] ?? '' }),
      el('span', { className: 'chip-weight', text: weight.toFixed(2) }),
    ]);
    chip.style.backgroundColor = css(colour);
    chip.style.color = textOn(colour);
    chips.push(chip);
  }
  return el('figure', { className: 'strip' }, [
    el('div', { className: 'chips', attrs: { role: 'list', 'aria-label': caption } }, chips),
    el('figcaption', { text: caption }),
  ]);
}

interface Card {
  element: HTMLElement;
  draw: () => void;
}

function card(options: FocusOptions, index: number): Card {
  const { output, layer, head, focusWord, theme } = options;
  const sentence = output.batch.sentences[index]!;
  const [, heads, n] = output.attentionShape;
  const matrix = headMatrix(output.attentions[index]!, output.attentionShape, layer, head);
  const focus = findFocus(sentence, focusWord);
  const word = focusWord.trim().toLowerCase();
  const where = describeHead(layer, head, heads);

  const children: Node[] = [el('h3', { className: 'sentence-title', text: `${index + 1}. “${sentence.text}”` })];
  let label: string;
  if (focus >= 0) {
    const row = matrixRow(matrix, n, focus);
    const top = topTargets(row, sentence, TOP_IN_LABEL, focus);
    const best = top[0];
    const summary = best ? `${word} → ${best.token} (${best.weight.toFixed(2)})` : `${word} → no other word to attend to`;
    children.push(el('p', { className: 'focus-summary', text: summary, attrs: { 'data-testid': 'focus-summary' } }));
    children.push(strip(sentence, row, focus, `Attention from “${word}” to each token, ${where}`));
    label = top.length ? `“${word}” attends most to ${listTargets(top)}.` : `“${word}” attends only to special tokens.`;
  } else {
    const missing = word ? `“${word}” is not a single token of this sentence.` : 'No focus word is set.';
    children.push(el('p', { className: 'focus-summary muted', text: missing, attrs: { 'data-testid': 'focus-summary' } }));
    const received = receivedAttention(matrix, sentence).map((v) => v / Math.max(1, sentence.len));
    const top = topTargets(received, sentence, TOP_IN_LABEL);
    label = top.length ? `Tokens receiving the most attention on average: ${listTargets(top)}.` : '';
  }

  const canvas = el('canvas', {
    className: 'heatmap',
    attrs: {
      'data-testid': 'focus-heatmap',
      role: 'img',
      'aria-label': `Attention heatmap of sentence ${index + 1}, ${where}; rows attend to columns, padding is hatched. ${label}`,
    },
  });
  const frame = el('div', { className: 'heatmap-frame' }, [canvas]);
  children.push(frame);
  const element = el('article', { className: 'card sentence-card', attrs: { 'data-sentence': String(index) } }, children);

  const masked = sentence.attention_mask.map((m) => m !== 1);
  const draw = (): void =>
    drawHeatmap(
      canvas,
      {
        values: matrix,
        rows: n,
        cols: n,
        rowLabels: sentence.tokens,
        colLabels: sentence.tokens,
        maskedRows: masked,
        maskedCols: masked,
        ...(focus >= 0 ? { highlightRow: focus } : {}),
        scaleMax: maxUnmasked(matrix, sentence),
        maxWidth: Math.max(200, frame.clientWidth),
        legendCaption: 'attention weight',
      },
      theme,
    );
  return { element, draw };
}

/** Replaces `container`'s content with one focus card per sentence and draws their heatmaps. */
export function renderFocus(container: HTMLElement, options: FocusOptions): void {
  const cards = options.output.batch.sentences.map((_, i) => card(options, i));
  container.replaceChildren(...cards.map((c) => c.element));
  for (const c of cards) c.draw(); // after insertion, so the frames have a width
}
