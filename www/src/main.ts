/** The page shell: wires inputs, the engine client, the URL and the views together. */
import './style.css';
import { findWord, knowsFocus, lookUpFocus, wordAt } from './words';
import { readTheme } from './draw/colors';
import { EngineClient, EngineStopped, type Crash, type ModelFiles } from './engine/client';
import { modelFileName, sameModel } from './engine/crash-ledger';
import { messageOf, runFailure } from './engine/errors';
import type { ModelInfo, MixingProgress, Progress, BatchRun } from './engine/protocol';
import { MEASURE_INFO, MEASURES, parseMeasure, serves } from './measure';
import { mixingMade } from './mixing';
import { INITIAL_STATE, LAST_LAYER, MAX_SENTENCES, Store, VIEWS, counterpart, defaultConfig, readConfig, resolveView, stateMixingNeed, type Config, type ViewName, type ViewState } from './state';
import { readSavedSentences, saveSentences } from './saved-sentences';
import { MAX_LINK_BYTES, stateFromAddress, urlWithState } from './url';
import { AnalysisFeatures } from './views/analysis-page';
import { el } from './views/dom';
import { FocusView } from './views/focus';
import { MeasureNote } from './views/measure-note';
import { HeadView } from './views/head';
import { bindKeptFiles } from './views/kept-files';
import { ModelView } from './views/model';
import { openOwnModelPanel, renderModelNote } from './views/model-note';
import { batchNotices, renderNotices } from './views/notices';
import { SentenceInputs } from './views/sentences';
import { bindTabs, selectTab } from './views/tabs';
import { bindTokenPicking, renderTokens } from './views/tokens';

/** Wait after the last keystroke before running the model, in ms. */
const DEBOUNCE_MS = 250;
/** Wait before writing the state into the URL, in ms (browsers limit how often that may happen). */
const URL_DELAY_MS = 300;
/** A run computing the mixing measures shows their progress once it has taken this long, in ms. */
const MIXING_PROGRESS_AFTER_MS = 300;

function query<T extends Element>(selector: string): T {
  const element = document.querySelector<T>(selector);
  if (!element) throw new Error(`the page is missing ${selector}`);
  return element;
}

const ui = {
  sentenceList: query<HTMLElement>('#sentence-list'),
  addSentence: query<HTMLButtonElement>('[data-testid="add-sentence"]'),
  focus: query<HTMLInputElement>('[data-testid="focus-input"]'),
  focusTokens: query<HTMLDataListElement>('#focus-tokens'),
  layer: query<HTMLSelectElement>('[data-testid="layer-select"]'),
  head: query<HTMLSelectElement>('[data-testid="head-select"]'),
  sentence: query<HTMLSelectElement>('[data-testid="sentence-select"]'),
  sentenceField: query<HTMLElement>('#sentence-field'),
  measure: query<HTMLSelectElement>('[data-testid="measure-select"]'),
  compare: query<HTMLInputElement>('[data-testid="compare-toggle"]'),
  hideSpecial: query<HTMLInputElement>('[data-testid="hide-special"]'),
  sharedScale: query<HTMLInputElement>('[data-testid="shared-scale"]'),
  pieces: query<HTMLInputElement>('[data-testid="show-pieces"]'),
  compareField: query<HTMLElement>('#compare-field'),
  mixingProgress: query<HTMLElement>('[data-testid="mixing-progress"]'),
  mixingBar: query<HTMLProgressElement>('[data-testid="mixing-progress"] progress'),
  mixingText: query<HTMLElement>('[data-testid="mixing-progress"] .progress-text'),
  status: query<HTMLElement>('[data-testid="status"]'),
  notices: query<HTMLElement>('[data-testid="notices"]'),
  linkNote: query<HTMLElement>('[data-testid="link-note"]'),
  modelInfo: query<HTMLElement>('[data-testid="model-info"]'),
  modelNote: query<HTMLElement>('[data-testid="model-note"]'),
  ownModelPanel: query<HTMLElement>('#byo-model'),
  progress: query<HTMLElement>('[data-testid="progress"]'),
  progressBar: query<HTMLProgressElement>('[data-testid="progress"] progress'),
  progressText: query<HTMLElement>('[data-testid="progress"] .progress-text'),
  tabs: query<HTMLElement>('#view-tabs'),
  tokenView: query<HTMLElement>('#token-view'),
};

