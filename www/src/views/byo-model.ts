/**
 * Bring your own model: pick or drop an ONNX export and its tokenizer.json; the engine validates
 * them and either the new model takes over or its plain error message is shown while the
 * previous model keeps working. An fp32 file gets the offer to make it about 4× smaller
 * (quantize-panel.ts); the smaller copy is kept in this browser, and dropping the same file again
 * loads it at once. Files stay on this device.
 */
import { EngineStopped } from '../engine/client';
import { messageOf } from '../engine/errors';
import type { OwnModelStage, QuantizedRecord } from '../engine/own-model-protocol';
import type { ModelInfo } from '../engine/protocol';
import { el } from './dom';
import { QuantizePanel, type QuantizeOutcome } from './quantize-panel';

/** Progress of the engine's work on a file. */
export type StageProgress = (stage: OwnModelStage, done: number, total: number) => void;

/** What loading a dropped file gave. */
export interface OwnLoad {
  info: ModelInfo;
  /** The model in words, for "Loaded …: <description>." */
  description: string;
  /** The file's smaller copy, made before, was loaded in its place. */
  reused: QuantizedRecord | null;
  /** The engine's wasm memory afterwards, in bytes (its peak so far). */
  wasmBytes: number;
}

/** What the picker asks of the page (each rejects with the engine's message). */
export interface OwnModelActions {
  /** Loads the files; with `reuse`, the smaller copy made before of `model`, if this browser kept one. */
  load(model: File, tokenizer: File, reuse: boolean, progress: StageProgress): Promise<OwnLoad>;
  /** Makes the loaded fp32 `model` smaller and loads the result. */
  quantize(model: File, progress: StageProgress): Promise<QuantizeOutcome>;
}

export class OwnModelPicker {
  private model: File | null = null;
  private tokenizer: File | null = null;
  /** The files of the own model loaded now (for quantizing it, or loading the original again). */
  private loaded: { model: File; tokenizer: File } | null = null;
  private readonly modelInput = el('input', { attrs: { type: 'file', accept: '.onnx', 'data-testid': 'byo-model-file' } });
  private readonly tokenizerInput = el('input', { attrs: { type: 'file', accept: '.json,application/json', 'data-testid': 'byo-tokenizer-file' } });
  private readonly message = el('p', { className: 'byo-message', attrs: { 'data-testid': 'byo-message', 'aria-live': 'polite' } });
  /** Holds everything; `data-wasm-bytes` says the engine's memory after the last load or quantization (for measurements). */
  private readonly root: HTMLElement;
  private readonly panel = new QuantizePanel(
    () => void this.quantize(),
    () => void this.useOriginal(),
  );
  private busy = false;

  constructor(
    container: HTMLElement,
    private readonly actions: OwnModelActions,
  ) {
    const drop = el('div', { className: 'drop-zone', attrs: { 'data-testid': 'byo-drop' } }, [
      el('p', { text: 'Drop an .onnx export and its tokenizer.json here, or choose them:' }),
      el('label', { className: 'field small' }, [el('span', { text: 'Model (.onnx)' }), this.modelInput]),
      el('label', { className: 'field small' }, [el('span', { text: 'Tokenizer (tokenizer.json)' }), this.tokenizerInput]),
    ]);
    this.root = container;
    container.replaceChildren(
      el('details', { className: 'byo' }, [
        el('summary', { text: 'Use your own model', attrs: { 'data-testid': 'byo-summary' } }),
        el('p', {
          className: 'muted',
          text: 'Any BERT-family ONNX export (fp32 or int8; with a masked-LM head for fill-mask). An fp32 file can be made about 4× smaller here. The files never leave this device.',
        }),
        drop,
        this.message,
        this.panel.element,
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
    this.loaded = null;
    this.panel.hide();
    this.say(text, 'error');
  }

  private say(text: string, kind: 'info' | 'error' | 'ok' = 'info'): void {
    this.message.textContent = text;
    this.message.dataset['kind'] = kind;
    this.message.setAttribute('role', kind === 'error' ? 'alert' : 'status');
  }

  private async start(): Promise<void> {
    if (this.busy || !this.model || !this.tokenizer) return;
    const model = this.model;
    const tokenizer = this.tokenizer;
    this.model = null;
    this.tokenizer = null;
    this.modelInput.value = '';
    this.tokenizerInput.value = '';
    await this.load(model, tokenizer, true);
  }

  /** Loads the files (or the kept smaller copy of `model` when `reuse`) and says what came of it. */
  private async load(model: File, tokenizer: File, reuse: boolean): Promise<void> {
    this.busy = true;
    this.say(`Checking ${model.name} (${(model.size / 1e6).toFixed(1)} MB) with ${tokenizer.name}…`);
    this.panel.hide();
    try {
      const loaded = await this.actions.load(model, tokenizer, reuse, (stage, done, total) => this.panel.working(stage, done, total));
      this.loaded = { model, tokenizer };
      this.root.dataset['wasmBytes'] = String(loaded.wasmBytes);
      this.say(`Loaded ${model.name}: ${loaded.description}.${loaded.reused ? '' : alreadySmall(loaded.info)}`, 'ok');
      if (loaded.reused) this.panel.reused(model.name, loaded.reused);
      else if (loaded.info.quantization === 'fp32') this.panel.offer(model.name, model.size);
      else this.panel.hide();
    } catch (e) {
      this.panel.hide();
      this.say(`${model.name} cannot be used: ${messageOf(e)}. The previous model is still loaded.`, 'error');
    } finally {
      this.busy = false;
    }
  }

  private async quantize(): Promise<void> {
    const files = this.loaded;
    if (this.busy || !files) return;
    this.busy = true;
    const name = files.model.name;
    try {
      const outcome = await this.actions.quantize(files.model, (stage, done, total) => this.panel.working(stage, done, total));
      this.say(`Loaded the smaller copy of ${name}: ${outcome.info.layers} layers × ${outcome.info.heads} heads, ${outcome.info.quantization}.`, 'ok');
      this.root.dataset['wasmBytes'] = String(outcome.wasmBytes);
      this.panel.done(name, outcome);
    } catch (e) {
      // A stopped engine restarts with the page's model, and `forget` says so.
      if (!(e instanceof EngineStopped)) this.panel.failed(`${name} was not made smaller: ${messageOf(e)}. The original file is still the model shown.`);
    } finally {
      this.busy = false;
      this.panel.focusResult();
    }
  }

  private async useOriginal(): Promise<void> {
    const files = this.loaded;
    if (this.busy || !files) return;
    await this.load(files.model, files.tokenizer, false);
  }
}

/** For a file already stored in fewer bits: there is nothing to make smaller. */
function alreadySmall(info: ModelInfo): string {
  return info.quantization === 'fp32' ? '' : ` It is already quantized (${info.quantization}), so there is nothing to make smaller: it is used as it is.`;
}
