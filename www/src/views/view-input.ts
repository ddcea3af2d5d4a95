/** What the measured views draw from. */
import type { HeadChoice } from '../attention';
import type { Theme } from '../draw/colors';
import type { BatchRun } from '../engine/protocol';
import type { Measure } from '../measure';

/** The run and the page's layer, head, focus word (and its occurrence), theme and measure: what every measured view draws from. */
export interface ViewInput {
  output: BatchRun;
  layer: number;
  head: HeadChoice;
  focusWord: string;
  /** Which occurrence of the focus word (from 1). */
  focusOccurrence: number;
  theme: Theme;
  /** What the view draws (raw attention when the run lacks the measure). */
  measure: Measure;
  /** Drop the `[CLS]`/`[SEP]` columns and renormalise each row (see ../specials; default false). */
  hideSpecial?: boolean;
  /** One colour scale for all sentences (default: each drawing its own). */
  sharedScale?: boolean;
  /** Show a focus word of several pieces piece by piece instead of as one word row (focus and rollout views; default false). */
  pieces?: boolean;
}