const config = readConfig(window.location);
/** The page's own model: what a restart falls back to when no other model ran. */
const builtIn = defaultConfig(window.location);
/** The page's model: the configured one, until it stops the engine and another takes its place. */
let pageModel: Config = config;
/** The name the page shows for the loaded model: the page's, or the user's file. */
let modelName = pageModel.modelName;
/** The file name of the user's own model, while it is the loaded one. */
let ownModel: string | null = null;
/** What the page says about the last time the engine stopped, until another model is loaded. */
let engineAlerts: string[] = [];
/** What the page says about cached files the server's newer ones replaced, at the last load. */
let cacheNotes: string[] = [];
/** What the page says about a layer or head the link asked for that the model lacks, until another is chosen. */
let fitNotes: string[] = [];
const address = stateFromAddress(window.location, INITIAL_STATE, readSavedSentences);
const store = new Store<ViewState>(address.state);
/** Said until the sentences change, when the link named sentences this browser does not hold. */
let lostSentencesNote = address.lostSaved
  ? 'This link’s sentences were too long to travel in it: they were kept in the browser that made it, not in this one, so the page shows its own sentences.'
  : null;

let info: ModelInfo | null = null;
/** The result on screen, kept through errors so the page never blanks. */
let shown: BatchRun | null = null;
/** Whether the sentences changed since the result on screen was computed. */
let stale = true;
let runTimer: number | undefined;
let urlTimer: number | undefined;
/** What the token table was last drawn for. */
let tokensDrawn: { output: BatchRun; focus: string } | null = null;
/** When the run in flight started (for its mixing progress), in ms. */
let runStarted = 0;
/** Whether the focus word or the view changed since the address was last written: the next one is a new history entry (Back returns to the previous look). */
let navigated = false;
/** Set while the state is restored from the address (browser Back/Forward): that is no new entry. */
let restoring = false;
/** The choices that make a new history entry when they change. */
const NAVIGATION: readonly (keyof ViewState)[] = ['focusWord', 'focusOccurrence', 'view', 'layer', 'head', 'sentence', 'measure'];

type StatusKind = 'busy' | 'ready' | 'error';

function setStatus(text: string, kind: StatusKind): void {
  ui.status.textContent = text;
  ui.status.dataset['kind'] = kind;
  ui.status.setAttribute('role', kind === 'error' ? 'alert' : 'status');
}

function megabytes(bytes: number): string {
  return (bytes / 1e6).toFixed(1);
}

function sameTexts(a: readonly string[], b: readonly string[]): boolean {
  return a.length === b.length && a.every((t, i) => t === b[i]);
}

/** Makes the word holding token `token` of sentence `sentence` (of the result on screen) the focus word, with its occurrence. */
function pickToken(sentence: number, token: number): void {
  const encoding = shown?.batch.sentences[sentence];
  const text = encoding?.tokens[token];
  if (!encoding || text === undefined) return;
  const word = wordAt(encoding, token) ?? { text, occurrence: 1 };
  ui.focus.value = word.text;
  store.set({ focusWord: word.text, focusOccurrence: word.occurrence });
}

const focusView = new FocusView(query('#focus-view'), pickToken, (zoom) => store.set({ zoom }));
const measureNote = new MeasureNote(query('[data-testid="measure-note"]'));
const headView = new HeadView(query('#head-view'), pickToken, (heads) => store.set({ heads }));
const modelView = new ModelView(query('#model-view'), (layer, head) => store.set({ layer, head, heads: null }));
const sentenceInputs = new SentenceInputs(ui.sentenceList, ui.addSentence, MAX_SENTENCES, (sentences) =>
  store.set({ sentences, sentence: Math.min(store.get().sentence, sentences.length - 1) }),
);

/** Whether the state asks for mixing measures the result on screen lacks (and the engine has not refused). */
function lacksMixing(output: BatchRun): boolean {
  return !serves(mixingMade(output), stateMixingNeed(store.get())) && output.mixingError === undefined;
}

/** The focus word being looked up in which result (so it is asked once). */
let focusAsking: { output: BatchRun; key: string } | null = null;

/**
 * Whether the engine has said where the state's focus word is in `output`'s sentences (the views
 * read its answer, see words.ts); if not, asks it and draws again once it has.
 */
