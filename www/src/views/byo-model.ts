/**
 * Bring your own model: pick or drop an ONNX export and its tokenizer.json; the engine validates
 * them and either the new model takes over or its plain error message is shown while the
 * previous model keeps working. Files stay on this device and are not cached.
 */
import { el } from './dom';

/** Loads the two files; resolves with a description of the model, rejects with the engine's message. */
export type ModelLoader = (model: ArrayBuffer, tokenizer: ArrayBuffer, name: string) => Promise<string>;

export class OwnModelPicker {
  private model: File | null = null;
  private tokenizer: File | null = null;
  private readonly modelInput = el('input', { attrs: { type: 'file', accept: '.onnx', 'data-testid': 'byo-model-file' } });
  private readonly tokenizerInput = el('input', { attrs: { type: 'file', accept: '.json,application/json', 'data-testid': 'byo-tokenizer-file' } });
  private readonly message = el('p', { className: 'byo-message', attrs: { 'data-testid': 'byo-message', 'aria-live': 'polite' } });
  private busy = false;

  constructor(
    container: HTMLElement,
    private readonly load: ModelLoader,
  ) {
    const drop = el('div', { className: 'drop-zone', attrs: { 'data-testid': 'byo-drop' } }, [
      el('p', { text: 'Drop an .onnx export and its tokenizer.json here, or choose them:' }),
      el('label', { className: 'field small' }, [el('span', { text: 'Model (.onnx)' }), this.modelInput]),
      el('label', { className: 'field small' }, [el('span', { text: 'Tokenizer (tokenizer.json)' }), this.tokenizerInput]),
    ]);
    container.replaceChildren(
      el('details', { className: 'byo' }, [
        el('summary', { text: 'Use your own model', attrs: { 'data-testid': 'byo-summary' } }),
        el('p', { className: 'muted', text: 'Any BERT-family ONNX export (fp32 or int8; with a masked-LM head for fill-mask). The files never leave this device.' }),
        drop,
        this.message,
      ]),
    );
    this.modelInput.addEventListener('change', () => this.take(Array.from(this.modelInput.files ?? [])));
    this.tokenizerInput.addEventListener('change', () => this.take(Array.from(this.tokenizerInput.files ?? [])));
    drop.addEventListener('dragover', (event) => {
      event.preventDefault();
      drop.classList.add('dragging');
    });
    drop.addEventListener('dragleave', () => drop.classList.remove('dragging'));
    drop.addEventListener('drop', (event) => {
      event.preventDefault();
      drop.classList.remove('dragging');
      this.take(Array.from(event.dataTransfer?.files ?? []));
    });
  }

  /** Sorts dropped or chosen files into model and tokenizer; loads once both are there. */
  private take(files: File[]): void {
    for (const file of files) {
      if (/\.json$/i.test(file.name)) this.tokenizer = file;
      else this.model = file;
    }
    if (!this.model) this.say(`Tokenizer ${this.tokenizer?.name ?? ''} chosen; now the .onnx model.`);
    else if (!this.tokenizer) this.say(`Model ${this.model.name} chosen; now its tokenizer.json.`);
    else void this.start();
  }

  /** Says the loaded file is gone (the engine restarted without it). */
  forget(text: string): void {
    this.say(text, 'error');
  }

  private say(text: string, kind: 'info' | 'error' | 'ok' = 'info'): void {
    this.message.textContent = text;
    this.message.dataset['kind'] = kind;
    this.message.setAttribute('role', kind === 'error' ? 'alert' : 'status');
  }

  private async start(): Promise<void> {
    if (this.busy || !this.model || !this.tokenizer) return;
    this.busy = true;
    const model = this.model;
    const tokenizer = this.tokenizer;
    this.say(`Checking ${model.name} (${(model.size / 1e6).toFixed(1)} MB) with ${tokenizer.name}…`);
    try {
      const description = await this.load(await model.arrayBuffer(), await tokenizer.arrayBuffer(), model.name);
      this.say(`Loaded ${model.name}: ${description}.`, 'ok');
    } catch (e) {
      this.say(`${model.name} cannot be used: ${e instanceof Error ? e.message : String(e)}. The previous model is still loaded.`, 'error');
    } finally {
      this.busy = false;
      this.model = null;
      this.tokenizer = null;
      this.modelInput.value = '';
      this.tokenizerInput.value = '';
    }
  }
}
