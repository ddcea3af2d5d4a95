/**
 * The view state in the page URL, so a link restores what its sender saw:
 * `?s=…&s=…&focus=apple&layer=6&head=mean&view=head&sentence=2&measure=norm` (layers, heads and
 * sentences counted from 1, as people count; `compare=off` when the focus view shows the measure
 * alone), and `ownmodel=NAME` when the view is of a model file the user
 * dropped in (only its name can travel). Other parameters (`model`, `tokenizer`, `name`: the
 * page's model) are kept, so they travel too.
 */
import { LAST_LAYER, MAX_SENTENCES, VIEWS, type ViewName, type ViewState } from './state';
import type { HeadChoice } from './attention';
import { parseMeasure } from './measure';

/** Parameters this module owns. */
const KEYS = ['s', 'focus', 'layer', 'head', 'view', 'sentence', 'measure', 'compare', 'ownmodel'] as const;
/** Longest own-model name a link carries. */
const MAX_NAME = 200;

function positive(value: string | null): number | null {
  if (value === null || !/^\d{1,4}$/.test(value)) return null;
  const n = Number(value);
  return n >= 1 ? n : null;
}

/** Reads the view state from a query string, taking `defaults` for what it does not say. */
export function stateFromSearch(search: string, defaults: ViewState): ViewState {
  const params = new URLSearchParams(search);
  const sentences = params.getAll('s').slice(0, MAX_SENTENCES);
  const layer = positive(params.get('layer'));
  const headText = params.get('head');
  const headNumber = positive(headText);
  const head: HeadChoice =
    headText === 'mean' || headText === 'max' ? headText : headNumber !== null ? headNumber - 1 : defaults.head;
  const viewText = params.get('view');
  const view = (VIEWS as readonly string[]).includes(viewText ?? '') ? (viewText as ViewName) : defaults.view;
  const chosen = sentences.length ? sentences : defaults.sentences;
  const sentence = positive(params.get('sentence'));
  const ownModel = params.get('ownmodel')?.trim().slice(0, MAX_NAME) || null;
  return {
    sentences: chosen,
    focusWord: params.get('focus') ?? defaults.focusWord,
    layer: layer !== null ? layer - 1 : defaults.layer,
    head,
    view,
    sentence: sentence !== null ? Math.min(sentence - 1, chosen.length - 1) : Math.min(defaults.sentence, chosen.length - 1),
    measure: parseMeasure(params.get('measure')) ?? defaults.measure,
    compare: params.has('compare') ? params.get('compare') !== 'off' : defaults.compare,
    ownModel: ownModel ?? defaults.ownModel,
  };
}

/** `href` with the view state written into its query string (other parameters kept). */
export function urlWithState(href: string, state: ViewState): string {
  const url = new URL(href);
  const params = url.searchParams;
  for (const key of KEYS) params.delete(key);
  for (const text of state.sentences) params.append('s', text);
  params.set('focus', state.focusWord);
  if (state.layer !== LAST_LAYER) params.set('layer', String(state.layer + 1));
  params.set('head', typeof state.head === 'number' ? String(state.head + 1) : state.head);
  params.set('view', state.view);
  params.set('sentence', String(state.sentence + 1));
  params.set('measure', state.measure);
  if (!state.compare) params.set('compare', 'off');
  if (state.ownModel !== null) params.set('ownmodel', state.ownModel);
  url.search = params.toString();
  return url.href;
}
