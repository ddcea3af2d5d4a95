/**
 * The words under the measure control: what the chosen measure is (one paragraph and its
 * reference), why it cannot be shown when it cannot (the engine's message; the views then draw raw
 * attention), the engine's self-check of the decomposition, and the other measures on request.
 */
import type { BatchRun } from '../engine/protocol';
import { MEASURE_INFO, MEASURES, type Measure } from '../measure';
import { mixingProblem } from '../mixing';
import { el } from './dom';

/** "Attention × value norm": a label as the start of a sentence. */
function capitalised(text: string): string {
  return `${text.charAt(0).toUpperCase()}${text.slice(1)}`;
}

/** One measure's paragraph: its name, explanation and reference. */
function paragraph(measure: Measure): HTMLElement {
  const info = MEASURE_INFO[measure];
  return el('p', { className: 'measure-text', attrs: { 'data-measure': measure } }, [
    el('strong', { text: `${capitalised(info.label)}. ` }),
    document.createTextNode(`${info.explanation} `),
    el('cite', { text: info.reference }),
  ]);
}

/** The largest reconstruction error over the run's layers and sentences, if it has mixing measures. */
function selfCheck(output: BatchRun): number | null {
  if (!output.mixing?.length) return null;
  return Math.max(...output.mixing.flatMap((m) => Array.from(m.reconstructionError)));
}

/** The explanation block; its "other measures" stay open across updates. */
export class MeasureNote {
  private readonly text = el('div');
  private readonly problem = el('p', { attrs: { 'data-testid': 'measure-problem' } });
  private readonly check = el('p', { className: 'note', attrs: { 'data-testid': 'measure-selfcheck' } });
  private readonly others = el('div');
  private shownFor: Measure | null = null;

  constructor(container: HTMLElement) {
    container.replaceChildren(this.text, this.problem, this.check, el('details', { className: 'measure-more' }, [el('summary', { text: 'The other measures' }), this.others]));
  }

  /**
   * Says what `measure` is and, for the run on screen (null before the first), why it or the focus
   * view's comparison with `paired` (null: none) cannot be drawn.
   */
  update(measure: Measure, paired: Measure | null, output: BatchRun | null): void {
    if (this.shownFor !== measure) {
      this.shownFor = measure;
      this.text.replaceChildren(paragraph(measure));
      this.others.replaceChildren(...MEASURES.filter((m) => m !== measure).map(paragraph));
    }
    const wanted = measure !== 'raw' ? measure : paired;
    const missing = output && wanted ? mixingProblem(output, wanted) : null;
    const label = wanted ? MEASURE_INFO[wanted].label : '';
    const failed = missing !== null && output?.mixingError !== undefined;
    this.problem.hidden = missing === null;
    this.problem.className = failed ? 'measure-problem' : 'note';
    this.problem.setAttribute('role', failed ? 'alert' : 'status');
    this.problem.textContent =
      missing === null
        ? ''
        : failed
          ? `${capitalised(label)} cannot be shown: ${output?.mixingError}. ${measure === 'raw' ? 'The focus view shows raw attention alone.' : 'The views show raw attention instead.'}`
          : `Computing ${label}… ${measure === 'raw' ? 'the comparison appears' : 'the views show raw attention'} until it is ready.`;
    const error = output && wanted ? selfCheck(output) : null;
    this.check.hidden = error === null;
    this.check.textContent =
      error === null ? '' : `Self-check: the pieces these measures split each layer into add up to the model’s own sum within ${error.toExponential(1)} on this run.`;
  }
}
