/**
 * The fill-mask panel: for models whose export ends in a masked-LM head (`logits`), each `[MASK]`
 * in a sentence lists the model's 10 likeliest fillers with their probabilities (computed by the
 * engine, never invented); for other models it says why it is unavailable.
 */
import type { MaskPrediction } from '../engine/analysis-protocol';
import type { ModelInfo, BatchRun } from '../engine/protocol';
import { el } from './dom';

/** How many candidates each `[MASK]` lists. */
export const FILL_K = 10;

/** Asks the worker for sentence `index`'s fills. */
export type FillRequester = (sentence: number, k: number) => Promise<MaskPrediction[]>;

/** "12.3%", or two significant digits below 1% ("0.0042%"), so small probabilities still differ. */
function percent(p: number): string {
  const x = p * 100;
  return `${x >= 1 ? x.toFixed(1) : x.toPrecision(2)}%`;
}

/** Whether sentence `index` of `output` holds a `[MASK]` token. */
function hasMask(output: BatchRun, index: number): boolean {
  const s = output.batch.sentences[index]!;
  return s.tokens.some((t) => t.toUpperCase() === '[MASK]');
}

export class FillMaskPanel {
  /** The fills on screen, for export. */
  shown: { sentence: number; masks: MaskPrediction[] }[] = [];
  private generation = 0;

  constructor(
    private readonly container: HTMLElement,
    private readonly request: FillRequester,
  ) {}

  /** Shows fills for `output` (or why there are none). */
  async update(output: BatchRun, info: ModelInfo): Promise<void> {
    const generation = ++this.generation;
    this.shown = [];
    if (!info.fill_mask) {
      this.container.replaceChildren(
        el('p', {
          className: 'muted',
          attrs: { 'data-testid': 'fill-mask-unavailable' },
          text:
            'Fill-mask is unavailable for this model: its export ends at the encoder’s hidden states, without the masked-language-model head ' +
            '(the logits output) that scores every word of the vocabulary. Load a …ForMaskedLM export (see “Use your own model”) to ask it what fits a [MASK].',
        }),
      );
      return;
    }
    const masked = output.batch.sentences.map((_, i) => i).filter((i) => hasMask(output, i));
    if (masked.length === 0) {
      this.container.replaceChildren(el('p', { className: 'muted', attrs: { 'data-testid': 'fill-mask-hint' }, text: 'Type [MASK] in a sentence to see the model’s 10 likeliest words for it.' }));
      return;
    }
    this.container.replaceChildren(el('p', { className: 'muted', text: 'asking the model…' }));
    try {
      const results = await Promise.all(masked.map(async (i) => ({ sentence: i, masks: await this.request(i, FILL_K) })));
      if (generation !== this.generation) return;
      this.shown = results;
      this.container.replaceChildren(
        ...results.flatMap(({ sentence, masks }) =>
          masks.map((m) =>
            el('figure', { className: 'fill', attrs: { 'data-testid': 'fill-mask-result' } }, [
              el('figcaption', { text: `Sentence ${sentence + 1}, [MASK] at token ${m.position + 1}` }),
              el(
                'ol',
                {},
                m.candidates.map(([, token, p]) => {
                  const bar = el('span', { className: 'fill-bar', attrs: { 'aria-hidden': 'true' } });
                  bar.style.width = `${Math.max(1, Math.round(p * 100))}%`;
                  return el('li', {}, [el('span', { className: 'fill-token', text: token }), el('span', { className: 'fill-p', text: percent(p) }), bar]);
                }),
              ),
            ]),
          ),
        ),
      );
    } catch (e) {
      if (generation !== this.generation) return;
      this.container.replaceChildren(el('p', { className: 'muted', text: `Could not fill the mask: ${e instanceof Error ? e.message : String(e)}` }));
    }
  }
}
