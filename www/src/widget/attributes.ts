/**
 * The widget's attributes, read and checked. Nothing here throws: every value that cannot be used
 * becomes a short message for the reader and the default in its place.
 */
import { type HeadChoice } from '../attention';
import { findWord } from '../words';
import { isPairLine, splitSentenceList } from '../lines';
import { shorten } from '../draw/canvas';
import type { Batch } from '../engine/protocol';
import { MEASURES, parseMeasure, type Measure } from '../measure';
import { INITIAL_STATE, LAST_LAYER, MAX_SENTENCES, resolveView } from '../state';

/** What the widget can show. */
export const WIDGET_VIEWS = ['focus', 'heatmap', 'head', 'tokens'] as const;
/** One of `WIDGET_VIEWS`. */
export type WidgetView = (typeof WIDGET_VIEWS)[number];

/** Colour themes: `auto` follows the reader's system setting. */
export const THEMES = ['light', 'dark', 'auto'] as const;
/** One of `THEMES`. */
export type ThemeName = (typeof THEMES)[number];

/** Every attribute the widget reads (and redraws for when it changes). */
export const ATTRIBUTES = ['sentences', 'pair', 'focus', 'layer', 'head', 'view', 'measure', 'model', 'tokenizer', 'theme', 'hide-special', 'shared-scale', 'focus-nth', 'pieces'] as const;

/** Where the default model and tokenizer sit, relative to the widget's own file. */
export const DEFAULT_MODEL_PATH = 'models/default/model.onnx';
export const DEFAULT_TOKENIZER_PATH = 'models/default/tokenizer.json';

/** What the attributes ask for, made usable. */
export interface Settings {
  sentences: string[];
  /** The focus word asked for; '' means the default (the first word present in every sentence). */
  focus: string;
  /** `focus-nth`: which occurrence of the focus word (from 1): `focus="bank" focus-nth="2"` is the second “bank”. */
  focusNth: number;
  /** The layer asked for, counted from 1; `null` means the model's last layer. */
  layer: number | null;
  /** The head asked for (counted from 0 here) or the mean or max of all heads. */
  head: HeadChoice;
  view: WidgetView;
  /** What the views draw: raw attention or a context-mixing measure. */
  measure: Measure;
  modelUrl: string;
  tokenizerUrl: string;
  theme: ThemeName;
  /** `hide-special`: drop the `[CLS]`/`[SEP]` columns and renormalise each row. */
  hideSpecial: boolean;
  /** `shared-scale`: one colour scale for all sentences. */
  sharedScale: boolean;
  /** `pieces`: show a focus word of several pieces piece by piece instead of as one word row. */
  pieces: boolean;
}

/** Settings plus the messages about attribute values that were replaced by defaults. */
export interface ReadSettings {
  settings: Settings;
  messages: string[];
}

/** Longest attribute value quoted back in a message. */
const QUOTED_CHARS = 40;

function quote(name: string, value: string): string {
  return `${name}="${shorten(value, QUOTED_CHARS)}"`;
}

/** A positive whole number of at most four digits, or null. */
function positive(value: string): number | null {
  if (!/^\d{1,4}$/.test(value)) return null;
  const n = Number(value);
  return n >= 1 ? n : null;
}

/** An http(s) URL resolved against `base`, or null. */
function httpUrl(value: string, base: string): string | null {
  try {
    const url = new URL(value, base);
    return url.protocol === 'http:' || url.protocol === 'https:' ? url.href : null;
  } catch {
    return null;
  }
}

/**
 * Reads the attributes through `attr`. Relative `model` and `tokenizer` URLs resolve against the
 * host page (`pageUrl`); the defaults sit beside the widget's own file (`widgetUrl`).
 */