function focusKnown(output: BatchRun, state: ViewState): boolean {
  const asked: [string, number][] = [[state.focusWord, state.focusOccurrence]];
  if (knowsFocus(output.batch.sentences, asked)) return true;
  const key = `${state.focusOccurrence}:${state.focusWord}`;
  if (focusAsking?.output === output && focusAsking.key === key) return false;
  const asking = { output, key };
  focusAsking = asking;
  lookUpFocus(output.batch.sentences, asked, (sentences, word, occurrence) => client.findWords(sentences, word, occurrence))
    .then(
      () => {
        if (focusAsking === asking) focusAsking = null;
        if (shown === output) draw();
      },
      (e: unknown) => {
        if (focusAsking === asking) focusAsking = null;
        if (!(e instanceof EngineStopped && e.restarting)) setStatus(`Could not look the focus word up: ${messageOf(e)}`, 'error');
      },
    );
  return false;
}

/** The result the views drew last. */
let drawnOutput: BatchRun | null = null;

/** Once the views draw `output`, gives the one they drew before back to the engine (its attention buffers are reused). */
function recycleDrawn(output: BatchRun): void {
  if (drawnOutput === output) return;
  if (drawnOutput) client.recycle(drawnOutput);
  drawnOutput = output;
}

/** Draws the result on screen for the current choices; says `ready` if it matches the inputs. */
function draw(): void {
  if (!shown) return;
  const state = store.get();
  if (!focusKnown(shown, state)) return;
  const [layers, heads] = shown.attentionShape;
  const { layer, head } = resolveView(state, { layers, heads });
  const theme = readTheme();
  const sentence = Math.max(0, Math.min(state.sentence, shown.batch.sentences.length - 1));
  const common = {
    output: shown,
    layer,
    head,
    focusWord: state.focusWord,
    focusOccurrence: state.focusOccurrence,
    theme,
    measure: state.measure,
    hideSpecial: state.hideSpecial,
    sharedScale: state.sharedScale,
    pieces: state.pieces,
  };
  measureNote.update(state.measure, state.compare && state.view === 'focus' ? counterpart(state.measure) : null, shown);
  if (state.view === 'focus') focusView.update({ ...common, compare: state.compare, zoom: state.zoom });
  else if (state.view === 'head') headView.update({ ...common, sentence, heads: state.heads });
  else if (!analysis.draw(state.view, { ...common, sentence, rolloutLayer: state.rolloutLayer })) modelView.update({ ...common, sentence });
  recycleDrawn(shown);
  const focusKey = `${state.focusOccurrence}:${state.focusWord}`;
  if (tokensDrawn?.output !== shown || tokensDrawn.focus !== focusKey) {
    const focus = shown.batch.sentences.map((s) => findWord(s, state.focusWord, state.focusOccurrence).word);
    renderTokens(ui.tokenView, shown.batch, focus);
    tokensDrawn = { output: shown, focus: focusKey };
  }
  if (stale || lacksMixing(shown)) return;
  const pending = analysis.pending(state.view, shown);
  setStatus(pending ?? 'ready', pending ? 'busy' : 'ready');
}

/** Offers the batch's words in the focus field's suggestions. */
function suggestTokens(output: BatchRun): void {
  const words = new Set<string>();
  for (const s of output.batch.sentences) for (const w of s.words) words.add(w.text);
  ui.focusTokens.replaceChildren(...Array.from(words, (word) => el('option', { attrs: { value: word } })));
}

/** Shows how far the mixing measures of the run in flight are, once it has taken a while. */
function showMixingProgress(p: MixingProgress): void {
  if (performance.now() - runStarted < MIXING_PROGRESS_AFTER_MS) return;
  const layers = Math.max(1, p.total);
  ui.mixingProgress.hidden = false;
  ui.mixingBar.max = p.sentences * layers;
  ui.mixingBar.value = p.sentence * layers + p.done;
  ui.mixingText.textContent = `computing what each token takes in: sentence ${p.sentence + 1} of ${p.sentences}, layer ${p.done} of ${p.total}`;
}

