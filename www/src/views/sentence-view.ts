/** What the views of one sentence (head view, model view) are given to draw. */
import type { HeadChoice } from '../attention';
import type { Theme } from '../draw/colors';
import type { BatchRun } from '../engine/protocol';

/** The run, which sentence of it, and the page's layer, head, focus word and theme. */
export interface SentenceViewOptions {
  output: BatchRun;
  /** Index of the sentence shown. */
  sentence: number;
  layer: number;
  head: HeadChoice;
  focusWord: string;
  theme: Theme;
}

/** Longest sentence text shown in a view's caption. */
export const CAPTION_CHARS = 100;
