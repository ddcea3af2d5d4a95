/** The sentence fields: one text input per sentence, a "+ sentence" button and remove buttons. */
import { el } from './dom';

/** Keeps the sentence inputs in `list` and reports every edit, addition and removal. */
export class SentenceInputs {
  private inputs: HTMLInputElement[] = [];

  /** `onChange(texts)` runs on every change; at most `max` sentences. */
  constructor(
    private readonly list: HTMLElement,
    private readonly addButton: HTMLButtonElement,
    private readonly max: number,
    private readonly onChange: (texts: string[]) => void,
  ) {
    addButton.addEventListener('click', () => this.add());
  }

  /** The texts as typed. */
  values(): string[] {
    return this.inputs.map((input) => input.value);
  }

  /** Shows `texts`, one field each. */
  set(texts: readonly string[]): void {
    this.inputs = texts.map((text) => {
      const input = el('input', { attrs: { type: 'text', 'data-testid': 'sentence-input', spellcheck: 'false', autocomplete: 'off', placeholder: 'A sentence, or a pair: sentence A | sentence B' } });
      input.value = text;
      input.addEventListener('input', () => this.onChange(this.values()));
      return input;
    });
    const single = this.inputs.length <= 1;
    this.list.replaceChildren(
      ...this.inputs.map((input, i) => {
        const label = el('label', { className: 'field sentence-field' }, [el('span', { text: `Sentence ${i + 1}` }), input]);
        const remove = el('button', {
          className: 'tool remove-sentence',
          text: '×',
          attrs: { type: 'button', 'data-testid': 'remove-sentence', 'aria-label': `Remove sentence ${i + 1}`, title: `Remove sentence ${i + 1}` },
        });
        remove.hidden = single;
        remove.addEventListener('click', () => this.remove(i));
        return el('div', { className: 'sentence-row' }, [label, remove]);
      }),
    );
    this.addButton.disabled = this.inputs.length >= this.max;
    this.addButton.title = this.addButton.disabled ? `At most ${this.max} sentences` : 'Add a sentence';
  }

  private add(): void {
    if (this.inputs.length >= this.max) return;
    const texts = [...this.values(), ''];
    this.set(texts);
    this.inputs[texts.length - 1]?.focus();
    this.onChange(texts);
  }

  private remove(index: number): void {
    const texts = this.values().filter((_, i) => i !== index);
    this.set(texts);
    (this.inputs[Math.min(index, texts.length - 1)] ?? this.addButton).focus();
    this.onChange(texts);
  }
}
