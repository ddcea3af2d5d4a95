/**
 * `<bert-attention>`: the explorer's views in a shadow root, driven by attributes. It loads nothing
 * until it is scrolled near; all widgets of a page share one engine (see engine.ts). Nothing it
 * does throws into the host page: problems are shown inside the widget.
 */
import { type HeadChoice } from '../attention';
import { findWord, knowsFocus, lookUpFocus, wordAt } from '../words';
import { readTheme } from '../draw/colors';
import { EngineStopped } from '../engine/client';
import { isInputError, messageOf, runFailure } from '../engine/errors';
import type { Progress } from '../engine/protocol';
import { MEASURE_INFO, MIXING_NEEDS, mixingNeed, serves, type Measure, type MixingNeed } from '../measure';
import { drawnMeasure } from '../mixing';
import { INITIAL_STATE, type ViewState } from '../state';
import { urlWithState } from '../url';
import { el } from '../views/dom';
import { FocusView } from '../views/focus';
import { HeadView } from '../views/head';
import { batchNotices } from '../views/notices';
import { bindTokenPicking, renderTokens } from '../views/tokens';
import { ATTRIBUTES, DEFAULT_MODEL_PATH, DEFAULT_TOKENIZER_PATH, fitToModel, focusQuestions, readSettings, resolveFocus, type ReadSettings, type ThemeName, type WidgetView } from './attributes';
import { SharedEngine, type FinishedRun } from './engine';
import { widgetSheets } from './styles';
import type { ViewInput } from '../views/view-input';

/** The element's tag name. */
export const TAG = 'bert-attention';

/** Start loading when a widget comes this close to the viewport. */
const VISIBLE_MARGIN = '300px 0px';

/** Where a widget is: not yet scrolled near, fetching the model, running it, drawn, or failed. */
type WidgetState = 'idle' | 'loading' | 'running' | 'ready' | 'error';

/** What every view of the widget is drawn from. */
/** What a widget view draws from: the run and its choices, and the focus view's colour switches. */
type DrawData = ViewInput & { hideSpecial: boolean; sharedScale: boolean };

/** One of the widget's views, built from the explorer's view modules. */
interface Shown {
  view: WidgetView;
  element: HTMLElement;
  draw(data: DrawData): void;
}

type Pick = (sentence: number, token: number) => void;

/** Builds the view `view`: the explorer's focus view (with or without the strip), head views or token tables. */
function createShown(view: WidgetView, onPick: Pick): Shown {
  if (view === 'focus' || view === 'heatmap') {
    const element = el('div', { className: 'cards' });
    const focus = new FocusView(element, onPick);
    return { view, element, draw: (data) => focus.update({ ...data, strip: view === 'focus' }) };
  }
  if (view === 'head') {
    // One head view per sentence, stacked: each needs the full width for its two columns.
    const element = el('div', { className: 'stack' });
    const heads: HeadView[] = [];
    return {
      view,
      element,
      draw: (data) => {
        const count = data.output.batch.sentences.length;
        while (heads.length < count) {
          const card = el('section', { className: 'card' });
          element.append(card);
          heads.push(new HeadView(card, onPick));
        }
        while (heads.length > count) {
          heads.pop();
          element.lastElementChild?.remove();
        }
        heads.forEach((head, sentence) => head.update({ ...data, sentence }));
      },
    };
  }
  const element = el('div', { className: 'card', attrs: { 'data-testid': 'token-table' } });
  bindTokenPicking(element, onPick);
  return {
    view,
    element,
    draw: ({ output, focusWord, focusOccurrence }) => renderTokens(element, output.batch, output.batch.sentences.map((s) => findWord(s, focusWord, focusOccurrence).word)),
  };
}

function megabytes(bytes: number): string {
  return (bytes / 1e6).toFixed(1);
}

/**
 * Starts the engine worker from the widget's own file. Workers must come from the page's origin:
 * from another origin a one-line module at a blob: URL imports the widget instead (that needs CORS
 * on the widget's files and, under a CSP, `worker-src blob:`).
 */