async function runNow(): Promise<void> {
  window.clearTimeout(runTimer);
  if (!info) return;
  const state = store.get();
  const texts = state.sentences;
  setStatus('running…', 'busy');
  runStarted = performance.now();
  try {
    const mixing = stateMixingNeed(state);
    const output = await client.run(texts, { analyses: { focus: state.focusWord, occurrence: state.focusOccurrence }, mixing, onMixingProgress: showMixingProgress });
    ui.mixingProgress.hidden = true;
    if (!output) return; // a newer run replaced this one
    // A result replaced before it was ever drawn (it waited for its focus word): nothing reads it.
    if (shown && shown !== drawnOutput) client.recycle(shown);
    shown = output;
    stale = !sameTexts(texts, store.get().sentences);
    showNotices();
    suggestTokens(output);
    draw();
    analysis.onResult(output);
  } catch (e) {
    ui.mixingProgress.hidden = true;
    // A restarting engine reruns once it has loaded the model again (see onCrash).
    if (e instanceof EngineStopped && e.restarting) return;
    setStatus(runFailure(e), 'error');
  }
}

function scheduleRun(): void {
  stale = true;
  setStatus(info ? 'running…' : 'loading model…', 'busy');
  window.clearTimeout(runTimer);
  runTimer = window.setTimeout(() => void runNow(), DEBOUNCE_MS);
}

/** Shows `text` under the status (null hides it): what the address cannot carry. */
function showLinkNote(text: string | null): void {
  ui.linkNote.textContent = text ?? '';
  ui.linkNote.hidden = text === null;
}

/** Writes the state into the address; sentences too long for a link are kept in this browser instead (see url.ts). */
function writeUrl(): void {
  const state = store.get();
  let url = urlWithState(window.location.href, state);
  let note = lostSentencesNote;
  if (url.length > MAX_LINK_BYTES) {
    const characters = state.sentences.reduce((sum, s) => sum + s.length, 0).toLocaleString('en');
    const key = saveSentences(state.sentences);
    url = urlWithState(window.location.href, state, key === null ? 'nowhere' : { saved: key });
    note =
      key === null
        ? `Your sentences (${characters} characters) are too long for a link, and this browser would not keep them: reloading the page will lose them.`
        : `Your sentences (${characters} characters) are too long for a link: this page's address keeps them in this browser only. Reloading keeps them; a link sent to someone else opens without them.`;
  }
  showLinkNote(note);
  if (url !== window.location.href) {
    if (navigated) window.history.pushState(null, '', url);
    else window.history.replaceState(null, '', url);
  }
  navigated = false;
}

/** Back or Forward: the page shows what the address it returns to says. */
function restoreFromAddress(): void {
  const { state } = stateFromAddress(window.location, INITIAL_STATE, readSavedSentences);
  const same = sameTexts(state.sentences, store.get().sentences);
  if (!same) sentenceInputs.set(state.sentences);
  quietly(() => store.set({ ...state, sentences: same ? store.get().sentences : state.sentences }));
}

/** Runs `change` as no new history entry (the page fitting or restoring its state, not the user choosing). */
function quietly(change: () => void): void {
  restoring = true;
  try {
    change();
  } finally {
    restoring = false;
  }
}

function scheduleUrl(): void {
  window.clearTimeout(urlTimer);
  urlTimer = window.setTimeout(writeUrl, URL_DELAY_MS);
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
  select.replaceChildren(...options.map(([v, label]) => el('option', { text: label, attrs: { value: v } })));
  select.value = value;
  select.disabled = false;
}

/** Puts the state's choices into the controls that show them. */
function syncControls(state: ViewState): void {
  if (info) {
    const { layer, head } = resolveView(state, info);
    ui.layer.value = String(layer);
    ui.head.value = String(head);
  }
  if (ui.focus.value !== state.focusWord) ui.focus.value = state.focusWord;
  const count = state.sentences.length;
  if (ui.sentence.options.length !== count) {
    fillSelect(ui.sentence, Array.from({ length: count }, (_, i) => [String(i), `Sentence ${i + 1}`]), '0');
  }
  ui.sentence.value = String(Math.min(state.sentence, count - 1));
  ui.sentenceField.hidden = state.view === 'focus' || state.view === 'rollout' || state.view === 'drift';
  ui.measure.value = state.measure;
  ui.compare.checked = state.compare;
  ui.hideSpecial.checked = state.hideSpecial;
  ui.sharedScale.checked = state.sharedScale;
  ui.pieces.checked = state.pieces;
  ui.compareField.hidden = state.view !== 'focus';
}

/** The own model the view names but the engine does not have (a shared link's), if any. */
function missingOwnModel(): string | null {
  const wanted = store.get().ownModel;
  return wanted !== null && wanted !== ownModel ? wanted : null;
}

