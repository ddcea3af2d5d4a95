/**
 * The offer to make an fp32 model file about 4× smaller (weight-only int8), inside "Use your own
 * model": what it does in plain words, a progress bar while the engine works, and what came of
 * it — sizes, the largest attention change measured on the page's sentences, whether the copy
 * is kept in this browser. Also says when a dropped file's smaller copy was reused from the cache.
 */
import type { ModelInfo } from '../engine/protocol';
import type { OwnModelStage, QuantizedRecord } from '../engine/own-model-protocol';
import { el } from './dom';
import { megabytes } from './units';

/** What quantizing a file gave. */
export interface QuantizeOutcome {
  info: ModelInfo;
  record: QuantizedRecord;
  /** Null if the copy is kept in the cache, else why not. */
  kept: string | null;
  /** The cache held the copy already: it was not quantized again. */
  reused: boolean;
  /** The engine's wasm memory afterwards, in bytes (its peak so far). */
  wasmBytes: number;
}

/** An attention difference for people: scientific notation below 0.01, with its size in words. */
export function formatChange(x: number): string {
  if (x === 0) return '0, no change at all';
  if (x >= 0.01) return x.toFixed(3);
  const words = x < 1e-6 ? 'less than a millionth' : x < 1e-3 ? 'less than a thousandth' : 'less than a hundredth';
  return `${x.toExponential(2)}, ${words}`;
}

function plural(n: number, one: string, many = `${one}s`): string {
  return `${n} ${n === 1 ? one : many}`;
}

/** Sizes before and after, and how many weight matrices were stored in 8 bits. */
function sizeLine(record: QuantizedRecord): string {
  const { input_bytes: input, output_bytes: output, tensors } = record.report;
  const share = (100 * output) / Math.max(1, input);
  const ratio = input / Math.max(1, output);
  return (
    `${megabytes(input)} → ${megabytes(output)} (${share.toFixed(1)}% of the original, ${ratio.toFixed(2)}× smaller): ` +
    `${plural(tensors.length, 'weight matrix', 'weight matrices')} stored in 8 bits.`
  );
}

/** Where and how large the largest attention change is, on which sentences. */
function changeLine(record: QuantizedRecord, when: string): string {
  const c = record.change;
  const sentences = plural(record.texts.length, 'sentence');
  if (!c) return `The attention change could not be measured on ${when} ${sentences}.`;
  const tokens = record.changeTokens ? `, where “${record.changeTokens[0]}” looks at “${record.changeTokens[1]}”` : '';
  return (
    `Largest attention change on ${when} ${sentences}: ${formatChange(c.max)} ` +
    `(sentence ${c.sentence + 1}, layer ${c.layer + 1}, head ${c.head + 1}${tokens}). On average: ${formatChange(c.mean)}. ` +
    'Attention weights run from 0 to 1.'
  );
}

const STAGE_WORDS: Record<OwnModelStage, (done: number, total: number) => string> = {
  reading: (done, total) => `reading the file: ${megabytes(done)} of ${megabytes(total)}`,
  measuring: () => 'running the original on your sentences…',
  quantizing: (done, total) => `quantizing: ${done} of ${total} weight matrices`,
  loading: () => 'loading the smaller model…',
  checking: () => 'running the smaller model on your sentences…',
};

/** The offer, its progress and its outcome. */
export class QuantizePanel {
  readonly element: HTMLElement;
  private readonly pitch = el('p', { className: 'quantize-pitch', attrs: { id: 'quantize-pitch' } });
  private readonly accept = el('button', {
    text: 'Make it about 4× smaller, faithful',
    attrs: { type: 'button', 'data-testid': 'quantize-accept', 'aria-describedby': 'quantize-pitch' },
  });
  private readonly bar = el('progress', { attrs: { max: '1', value: '0', 'aria-label': 'Making the model smaller' } });
  private readonly barText = el('span', { className: 'progress-text' });
  private readonly progress = el('div', { className: 'progress', attrs: { 'data-testid': 'quantize-progress' } }, [this.bar, this.barText]);
  private readonly result = el('div', { className: 'quantize-result', attrs: { 'data-testid': 'quantize-result', 'aria-live': 'polite', tabindex: '-1' } });
  private readonly useOriginal = el('button', {
    text: 'Use the original file instead',
    attrs: { type: 'button', 'data-testid': 'use-original' },
  });

