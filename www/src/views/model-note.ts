/**
 * What the page says when the view names a model that is not loaded: a link made with a model file
 * its sender dropped in (files cannot travel in a link), or one lost when the engine restarted.
 */
import { el } from './dom';

/** What the note needs to know. */
export interface ModelNote {
  /** The file name the view is about. */
  wanted: string;
  /** The model shown meanwhile. */
  shown: string;
  /** Forget the wanted model and keep the one shown. */
  keepShown: () => void;
}

/** Shows the note in `container`, or hides it when `note` is null. */
export function renderModelNote(container: HTMLElement, note: ModelNote | null): void {
  container.hidden = note === null;
  if (!note) {
    container.replaceChildren();
    return;
  }
  const keep = el('button', { className: 'tool', text: 'Keep the default model', attrs: { type: 'button', 'data-testid': 'keep-shown-model' } });
  keep.addEventListener('click', note.keepShown);
  container.replaceChildren(
    el('p', {
      text:
        `This view was made with “${note.wanted}”, a model file its author dropped into the page. ` +
        `Files cannot travel in a link: to see exactly what they saw, drop the same ${note.wanted} and its tokenizer.json ` +
        `under “Use your own model”. Until then the views show the default model, ${note.shown}.`,
    }),
    keep,
  );
}

/** Opens the “Use your own model” panel inside `container`. */
export function openOwnModelPanel(container: HTMLElement): void {
  const details = container.querySelector('details');
  if (details) details.open = true;
}