export function readSettings(attr: (name: string) => string | null, pageUrl: string, widgetUrl: string): ReadSettings {
  const messages: string[] = [];
  const text = (name: string): string | null => {
    const value = attr(name);
    return value === null ? null : value.trim();
  };

  let sentences = [...INITIAL_STATE.sentences];
  const sentencesText = attr('sentences');
  // Sentences separated by `|`; `\|` is a bar inside a sentence, as in the page's fields.
  const given = sentencesText === null ? [] : splitSentenceList(sentencesText).map((s) => s.trim()).filter(Boolean);
  if (sentencesText !== null) {
    if (given.length === 0) messages.push('sentences="" has no sentence: showing the default sentences.');
    else if (given.length > MAX_SENTENCES) {
      messages.push(`sentences has ${given.length} sentences; a widget shows at most ${MAX_SENTENCES}: showing the first ${MAX_SENTENCES}.`);
      sentences = given.slice(0, MAX_SENTENCES);
    } else sentences = given;
  }
  // `pair="A | B"`: one sentence pair, written as in the page's sentence fields (`\|` is a bar
  // inside a sentence), shown after the `sentences` given (instead of the default ones).
  const pairText = text('pair');
  if (pairText) {
    if (!isPairLine(pairText)) messages.push(`${quote('pair', pairText)} has no “|” between two sentences: showing it as one sentence.`);
    sentences = [...given.slice(0, MAX_SENTENCES - 1), pairText];
  }

  let layer: number | null = null;
  const layerText = text('layer');
  if (layerText) {
    layer = positive(layerText);
    if (layer === null) messages.push(`${quote('layer', layerText)} is not a layer number (1, 2, …): showing the last layer.`);
  }

  let head: HeadChoice = 'mean';
  const headText = text('head')?.toLowerCase();
  if (headText) {
    const n = positive(headText);
    if (headText === 'mean' || headText === 'max') head = headText;
    else if (n !== null) head = n - 1;
    else messages.push(`${quote('head', headText)} is not a head number or "mean": showing the mean of all heads.`);
  }

  let view: WidgetView = 'focus';
  const viewText = text('view')?.toLowerCase();
  if (viewText) {
    if ((WIDGET_VIEWS as readonly string[]).includes(viewText)) view = viewText as WidgetView;
    else messages.push(`${quote('view', viewText)} is not one of ${WIDGET_VIEWS.join(', ')}: showing focus.`);
  }

  let measure: Measure = 'raw';
  const measureText = text('measure');
  if (measureText) {
    const parsed = parseMeasure(measureText);
    if (parsed) measure = parsed;
    else messages.push(`${quote('measure', measureText)} is not one of ${MEASURES.join(', ')}: showing raw attention.`);
  }

  let theme: ThemeName = 'auto';
  const themeText = text('theme')?.toLowerCase();
  if (themeText) {
    if ((THEMES as readonly string[]).includes(themeText)) theme = themeText as ThemeName;
    else messages.push(`${quote('theme', themeText)} is not light, dark or auto: using auto.`);
  }

  let modelUrl = new URL(DEFAULT_MODEL_PATH, widgetUrl).href;
  let tokenizerUrl = new URL(DEFAULT_TOKENIZER_PATH, widgetUrl).href;
  const modelText = text('model');
  if (modelText) {
    const url = httpUrl(modelText, pageUrl);
    if (url) {
      modelUrl = url;
      tokenizerUrl = new URL('tokenizer.json', url).href; // beside the model, unless told otherwise
    } else messages.push(`${quote('model', modelText)} is not an http(s) URL: using the default model.`);
  }
  const tokenizerText = text('tokenizer');
  if (tokenizerText) {
    const url = httpUrl(tokenizerText, pageUrl);
    if (url) tokenizerUrl = url;
    else messages.push(`${quote('tokenizer', tokenizerText)} is not an http(s) URL: using ${modelText ? 'tokenizer.json beside the model' : 'the default tokenizer'}.`);
  }

  // Boolean attributes: present (any value but "false") means on.
  const flag = (name: string): boolean => {
    const value = text(name);
    return value !== null && value.toLowerCase() !== 'false';
  };
  const hideSpecial = flag('hide-special');
  const sharedScale = flag('shared-scale');
  const pieces = flag('pieces');

  let focusNth = 1;
  const nthText = text('focus-nth');
  if (nthText) {
    const n = positive(nthText);
    if (n !== null) focusNth = n;
    else messages.push(`${quote('focus-nth', nthText)} is not an occurrence number (1, 2, …): showing the first occurrence.`);
  }
  return { settings: { sentences, focus: text('focus') ?? '', focusNth, layer, head, view, measure, modelUrl, tokenizerUrl, theme, hideSpecial, sharedScale, pieces }, messages };
}

/**
 * The layer (counted from 0) and head to draw for a model of `layers` × `heads` (fitted by
 * `resolveView`), with messages for what does not exist.
 */
export function fitToModel(settings: Settings, layers: number, heads: number): { layer: number; head: HeadChoice; messages: string[] } {
  const asked = { layer: settings.layer === null ? LAST_LAYER : settings.layer - 1, head: settings.head };
  const { layer, head, missingLayer, missingHead } = resolveView(asked, { layers, heads });
  const messages: string[] = [];
  if (missingLayer !== null) messages.push(`layer="${missingLayer + 1}" does not exist: this model has layers 1–${layers}. Showing layer ${layers}.`);
  if (missingHead !== null) messages.push(`head="${missingHead + 1}" does not exist: this model has heads 1–${heads}. Showing the mean of all heads.`);
  return { layer, head, messages };
}

/** The first word (its pieces together) of the first sentence that every non-empty sentence contains; else its first word. */
export function defaultFocus(batch: Batch): string {
  const sentences = batch.sentences.filter((s) => s.words.length > 0);
  const first = sentences[0];
  if (!first) return '';
  const words = first.words.map((w) => w.text);
  return words.find((word) => sentences.every((s) => s.words.some((w) => w.text === word))) ?? words[0] ?? '';
}

/** The (word, occurrence) pairs `resolveFocus` reads the engine's answers for: what must be looked up before it runs (see ../words). */
export function focusQuestions(asked: string, batch: Batch, nth = 1): [string, number][] {
  const questions: [string, number][] = [[defaultFocus(batch), 1]];
  if (asked) questions.push([asked, nth], [asked, 1]);
  return questions;
}

/**
 * The focus word (and its occurrence, from 1) to draw, from the engine's answers to
 * `focusQuestions`: the `nth` one asked for if some sentence has it; the first occurrence (with a message) if no sentence has it that often; else the default
 * (with a message).
 */
export function resolveFocus(asked: string, batch: Batch, nth = 1): { word: string; occurrence: number; message: string | null } {
  const fallback = defaultFocus(batch);
  if (!asked) return { word: fallback, occurrence: 1, message: null };
  const has = (occurrence: number): boolean => batch.sentences.some((s) => findWord(s, asked, occurrence).word !== null);
  if (has(nth)) return { word: asked, occurrence: nth, message: null };
  if (has(1)) return { word: asked, occurrence: 1, message: `focus-nth="${nth}": no sentence has “${shorten(asked, QUOTED_CHARS)}” ${nth} times: showing its first occurrence.` };
  const instead = fallback ? `showing “${fallback}”` : 'showing no focus word';
  return { word: fallback, occurrence: 1, message: `${quote('focus', asked)} is not a word of any sentence: ${instead}.` };
}
