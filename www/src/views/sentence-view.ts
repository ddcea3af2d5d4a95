/** What the views of one sentence (head view, model view) are given to draw, and the frame around their figure. */
import { isBlank } from '../attention';
import { shorten } from '../draw/canvas';
import type { Encoding } from '../engine/protocol';
import { el } from './dom';
import { Readout } from './readout';
import type { ViewInput } from './view-input';

/** The run, which sentence of it, and the page's layer, head, focus word, measure and theme. */
export interface SentenceViewOptions extends ViewInput {
  /** Index of the sentence shown. */
  sentence: number;
}

/** Longest sentence text shown in a view's caption. */
export const CAPTION_CHARS = 100;

/** How a `SentenceFrame` is built: its read-out, and any controls between the caption and the read-out. */
export interface FrameParts {
  /** `data-testid` of the read-out line. */
  readoutId: string;
  /** What the read-out says while nothing is pointed at. */
  idle: string;
  /** Announce read-out changes to screen readers (for read-outs driven by the keyboard). */
  live?: boolean;
  above?: readonly HTMLElement[];
}

/** The sentence a `SentenceFrame` shows. */
export interface FramedSentence {
  /** Its index in the batch (the one asked for, kept within the batch). */
  index: number;
  sentence: Encoding;
  /** It has no words: the frame shows a message instead of the figure. */
  blank: boolean;
}

/**
 * What a one-sentence view puts around its figure, in `container`: a caption naming the sentence,
 * the read-out line, and the message shown in place of the figure when the sentence is empty.
 */
export class SentenceFrame {
  readonly readout: Readout;
  private readonly caption = el('p', { className: 'view-caption' });
  private readonly message = el('p', { className: 'focus-summary muted' });

  constructor(
    container: HTMLElement,
    private readonly figure: HTMLElement,
    parts: FrameParts,
  ) {
    this.readout = new Readout(parts.readoutId, parts.idle, parts.live);
    this.message.hidden = true;
    container.replaceChildren(this.caption, ...(parts.above ?? []), this.readout.element, this.message, figure);
  }

  /** The caption's text, as shown. */
  captionText(): string {
    return this.caption.textContent ?? '';
  }

  /** Shows the sentence `options` asks for, captioned `Sentence N: “text” · about`; an empty one gets the message instead of the figure. */
  show(options: SentenceViewOptions, about: string): FramedSentence {
    const sentences = options.output.batch.sentences;
    const index = Math.min(options.sentence, sentences.length - 1);
    const sentence = sentences[index]!;
    this.caption.textContent = `Sentence ${index + 1}: “${shorten(sentence.text, CAPTION_CHARS)}” · ${about}`;
    const blank = isBlank(sentence);
    this.message.hidden = !blank;
    this.message.textContent = blank ? `Sentence ${index + 1} is empty: type a few words to see its heads.` : '';
    this.figure.hidden = blank;
    this.readout.element.hidden = blank;
    return { index, sentence, blank };
  }
}