/** The model line, and the note when the view names an own model that is not loaded. */
function describeModel(): void {
  const missing = missingOwnModel();
  if (info) {
    ui.modelInfo.textContent =
      `Model: ${modelName} · ${info.layers} layers × ${info.heads} heads · ` +
      `${info.quantization} · ${megabytes(info.file_bytes)} MB · ${client.threads === 1 ? '1 thread' : `${client.threads} threads`}` +
      (missing !== null ? ` · shown in place of “${missing}”, the model this view was made with` : '');
  }
  renderModelNote(ui.modelNote, missing === null ? null : { wanted: missing, shown: pageModel.modelName, keepShown: () => store.set({ ownModel: null }) });
  if (missing !== null) openOwnModelPanel(ui.ownModelPanel);
}

function showModel(model: ModelInfo): void {
  describeModel();
  const state = store.get();
  const { layer, head, missingLayer, missingHead } = resolveView(state, model);
  fillSelect(ui.layer, Array.from({ length: model.layers }, (_, i) => [String(i), `Layer ${i + 1}`]), String(layer));
  fillSelect(
    ui.head,
    [
      ['mean', 'Mean of heads'],
      ['max', 'Max of heads'],
      ...Array.from({ length: model.heads }, (_, i): [string, string] => [String(i), `Head ${i + 1}`]),
    ],
    String(head),
  );
  // While the view's own model is awaited, keep its layer and head (this model may have fewer).
  if (missingOwnModel() !== null) return;
  // Said, not fixed silently (as the widget does); the view's "last layer" stays the last of any next model.
  fitNotes = [
    ...(missingLayer !== null ? [`This view asks for layer ${missingLayer + 1}, but ${modelName} has layers 1–${model.layers}: showing layer ${layer + 1}.`] : []),
    ...(missingHead !== null ? [`This view asks for head ${missingHead + 1}, but ${modelName} has heads 1–${model.heads}: showing the mean of all heads.`] : []),
  ];
  showNotices();
  quietly(() => store.set({ layer: state.layer < 0 || missingLayer !== null ? LAST_LAYER : layer, head }));
}

/** The page's engine worker, bundled by Vite as a module worker. */
function createEngineWorker(): Worker {
  return new Worker(new URL('./engine/worker.ts', import.meta.url), { type: 'module', name: 'bertscope-engine' });
}

/** What the page calls the model of `files`: the configured or built-in name, else its file name. */
function nameOf(files: ModelFiles): string {
  if (sameModel(files, config)) return config.modelName;
  if (sameModel(files, builtIn)) return builtIn.modelName;
  return modelFileName(files);
}

/** The engine stopped: says which model stopped it and restarts with one that is safe, never with that one. */
function onCrash({ message, culprit, restarting, restartWith }: Crash): void {
  console.warn(`bertscope: the engine stopped: ${message}`);
  const lost = culprit ? nameOf(culprit) : modelName;
  analysis.engineRestarted(ownModel);
  ownModel = null;
  // The notices say what happened; the view (and its link) is now of the page's model.
  store.set({ ownModel: null });
  const stopped = `The engine stopped while running ${lost}: ${message}.`;
  if (restarting && restartWith) {
    pageModel = { ...restartWith, modelName: nameOf(restartWith) };
    modelName = pageModel.modelName;
    const again = culprit && !sameModel(culprit, restartWith) ? ` ${lost} is not loaded again unless you reload the page.` : '';
    engineAlerts = [`${stopped} It restarted with ${modelName}; your sentences are kept.${again}`];
    info = null;
    stale = true;
    void start();
  } else {
    engineAlerts = [`${stopped} No model is left that has not stopped it; reload the page to try again.`];
    setStatus(`The engine keeps stopping (${message}). Reload the page to try again.`, 'error');
  }
  showNotices();
}

/** The notices: the engine's alerts, replaced cached files, then what the tokenizer did to the sentences on screen. */
function showNotices(): void {
  renderNotices(ui.notices, [...fitNotes, ...cacheNotes, ...(shown ? batchNotices(shown.batch, info) : [])], engineAlerts);
}

/** Says which cached files the server's newer ones replaced. */
function onReplaced(urls: string[]): void {
  cacheNotes = urls.map((url) => `The copy of ${url} this browser kept was out of date: the server's newer file replaced it.`);
  showNotices();
}

const client = new EngineClient(createEngineWorker, { onProgress: showProgress, onReplaced, onCrash }, builtIn);

