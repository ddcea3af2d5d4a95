/** What the measured views draw from. */
import type { HeadChoice } from '../attention';
import type { Theme } from '../draw/colors';
import type { BatchRun } from '../engine/protocol';
import type { Measure } from '../measure';

/** The run and the page's layer, head, focus word, theme and measure: what every measured view draws from. */
export interface ViewInput {
  output: BatchRun;
  layer: number;
  head: HeadChoice;
  focusWord: string;
  theme: Theme;
  /** What the view draws (raw attention when the run lacks the measure). */
  measure: Measure;
}
