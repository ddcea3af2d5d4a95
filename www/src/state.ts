/** Page configuration from the URL, and the explorer's view state with change notification. */
import type { HeadChoice } from './attention';
import { mixingNeed, widerNeed, type Measure, type MixingNeed } from './measure';

/** Where the model comes from and what to call it. */
export interface Config {
  modelUrl: string;
  tokenizerUrl: string;
  modelName: string;
}

const DEFAULT_MODEL = './models/default/model.onnx';
const DEFAULT_TOKENIZER = './models/default/tokenizer.json';
/** The name of the model `scripts/run` links as the default, given to the build by `build_page`. */
const DEFAULT_NAME: string = import.meta.env['VITE_DEFAULT_MODEL_NAME'] || 'the default model';

/** The page's own model (the one `build_page` links), its URLs made absolute against the page. */
export function defaultConfig(location: Location): Config {
  return { modelUrl: new URL(DEFAULT_MODEL, location.href).href, tokenizerUrl: new URL(DEFAULT_TOKENIZER, location.href).href, modelName: DEFAULT_NAME };
}

/** Reads `?model=`, `?tokenizer=` and `?name=`; URLs are made absolute against the page. */
export function readConfig(location: Location): Config {
  const params = new URLSearchParams(location.search);
  const absolute = (value: string | null, fallback: string): string => new URL(value || fallback, location.href).href;
  return {
    modelUrl: absolute(params.get('model'), DEFAULT_MODEL),
    tokenizerUrl: absolute(params.get('tokenizer'), DEFAULT_TOKENIZER),
    modelName: params.get('name') || DEFAULT_NAME,
  };
}

/** `ViewState.layer` value meaning "the model's last layer", whatever its depth. */
export const LAST_LAYER = -1;

/** Most sentences the page compares at once. */
export const MAX_SENTENCES = 4;

/** The views the page can show. */
export const VIEWS = ['focus', 'head', 'model', 'rollout', 'drift'] as const;

/** One of `VIEWS`. */
export type ViewName = (typeof VIEWS)[number];

/** What the user chose to look at. */
export interface ViewState {
  sentences: string[];
  focusWord: string;
  /** Which occurrence of the focus word (from 1): the 2nd "bank" of "the bank near the river bank". */
  focusOccurrence: number;
  /** 0-based, or `LAST_LAYER`. */
  layer: number;
  head: HeadChoice;
  view: ViewName;
  /** 0-based index of the sentence the head and model views show. */
  sentence: number;
  /** What every view draws: raw attention or a context-mixing measure. */
  measure: Measure;
  /** Whether the focus view drops the `[CLS]`/`[SEP]` columns and renormalises each row. */
  hideSpecial: boolean;
  /** Whether the focus view's sentences share one colour scale. */
  sharedScale: boolean;
  /** Whether the focus and rollout views show a word of several pieces piece by piece instead of as one word row. */
  pieces: boolean;
  /** The focus view heatmaps' zoom, in percent of the size that fits (100). */
  zoom: number;
  /** The rollout view's layer (0-based), or null to follow `layer`. */
  rolloutLayer: number | null;
  /** The heads the head view draws (0-based, ascending), or null for those the head choice implies. */
  heads: number[] | null;
  /** Whether the focus view pairs the measure with its counterpart (raw attention with the norm-based view, any other measure with raw attention). */
  compare: boolean;
  /**
   * The file name of the user's own model the view is about, or null for the page's model (the
   * default, or `?model=`). Files cannot travel in a link, so a link only names it.
   */
  ownModel: string | null;
}

/** How many layers and heads a model has: what a view's layer and head must fit. */
export interface ModelSize {
  layers: number;
  heads: number;
}

/** A view's layer and head made to exist in one model, and what was asked for that does not. */
export interface ResolvedView {
  /** 0-based, within the model. */
  layer: number;
  head: HeadChoice;
  /** The layer asked for (0-based) when the model has no such layer; `layer` is then the last. */
  missingLayer: number | null;
  /** The head asked for (0-based) when the model has no such head; `head` is then the mean. */
  missingHead: number | null;
}

/**
 * The one place a view's layer and head are fitted to a model: `LAST_LAYER` (any negative layer)
 * and a layer past the last become the last layer; a head the model lacks becomes the mean of
 * heads. The `missing…` fields say what was replaced, for callers that explain it (the widget);
 * the page replaces silently.
 */
export function resolveView(view: Pick<ViewState, 'layer' | 'head'>, model: ModelSize): ResolvedView {
  const last = model.layers - 1;
  const missingLayer = view.layer > last ? view.layer : null;
  const missingHead = typeof view.head === 'number' && (view.head < 0 || view.head >= model.heads) ? view.head : null;
  return {
    layer: view.layer < 0 || missingLayer !== null ? last : view.layer,
    head: missingHead === null ? view.head : 'mean',
    missingLayer,
    missingHead,
  };
}

/** The state the page starts in. */
export const INITIAL_STATE: ViewState = {
  sentences: ['Apple is huge enterprise', 'I am eating an apple'],
  focusWord: 'apple',
  focusOccurrence: 1,
  hideSpecial: false,
  sharedScale: false,
  pieces: false,
  zoom: 100,
  rolloutLayer: null,
  heads: null,
  // The last layer, averaged over heads: where the default model's "apple" looks at
  // "enterprise" in one sentence and at "eating" in the other.
  layer: LAST_LAYER,
  head: 'mean',
  view: 'focus',
  sentence: 0,
  // Raw attention, paired in the focus view with what is actually mixed: the front page's story.
  measure: 'raw',
  compare: true,
  ownModel: null,
};

/** The measure the focus view pairs with `measure` when comparing: the norm-based view for raw attention, else raw attention. */
export function counterpart(measure: Measure): Measure {
  return measure === 'raw' ? 'norm' : 'raw';
}

/**
 * What `state` needs the engine to compute besides attention: its measure's; the norm-based one for
 * the focus view's comparison; ALTI for the rollout tab under any mixing measure (it sets ALTI
 * rollout beside attention rollout).
 */
export function stateMixingNeed(state: Pick<ViewState, 'measure' | 'compare' | 'view'>): MixingNeed {
  const own = state.view === 'rollout' && state.measure !== 'raw' ? 'alti' : mixingNeed(state.measure);
  return widerNeed(own, state.compare && state.view === 'focus' ? 'norm' : 'none');
}

/** Holds a value and tells subscribers about every change. */
export class Store<T extends object> {
  private readonly listeners = new Set<(value: T, previous: T) => void>();

  constructor(private value: T) {}

  /** The current value. */
  get(): T {
    return this.value;
  }

  /** Merges `patch` into the value and notifies subscribers. */
  set(patch: Partial<T>): void {
    const previous = this.value;
    this.value = { ...previous, ...patch };
    for (const listener of this.listeners) listener(this.value, previous);
  }

  /** Calls `listener` after every change; returns the unsubscribe function. */
  subscribe(listener: (value: T, previous: T) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }
}
