/**
 * The view state in the page URL, so a link restores what its sender saw:
 * `?s=…&s=…&focus=apple&nth=2&pieces=on&zoom=140&rollout-layer=3&heads=1,4&layer=6&head=mean&view=head&sentence=2&measure=norm` (layers, heads and
 * sentences counted from 1, as people count; `compare=off` when the focus view shows the measure
 * alone), and `ownmodel=NAME` when the view is of a model file the user
 * dropped in (only its name can travel). Other parameters (`model`, `tokenizer`, `name`: the
 * page's model) are kept, so they travel too.
 *
 * Long sentences would make an address the server refuses (HTTP 431 or 414: nginx allows 8 KB of
 * request headers), and the page could no longer be reloaded. Past `MAX_QUERY_URL_BYTES` the
 * sentences go in the fragment (`#s=…&s=…`, never sent to the server); past `MAX_LINK_BYTES`
 * they are kept in this browser (saved-sentences.ts) and the address names them (`saved=KEY`).
 */
import { LAST_LAYER, MAX_SENTENCES, VIEWS, type ViewName, type ViewState } from './state';
import type { HeadChoice } from './attention';
import { parseMeasure } from './measure';

/** Parameters this module owns. */
const KEYS = ['s', 'saved', 'focus', 'nth', 'hide-special', 'shared-scale', 'pieces', 'zoom', 'rollout-layer', 'heads', 'layer', 'head', 'view', 'sentence', 'measure', 'compare', 'ownmodel'] as const;
/** Longest own-model name a link carries. */
const MAX_NAME = 200;

/** "1,3,7" (heads counted from 1) as 0-based heads, ascending and distinct; "none" is no head; null if it is neither. */
function headList(value: string | null): number[] | null {
  if (value === 'none') return [];
  if (value === null || !/^\d{1,3}(,\d{1,3}){0,63}$/.test(value)) return null;
  const heads = value.split(',').map(Number);
  if (heads.some((h) => h < 1)) return null;
  return Array.from(new Set(heads.map((h) => h - 1))).sort((a, b) => a - b);
}

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
  const rolloutLayer = positive(params.get('rollout-layer'));
  const ownModel = params.get('ownmodel')?.trim().slice(0, MAX_NAME) || null;
  return {
    sentences: chosen,
    focusWord: params.get('focus') ?? defaults.focusWord,
    focusOccurrence: positive(params.get('nth')) ?? (params.has('focus') ? 1 : defaults.focusOccurrence),
    hideSpecial: params.has('hide-special') ? params.get('hide-special') !== 'off' : defaults.hideSpecial,
    sharedScale: params.has('shared-scale') ? params.get('shared-scale') !== 'off' : defaults.sharedScale,
    pieces: params.has('pieces') ? params.get('pieces') !== 'off' : defaults.pieces,
    zoom: positive(params.get('zoom')) ?? defaults.zoom,
    rolloutLayer: rolloutLayer !== null ? rolloutLayer - 1 : defaults.rolloutLayer,
    heads: params.has('heads') ? headList(params.get('heads')) : defaults.heads,
    layer: layer !== null ? layer - 1 : defaults.layer,
    head,
    view,
    sentence: sentence !== null ? Math.min(sentence - 1, chosen.length - 1) : Math.min(defaults.sentence, chosen.length - 1),
    measure: parseMeasure(params.get('measure')) ?? defaults.measure,
    compare: params.has('compare') ? params.get('compare') !== 'off' : defaults.compare,
    ownModel: ownModel ?? defaults.ownModel,
  };
}

/** Longest address, in bytes, whose query carries the sentences (an address is ASCII once percent-encoded). */
export const MAX_QUERY_URL_BYTES = 2_000;
/** Longest address carrying the sentences in its fragment: longer links break in mail and chat. */
export const MAX_LINK_BYTES = 16_000;

/** Where an address keeps the sentences: in itself (query or fragment), in this browser's storage under `saved`, or nowhere. */
export type SentencesIn = 'address' | { saved: string } | 'nowhere';

/** Where `href` carries its sentences: its query, its fragment, this browser's storage (`saved=`), or none. */
export function sentencePlace(href: string): 'query' | 'fragment' | 'saved' | 'none' {
  const url = new URL(href);
  if (url.searchParams.has('s')) return 'query';
  if (new URLSearchParams(url.hash.slice(1)).has('s')) return 'fragment';
  return url.searchParams.has('saved') ? 'saved' : 'none';
}

/**
 * The view state of an address: `stateFromSearch`, with the sentences of its fragment, or of this
 * browser's storage (`read`) when it names saved ones. `lostSaved`: it named saved sentences this
 * browser does not hold (the defaults are shown).
 */
export function stateFromAddress(
  address: { search: string; hash: string },
  defaults: ViewState,
  read: (key: string) => string[] | null,
): { state: ViewState; lostSaved: boolean } {
  const params = new URLSearchParams(address.search);
  const inFragment = new URLSearchParams(address.hash.slice(1)).getAll('s');
  const key = params.get('saved');
  const saved = inFragment.length === 0 && key !== null ? read(key) : null;
  const sentences = inFragment.length > 0 ? inFragment : saved;
  if (sentences) {
    params.delete('s');
    for (const text of sentences) params.append('s', text);
  }
  return { state: stateFromSearch(params.toString(), defaults), lostSaved: key !== null && inFragment.length === 0 && saved === null };
}

/**
 * `href` with the view state written into its query string (other parameters kept). The sentences
 * go in the query while the address stays within `MAX_QUERY_URL_BYTES`, else in the fragment;
 * `sentences` may instead name saved ones, or leave them out.
 */
export function urlWithState(href: string, state: ViewState, sentences: SentencesIn = 'address'): string {
  const url = new URL(href);
  const params = url.searchParams;
  for (const key of KEYS) params.delete(key);
  if (new URLSearchParams(url.hash.slice(1)).has('s')) url.hash = '';
  if (sentences === 'address') for (const text of state.sentences) params.append('s', text);
  else if (sentences !== 'nowhere') params.set('saved', sentences.saved);
  params.set('focus', state.focusWord);
  if (state.focusOccurrence > 1) params.set('nth', String(state.focusOccurrence));
  if (state.hideSpecial) params.set('hide-special', 'on');
  if (state.sharedScale) params.set('shared-scale', 'on');
  if (state.pieces) params.set('pieces', 'on');
  if (state.zoom !== 100) params.set('zoom', String(state.zoom));
  if (state.rolloutLayer !== null) params.set('rollout-layer', String(state.rolloutLayer + 1));
  if (state.heads !== null) params.set('heads', state.heads.length ? state.heads.map((h) => h + 1).join(',') : 'none');
  if (state.layer !== LAST_LAYER) params.set('layer', String(state.layer + 1));
  params.set('head', typeof state.head === 'number' ? String(state.head + 1) : state.head);
  params.set('view', state.view);
  params.set('sentence', String(state.sentence + 1));
  params.set('measure', state.measure);
  if (!state.compare) params.set('compare', 'off');
  if (state.ownModel !== null) params.set('ownmodel', state.ownModel);
  url.search = params.toString();
  if (sentences === 'address' && url.href.length > MAX_QUERY_URL_BYTES) {
    params.delete('s');
    url.search = params.toString();
    const fragment = new URLSearchParams();
    for (const text of state.sentences) fragment.append('s', text);
    url.hash = fragment.toString();
  }
  return url.href;
}