const analysis = new AnalysisFeatures({
  client,
  store,
  shown: () => shown,
  info: () => info,
  modelLoaded: (model, name, quantized) => {
    ownModel = name;
    modelName = quantized ? `${name} (your file, quantized in this browser)` : `${name} (your file)`;
    store.set({ ownModel: name });
    engineAlerts = [];
    info = model;
    showModel(model);
    void runNow();
  },
  redraw: draw,
  pickToken,
  modelName: () => modelName,
  focusFigures: () => focusView.figures(),
  headFigure: () => headView.figure(),
  modelFigure: () => modelView.figure(),
});

async function start(): Promise<void> {
  setStatus('loading model…', 'busy');
  cacheNotes = [];
  try {
    info = await client.load(pageModel.modelUrl, pageModel.tokenizerUrl, store.get().sentences.length, stateMixingNeed(store.get()) !== 'none');
  } catch (e) {
    ui.modelInfo.textContent = `Model: ${modelName} (not loaded)`;
    setStatus(`Could not load the model: ${messageOf(e)}`, 'error');
    return;
  } finally {
    ui.progress.hidden = true;
  }
  showModel(info);
  await runNow();
}

ui.focus.addEventListener('input', () => store.set({ focusWord: ui.focus.value, focusOccurrence: 1 }));
// The last layer is kept as "the last layer", so a deeper model loaded next shows its own last.
ui.layer.addEventListener('change', () => store.set({ layer: info && Number(ui.layer.value) === info.layers - 1 ? LAST_LAYER : Number(ui.layer.value) }));
ui.head.addEventListener('change', () => {
  const value = ui.head.value;
  store.set({ head: value === 'mean' || value === 'max' ? value : Number(value), heads: null });
});
ui.sentence.addEventListener('change', () => store.set({ sentence: Number(ui.sentence.value) }));
ui.measure.replaceChildren(...MEASURES.map((m) => el('option', { text: MEASURE_INFO[m].label, attrs: { value: m } })));
ui.measure.addEventListener('change', () => store.set({ measure: parseMeasure(ui.measure.value) ?? 'raw' }));
ui.compare.addEventListener('change', () => store.set({ compare: ui.compare.checked }));
ui.hideSpecial.addEventListener('change', () => store.set({ hideSpecial: ui.hideSpecial.checked }));
ui.sharedScale.addEventListener('change', () => store.set({ sharedScale: ui.sharedScale.checked }));
ui.pieces.addEventListener('change', () => store.set({ pieces: ui.pieces.checked }));
bindKeptFiles(query<HTMLDetailsElement>('[data-testid="kept-files"]'));
bindTokenPicking(ui.tokenView, pickToken);
bindTabs(ui.tabs, (name) => {
  if ((VIEWS as readonly string[]).includes(name)) store.set({ view: name as ViewName });
});

store.subscribe((state, previous) => {
  if (state.view !== previous.view) selectTab(ui.tabs, state.view);
  syncControls(state);
  if (!restoring && NAVIGATION.some((key) => state[key] !== previous[key])) navigated = true;
  scheduleUrl();
  if (state.sentences !== previous.sentences) {
    lostSentencesNote = null;
    scheduleRun();
  }
  // A measure (or the focus view's comparison) the result on screen lacks: run it again with them.
  else if (shown && info && lacksMixing(shown) && stateMixingNeed(state) !== stateMixingNeed(previous)) void runNow();
  if (state.ownModel !== previous.ownModel) describeModel();
  if (!restoring && fitNotes.length && (state.layer !== previous.layer || state.head !== previous.head)) {
    fitNotes = [];
    showNotices();
  }
  const looks: (keyof ViewState)[] = ['focusWord', 'focusOccurrence', 'layer', 'head', 'view', 'sentence', 'measure', 'compare', 'hideSpecial', 'sharedScale', 'pieces', 'zoom', 'rolloutLayer', 'heads'];
  if (looks.some((key) => state[key] !== previous[key])) draw();
});

const initial = store.get();
showLinkNote(lostSentencesNote);
sentenceInputs.set(initial.sentences);
selectTab(ui.tabs, initial.view);
syncControls(initial);

window.matchMedia('(prefers-color-scheme: dark)').addEventListener('change', draw);
window.addEventListener('popstate', restoreFromAddress);
window.addEventListener('unhandledrejection', (event) => setStatus(`Something went wrong: ${messageOf(event.reason)}`, 'error'));

void start();