  constructor(onAccept: () => void, onUseOriginal: () => void) {
    this.element = el('section', { className: 'quantize', attrs: { 'data-testid': 'quantize', 'aria-label': 'Make the model smaller' } }, [
      this.pitch,
      this.accept,
      this.progress,
      this.result,
      this.useOriginal,
    ]);
    this.accept.addEventListener('click', onAccept);
    this.useOriginal.addEventListener('click', onUseOriginal);
    this.hide();
  }

  /** Offers to quantize the fp32 file `name` of `bytes` bytes (loaded as it is). */
  offer(name: string, bytes: number): void {
    this.show({ pitch: true, accept: true });
    this.pitch.textContent =
      `${name} stores each weight as a 32-bit number (${megabytes(bytes)}). bertscope can store its weight matrices in 8 bits, ` +
      'one scale per column, and still compute in 32 bits: about a quarter of the size, with attention barely moved (the page ' +
      'measures by how much on your sentences). The smaller copy stays in this browser, so dropping this file again loads it at once.';
  }

  /** Shows the engine at work (the bar hidden for steps it cannot measure). */
  working(stage: OwnModelStage, done: number, total: number): void {
    this.show({ progress: true });
    this.progress.dataset['stage'] = stage;
    this.bar.max = Math.max(1, total);
    this.bar.value = done;
    this.barText.textContent = STAGE_WORDS[stage](done, total);
  }

  /** What quantizing `name` gave. */
  done(name: string, outcome: QuantizeOutcome): void {
    const { record, kept, reused } = outcome;
    const made = reused ? `Reused the smaller copy of ${name} made in this browser on ${when(record.made)} (not quantized again): ` : `${name} is now smaller: `;
    const cache =
      reused || kept === null
        ? `Kept in this browser: dropping ${name} again loads the smaller copy at once, without quantizing.`
        : `Not kept in this browser (${kept}): dropping ${name} again quantizes it again.`;
    this.report('done', [made + sizeLine(record), changeLine(record, 'your'), cache]);
  }

  /** The dropped file's smaller copy was loaded from the cache instead of the file. */
  reused(name: string, record: QuantizedRecord): void {
    this.report('reused', [
      `Reused the smaller copy of ${name} made in this browser on ${when(record.made)} (kept in its cache): it was not quantized again. ` +
        sizeLine(record),
      changeLine(record, 'the'),
    ]);
    this.useOriginal.hidden = false;
  }

  /** Quantizing failed; `message` says why and what is loaded now. */
  failed(message: string): void {
    this.report('error', [message]);
  }

  /** Moves keyboard focus to the outcome when it was on the button that started the work (hidden since). */
  focusResult(): void {
    const focused = document.activeElement;
    if (!this.result.hidden && (focused === this.accept || focused === document.body)) this.result.focus();
  }

  /** Hides everything (another model was loaded). */
  hide(): void {
    this.show({});
    this.element.hidden = true;
  }

  private report(state: 'done' | 'reused' | 'error', lines: string[]): void {
    this.show({ result: true });
    this.result.dataset['state'] = state;
    this.result.setAttribute('role', state === 'error' ? 'alert' : 'status');
    this.result.replaceChildren(...lines.map((text) => el('p', { text })));
  }

  private show(parts: { pitch?: boolean; accept?: boolean; progress?: boolean; result?: boolean }): void {
    this.element.hidden = false;
    this.pitch.hidden = !parts.pitch;
    this.accept.hidden = !parts.accept;
    this.progress.hidden = !parts.progress;
    this.result.hidden = !parts.result;
    this.useOriginal.hidden = true;
    if (!parts.progress) delete this.progress.dataset['stage'];
  }
}

function when(iso: string): string {
  const date = new Date(iso);
  return Number.isNaN(date.getTime()) ? 'an earlier visit' : date.toLocaleString(undefined, { dateStyle: 'medium', timeStyle: 'short' });
}