function startWorker(widgetUrl: string): Worker {
  const options: WorkerOptions = { type: 'module', name: 'bertscope-engine' };
  if (new URL(widgetUrl).origin === window.location.origin) return new Worker(widgetUrl, options);
  const bootstrap = new Blob([`import ${JSON.stringify(widgetUrl)};\n`], { type: 'text/javascript' });
  // Not revoked: the worker may fetch it after this returns, and there is one per page.
  return new Worker(URL.createObjectURL(bootstrap), options);
}

/** Defines `<bert-attention>` (once per page), its files found relative to `widgetUrl`. */
export function defineBertAttention(widgetUrl: string): void {
  if (typeof customElements === 'undefined' || customElements.get(TAG)) return;

  let engine: SharedEngine | null = null;
  const sharedEngine = (): SharedEngine =>
    (engine ??= new SharedEngine(() => startWorker(widgetUrl), { modelUrl: defaultModel, tokenizerUrl: defaultTokenizer }));
  const defaultModel = new URL(DEFAULT_MODEL_PATH, widgetUrl).href;
  const defaultTokenizer = new URL(DEFAULT_TOKENIZER_PATH, widgetUrl).href;
  const explorerUrl = new URL('./', widgetUrl).href;

  /** One observer for every widget; each waits for its own first sighting. */
  let observer: IntersectionObserver | null = null;
  const onSight = new WeakMap<Element, () => void>();
  function whenNear(element: Element, callback: () => void): () => void {
    if (typeof IntersectionObserver === 'undefined') {
      callback();
      return () => {};
    }
    observer ??= new IntersectionObserver(
      (entries) => {
        for (const entry of entries) {
          if (!entry.isIntersecting) continue;
          observer?.unobserve(entry.target);
          const seen = onSight.get(entry.target);
          onSight.delete(entry.target);
          seen?.();
        }
      },
      { rootMargin: VISIBLE_MARGIN },
    );
    onSight.set(element, callback);
    observer.observe(element);
    return () => {
      onSight.delete(element);
      observer?.unobserve(element);
    };
  }

  class BertAttention extends HTMLElement {
    static get observedAttributes(): string[] {
      return [...ATTRIBUTES];
    }

    readonly #shadow: ShadowRoot;
    readonly #root: HTMLElement;
    readonly #placeholder: HTMLElement;
    readonly #status: HTMLElement;
    readonly #statusText: HTMLElement;
    readonly #progress: HTMLProgressElement;
    readonly #messages: HTMLElement;
    readonly #viewBox: HTMLElement;
    readonly #caption: HTMLElement;
    readonly #captionText: HTMLElement;
    readonly #explore: HTMLAnchorElement;
    #read: ReadSettings | null = null;
    #theme: ThemeName | null = null;
    #shown: Shown | null = null;
    #result: FinishedRun | null = null;
    /** Model, tokenizer and sentences of `#result`, and of the request in flight. */
    #resultKey: string | null = null;
    #requestKey: string | null = null;
    /** A token the reader clicked: the focus word until the attributes change it. */
    /** The word clicked in the figure (and its occurrence), which overrides the focus attribute. */
    #picked: { word: string; occurrence: number } | null = null;
    #near = false;
    #scheduled = false;
    #cancelWatch: (() => void) | null = null;
    #unsubscribe: (() => void) | null = null;
    readonly #scheme = typeof matchMedia === 'function' ? matchMedia('(prefers-color-scheme: dark)') : null;
    readonly #onScheme = (): void => this.#guard(() => this.#theme === 'auto' && this.#draw());

    constructor() {
      super();
      this.#shadow = this.shadowRoot ?? this.attachShadow({ mode: 'open' });
      this.#placeholder = el('div', { className: 'placeholder' });
      this.#statusText = el('span');
      this.#progress = el('progress', { attrs: { max: '1', 'aria-label': 'Model download' } });
      this.#progress.hidden = true;
      this.#status = el('p', { className: 'status', attrs: { 'data-testid': 'widget-status', role: 'status' } }, [this.#statusText, this.#progress]);
      this.#status.hidden = true;
      this.#messages = el('ul', { className: 'messages', attrs: { 'data-testid': 'widget-messages', 'aria-live': 'polite' } });
      this.#messages.hidden = true;
      this.#viewBox = el('div', { className: 'view' });
      this.#viewBox.hidden = true;
      this.#captionText = el('span');
      this.#explore = el('a', { text: 'Open in the explorer ↗', attrs: { target: '_blank', rel: 'noopener' } });
      this.#caption = el('p', { className: 'caption', attrs: { 'data-testid': 'widget-caption' } }, [this.#captionText, document.createTextNode(' · '), this.#explore]);
      this.#caption.hidden = true;
      this.#root = el('div', { className: 'widget', attrs: { 'data-testid': 'widget', 'data-state': 'idle', role: 'figure' } }, [
        this.#placeholder,
        this.#status,
        this.#messages,
        this.#viewBox,
        this.#caption,
      ]);
      this.#shadow.replaceChildren(this.#root);
      this.#setTheme('auto');
    }

    connectedCallback(): void {
      this.#guard(() => {
        this.#scheme?.addEventListener('change', this.#onScheme);
        this.#unsubscribe ??= sharedEngine().subscribe({
          onProgress: (progress, modelUrl) => this.#guard(() => this.#showProgress(progress, modelUrl)),
          onRestart: (restarting) =>
            this.#guard(() => {
              if (!restarting) return;
              this.#requestKey = null;
              this.#schedule();
            }),
        });
        if (!this.#near) {
          this.#cancelWatch?.();
          this.#cancelWatch = whenNear(this, () => {
            this.#near = true;
            this.#cancelWatch = null;
            this.#schedule();
          });
        }
        this.#schedule();
      });
    }

    disconnectedCallback(): void {
      this.#guard(() => {
        this.#scheme?.removeEventListener('change', this.#onScheme);
        this.#cancelWatch?.();
        this.#cancelWatch = null;
        this.#unsubscribe?.();
        this.#unsubscribe = null;
        engine?.forget(this);
        this.#requestKey = null;
      });
    }

    attributeChangedCallback(): void {
      this.#schedule();
    }

    /** Runs `action`; whatever it throws is shown in the widget, never passed to the host page. */
    #guard(action: () => unknown): void {
      try {
        action();
      } catch (e) {
        this.#fail(`Something went wrong: ${messageOf(e)}`);
      }
    }

    /** Updates once after a burst of attribute changes. */
    #schedule(): void {
      if (this.#scheduled) return;
      this.#scheduled = true;
      queueMicrotask(() => {
        this.#scheduled = false;
        this.#guard(() => this.#update());
      });
    }

    #update(): void {
      if (!this.isConnected) return;
      const read = readSettings((name) => this.getAttribute(name), document.baseURI, widgetUrl);
      const before = this.#read?.settings;
      this.#read = read;
      const settings = read.settings;
      this.#setTheme(settings.theme);
      this.#root.setAttribute('aria-label', `Attention in a BERT model: ${settings.sentences.map((s) => `“${s}”`).join(', ')}`);
      if (before && (before.focus !== settings.focus || before.focusNth !== settings.focusNth)) this.#picked = null;
      if (!this.#near) {
        this.#showPlaceholder(settings.sentences);
        this.#showMessages(read.messages);
        return;
      }
      const need = mixingNeed(settings.measure);
      const runKey = (made: MixingNeed): string => JSON.stringify([settings.modelUrl, settings.tokenizerUrl, settings.sentences, made]);
      const key = runKey(need);
      // A run made with more measures (even one the engine could not measure) serves fewer too.
      const served = MIXING_NEEDS.some((made) => serves(made, need) && this.#resultKey === runKey(made));
      if (this.#result && served) this.#draw();
      else if (this.#requestKey !== key) this.#request(key, read);
    }

    #request(key: string, read: ReadSettings): void {
      const { modelUrl, tokenizerUrl, sentences, measure } = read.settings;
      const shared = sharedEngine();
      this.#requestKey = key;
      this.#picked = null;
      this.#showMessages(read.messages);
      const loading = !shared.isLoaded(modelUrl, tokenizerUrl);
      this.#setState(loading ? 'loading' : 'running', loading ? 'Loading the model…' : 'Running the model…');
      shared.run(this, modelUrl, tokenizerUrl, sentences, mixingNeed(measure)).then(
        (result) =>
          this.#guard(() => {
            if (!result || this.#requestKey !== key) return;
            this.#requestKey = null;
            this.#result = result;
            this.#resultKey = key;
            this.#draw();
          }),
        (error: unknown) =>
          this.#guard(() => {
            // A restarting engine asks every widget again (see onRestart): this request is already renewed.
            if (this.#requestKey !== key || (error instanceof EngineStopped && error.restarting)) return;
            this.#requestKey = null;
            // A refused sentence is the input's fault even when the model was loading for this request.
            this.#fail(loading && !isInputError(error) ? `Could not load the model: ${messageOf(error)}` : runFailure(error));
          }),
      );
    }

    /** Draws the result for the current attributes. */
    #draw(): void {
      const read = this.#read;
      const result = this.#result;
      if (!read || !result) return;
      const { settings } = read;
      const { output } = result;
      const [layers, heads] = output.attentionShape;
      const fit = fitToModel(settings, layers, heads);
      // Where the focus word is comes from the engine (see ../words): asked first, drawn once answered.
      const questions = [...focusQuestions(settings.focus, output.batch, settings.focusNth), ...(this.#picked ? [[this.#picked.word, this.#picked.occurrence] as [string, number]] : [])];
      if (!knowsFocus(output.batch.sentences, questions)) {
        this.#lookUp(result, questions);
        return;
      }
      const focus = this.#picked !== null ? { ...this.#picked, message: null } : resolveFocus(settings.focus, output.batch, settings.focusNth);
      if (this.#shown?.view !== settings.view) {
        this.#shown = createShown(settings.view, (sentence, token) => this.#guard(() => this.#pick(sentence, token)));
        this.#viewBox.replaceChildren(this.#shown.element);
      }
      this.#placeholder.hidden = true;
      // Shown before drawing: the views size themselves to the width they get.
      this.#viewBox.hidden = false;
      const measure = drawnMeasure(output, settings.measure);
      this.#shown.draw({
        output,
        layer: fit.layer,
        head: fit.head,
        focusWord: focus.word,
        focusOccurrence: focus.occurrence,
        theme: readTheme(this.#root),
        measure,
        hideSpecial: settings.hideSpecial,
        sharedScale: settings.sharedScale,
        pieces: settings.pieces,
      });
      const refused =
        measure !== settings.measure && output.mixingError !== undefined
          ? [`measure="${settings.measure}" cannot be computed for this model (${output.mixingError}): showing raw attention.`]
          : [];
      this.#showMessages([...read.messages, ...refused, ...fit.messages, ...(focus.message ? [focus.message] : []), ...batchNotices(output.batch)]);
      this.#showCaption(settings.view, fit.layer, layers, fit.head, heads, focus.word, focus.occurrence, measure);
      if (this.#requestKey === null) this.#setState('ready', '');
    }

    /** The focus questions being asked of the engine, and for which result (asked once). */
    #asking: { result: FinishedRun; key: string } | null = null;

    /** Asks the engine where the words of `questions` are in `result`'s sentences, then draws. */
    #lookUp(result: FinishedRun, questions: [string, number][]): void {
      const key = JSON.stringify(questions);
      if (this.#asking?.result === result && this.#asking.key === key) return;
      const asking = { result, key };
      this.#asking = asking;
      lookUpFocus(result.output.batch.sentences, questions, (sentences, word, occurrence) => sharedEngine().findWords(sentences, word, occurrence)).then(
        () =>
          this.#guard(() => {
            if (this.#asking === asking) this.#asking = null;
            if (this.#result === result) this.#draw();
          }),
        (error: unknown) =>
          this.#guard(() => {
            if (this.#asking === asking) this.#asking = null;
            if (!(error instanceof EngineStopped && error.restarting)) this.#fail(`Could not look the focus word up: ${messageOf(error)}`);
          }),
      );
    }

    #pick(sentence: number, token: number): void {
      const encoding = this.#result?.output.batch.sentences[sentence];
      const text = encoding?.tokens[token];
      if (!encoding || text === undefined) return;
      const word = wordAt(encoding, token);
      this.#picked = word ? { word: word.text, occurrence: word.occurrence } : { word: text, occurrence: 1 };
      this.#draw();
    }

    #showCaption(view: WidgetView, layer: number, layers: number, head: HeadChoice, heads: number, focusWord: string, focusOccurrence: number, measure: Measure): void {
      const settings = this.#read?.settings;
      if (!settings) return;
      const which = typeof head === 'number' ? `head ${head + 1} of ${heads}` : `${head} of ${heads} heads`;
      const what =
        measure === 'raw'
          ? which
          : measure === 'norm'
            ? `${head === 'mean' ? `all ${heads} heads together` : which} · attention × value norm (row shares)`
            : measure === 'alti'
              ? `${MEASURE_INFO.alti.label} (no per-head values)`
              : `${MEASURE_INFO['alti-rollout'].label} 1–${layer + 1}`;
      this.#captionText.textContent = `Layer ${layer + 1} of ${layers} · ${what} · computed in your browser by bertscope`;
      const state: ViewState = {
        ...INITIAL_STATE,
        sentences: settings.sentences,
        focusWord,
        focusOccurrence,
        hideSpecial: settings.hideSpecial,
        sharedScale: settings.sharedScale,
        pieces: settings.pieces,
        layer,
        head,
        view: view === 'head' ? 'head' : 'focus',
        sentence: 0,
        measure: settings.measure,
        compare: false,
        ownModel: null,
      };
      const url = new URL(urlWithState(explorerUrl, state));
      if (settings.modelUrl !== defaultModel || settings.tokenizerUrl !== defaultTokenizer) {
        url.searchParams.set('model', settings.modelUrl);
        url.searchParams.set('tokenizer', settings.tokenizerUrl);
      }
      this.#explore.href = url.href;
      this.#caption.hidden = false;
    }

    #showPlaceholder(sentences: readonly string[]): void {
      const quoted = sentences.map((s) => `“${s}”`).join(' · ');
      this.#placeholder.replaceChildren(
        el('strong', { text: 'Where each word looks, in a BERT model' }),
        el('span', { text: quoted }),
        el('span', { text: 'The model loads when you scroll here.' }),
      );
      this.#placeholder.hidden = this.#result !== null;
    }

    #showMessages(messages: readonly string[]): void {
      this.#messages.replaceChildren(...messages.map((text) => el('li', { text })));
      this.#messages.hidden = messages.length === 0;
    }

    #showProgress(progress: Progress, modelUrl: string): void {
      if (this.#root.dataset['state'] !== 'loading' || modelUrl !== this.#read?.settings.modelUrl) return;
      const done = progress.received >= progress.total && progress.total > 0;
      this.#statusText.textContent = progress.fromCache
        ? `Preparing the model (read from the browser cache, ${megabytes(progress.received)} MB)…`
        : done
          ? `Preparing the model (${megabytes(progress.received)} MB downloaded)…`
          : `Downloading the model: ${megabytes(progress.received)}${progress.total > 0 ? ` of ${megabytes(progress.total)}` : ''} MB`;
      this.#progress.hidden = progress.fromCache || done;
      this.#progress.max = Math.max(1, progress.total);
      this.#progress.value = progress.received;
    }

    #setState(state: WidgetState, text: string): void {
      this.#root.dataset['state'] = state;
      this.#root.setAttribute('aria-busy', String(state === 'loading' || state === 'running'));
      this.#status.dataset['kind'] = state;
      this.#status.setAttribute('role', state === 'error' ? 'alert' : 'status');
      this.#statusText.textContent = text;
      this.#progress.hidden = true;
      this.#status.hidden = state === 'ready' || state === 'idle';
      if (state !== 'idle') this.#placeholder.hidden = true;
    }

    /** Shows `text` as the widget's error (keeping any drawing it has). */
    #fail(text: string): void {
      try {
        this.#setState('error', text);
      } catch {
        // Nothing left to do without throwing into the host page.
      }
    }

    #setTheme(theme: ThemeName): void {
      if (theme === this.#theme) return;
      this.#theme = theme;
      this.#shadow.adoptedStyleSheets = widgetSheets(theme);
      this.#root.dataset['theme'] = theme;
    }
  }

  customElements.define(TAG, BertAttention);
}
