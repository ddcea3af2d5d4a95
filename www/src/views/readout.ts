/** The read-out line beside a figure: what the pointer (or keyboard cursor) is over, else a hint. */
import { el } from './dom';

export class Readout {
  readonly element: HTMLParagraphElement;

  /** `live`: announce changes to screen readers (for read-outs driven by the keyboard). */
  constructor(testId: string, private readonly idle: string, live = false) {
    this.element = el('p', { className: 'readout', text: idle, attrs: { 'data-testid': testId, ...(live ? { 'aria-live': 'polite' } : {}) } });
  }

  /** Says `text`, or the hint when `text` is null. */
  show(text: string | null): void {
    this.element.textContent = text ?? this.idle;
  }
}
