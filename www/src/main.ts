/** The page shell: wires inputs, the engine client and the views together. */
import './style.css';
import { findFocus, type HeadChoice } from './attention';
import { readTheme } from './draw/colors';
import { EngineClient, createEngineWorker } from './engine/client';
import type { ModelInfo, Progress, RunOutput } from './engine/protocol';
import { INITIAL_STATE, Store, readConfig, resolveLayer, type ViewState } from './state';
import { renderFocus } from './views/focus';
import { renderTokens } from './views/tokens';

/** Wait after the last keystroke before running the model, in ms. */
const DEBOUNCE_MS = 250;

function query<T extends Element>(selector: string): T {
  const element = document.querySelector<T>(selector);
  if (!element) throw new Error(`the page is missing ${selector}`);
  return element;
}

const ui = {
  sentences: Array.from(document.querySelectorAll<HTMLInputElement>('[data-testid="sentence-input"]')),
  focus: query<HTMLInputElement>('[data-testid="focus-input"]'),
  layer: query<HTMLSelectElement>('[data-testid="layer-select"]'),
  head: query<HTMLSelectElement>('[data-testid="head-select"]'),
  status: query<HTMLElement>('[data-testid="status"]'),
  modelInfo: query<HTMLElement>('[data-testid="model-info"]'),
  progress: query<HTMLElement>('[data-testid="progress"]'),
  progressBar: query<HTMLProgressElement>('[data-testid="progress"] progress'),
  progressText: query<HTMLElement>('[data-testid="progress"] .progress-text'),
  focusView: query<HTMLElement>('#focus-view'),
  tokenView: query<HTMLElement>('#token-view'),
};

const config = readConfig(window.location);
const store = new Store<ViewState>({ ...INITIAL_STATE, sentences: ui.sentences.map((input) => input.value), focusWord: ui.focus.value });

let info: ModelInfo | null = null;
/** The result on screen, kept through errors so the page never blanks. */
let shown: RunOutput | null = null;
/** Whether the sentences changed since the result on screen was computed. */
let stale = true;
let runTimer: number | undefined;

type StatusKind = 'busy' | 'ready' | 'error';

function setStatus(text: string, kind: StatusKind): void {
  ui.status.textContent = text;
  ui.status.dataset['kind'] = kind;
  ui.status.setAttribute('role', kind === 'error' ? 'alert' : 'status');
}

function messageOf(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}

function megabytes(bytes: number): string {
  return (bytes / 1e6).toFixed(1);
}

function sameTexts(a: readonly string[], b: readonly string[]): boolean {
  return a.length === b.length && a.every((t, i) => t === b[i]);
}

/** Draws the result on screen for the current choices; says `ready` if it matches the inputs. */
function draw(): void {
  if (!shown) return;
  const state = store.get();
  const layers = shown.attentionShape[0];
  const layer = resolveLayer(state.layer, layers);
  renderFocus(ui.focusView, { output: shown, layer, head: state.head, focusWord: state.focusWord, theme: readTheme() });
  const focus = shown.batch.sentences.map((s) => findFocus(s, state.focusWord));
  renderTokens(ui.tokenView, shown.batch, focus);
  if (!stale) setStatus('ready', 'ready');
}

async function runNow(): Promise<void> {
  window.clearTimeout(runTimer);
  if (!info) return;
  const texts = store.get().sentences;
  setStatus('running…', 'busy');
  try {
    const output = await client.run(texts);
    if (!output) return; // a newer run replaced this one
    shown = output;
    stale = !sameTexts(texts, store.get().sentences);
    draw();
  } catch (e) {
    setStatus(`Could not run the model: ${messageOf(e)}`, 'error');
  }
}

function scheduleRun(): void {
  stale = true;
  setStatus(info ? 'running…' : 'loading model…', 'busy');
  window.clearTimeout(runTimer);
  runTimer = window.setTimeout(() => void runNow(), DEBOUNCE_MS);
}

function showProgress(p: Progress): void {
  ui.progress.hidden = false;
  ui.progressBar.max = Math.max(1, p.total);
  ui.progressBar.value = p.received;
  ui.progressText.textContent = p.fromCache
    ? `model read from the browser cache (${megabytes(p.received)} MB)`
    : p.total > 0
      ? `downloading the model: ${megabytes(p.received)} of ${megabytes(p.total)} MB`
      : `downloading the model: ${megabytes(p.received)} MB`;
}

function fillSelect(select: HTMLSelectElement, options: readonly [string, string][], value: string): void {
  select.replaceChildren(
    ...options.map(([v, label]) => {
      const option = document.createElement('option');
      option.value = v;
      option.textContent = label;
      return option;
    }),
  );
  select.value = value;
  select.disabled = false;
}

function showModel(model: ModelInfo): void {
  ui.modelInfo.textContent =
    `Model: ${config.modelName} · ${model.layers} layers × ${model.heads} heads · ` +
    `${model.quantization} · ${megabytes(model.file_bytes)} MB`;
  const state = store.get();
  const layer = resolveLayer(state.layer, model.layers);
  const head: HeadChoice = state.head === 'mean' || state.head < model.heads ? state.head : 'mean';
  store.set({ layer, head });
  fillSelect(ui.layer, Array.from({ length: model.layers }, (_, i) => [String(i), `Layer ${i + 1}`]), String(layer));
  fillSelect(
    ui.head,
    [['mean', 'Mean of heads'], ...Array.from({ length: model.heads }, (_, i): [string, string] => [String(i), `Head ${i + 1}`])],
    String(head),
  );
}

const client = new EngineClient(createEngineWorker, {
  onProgress: showProgress,
  onCrash: (message, restarting) => {
    console.warn(`bertscope: the engine stopped: ${message}`);
    if (restarting) {
      info = null;
      stale = true;
      void start();
    } else {
      setStatus(`The engine keeps stopping (${message}). Reload the page to try again.`, 'error');
    }
  },
});

async function start(): Promise<void> {
  setStatus('loading model…', 'busy');
  try {
    info = await client.load(config.modelUrl, config.tokenizerUrl);
  } catch (e) {
    ui.modelInfo.textContent = `Model: ${config.modelName} (not loaded)`;
    setStatus(`Could not load the model: ${messageOf(e)}`, 'error');
    return;
  } finally {
    ui.progress.hidden = true;
  }
  showModel(info);
  await runNow();
}

ui.sentences.forEach((input) =>
  input.addEventListener('input', () => {
    store.set({ sentences: ui.sentences.map((i) => i.value) });
    scheduleRun();
  }),
);
ui.focus.addEventListener('input', () => store.set({ focusWord: ui.focus.value }));
ui.layer.addEventListener('change', () => store.set({ layer: Number(ui.layer.value) }));
ui.head.addEventListener('change', () => store.set({ head: ui.head.value === 'mean' ? 'mean' : Number(ui.head.value) }));
store.subscribe((state, previous) => {
  if (state.focusWord !== previous.focusWord || state.layer !== previous.layer || state.head !== previous.head) draw();
});

window.matchMedia('(prefers-color-scheme: dark)').addEventListener('change', draw);
let lastWidth = window.innerWidth;
window.addEventListener('resize', () => {
  if (window.innerWidth === lastWidth) return;
  lastWidth = window.innerWidth;
  requestAnimationFrame(draw);
});
window.addEventListener('unhandledrejection', (event) => setStatus(`Something went wrong: ${messageOf(event.reason)}`, 'error'));

void start();
