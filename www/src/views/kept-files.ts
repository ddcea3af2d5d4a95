/**
 * “What this browser keeps” (the page's footer): the files the engine keeps for the next visit,
 * with their sizes (the model and tokenizer it downloaded, the smaller copies of dropped models,
 * the prepared engine), and a button that forgets them all. The model in use keeps running; the
 * next visit downloads it again.
 */
import { MODEL_CACHE } from '../engine/download';
import { messageOf } from '../engine/errors';
import { QUANTIZED_CACHE } from '../engine/own-model-protocol';
import { forgetSnapshot, keptEngineBytes } from '../engine/snapshot';
import { el } from './dom';
import { megabytes } from './units';

/** Bytes of every response in the Cache API bucket `name` (0 if there is none). */
async function cachedBytes(name: string): Promise<number> {
  if (typeof caches === 'undefined' || !(await caches.has(name))) return 0;
  const cache = await caches.open(name);
  let bytes = 0;
  for (const request of await cache.keys()) bytes += (await (await cache.match(request))?.blob())?.size ?? 0;
  return bytes;
}

/** What is kept, by what it is for. */
async function keptFiles(): Promise<[string, number][]> {
  const [models, copies, engine] = await Promise.all([cachedBytes(MODEL_CACHE), cachedBytes(QUANTIZED_CACHE), keptEngineBytes()]);
  const kept: [string, number][] = [
    ['Model and tokenizer files it downloaded (asked again of the server on each visit)', models],
    ['Smaller copies of models you dropped in (so that dropping one again loads at once)', copies],
    ['The prepared engine (so that the next visit skips preparing the model)', engine],
  ];
  return kept.filter(([, bytes]) => bytes > 0);
}

/** Fills `details` with what is kept each time it is opened, and forgets it all on request. */
export function bindKeptFiles(details: HTMLDetailsElement): void {
  const body = el('div', { attrs: { 'data-testid': 'kept-list', 'aria-live': 'polite' } });
  details.append(body);
  const show = async (said = ''): Promise<void> => {
    let kept: [string, number][];
    try {
      kept = await keptFiles();
    } catch (e) {
      body.replaceChildren(el('p', { text: `What this browser keeps cannot be read here (${messageOf(e)}).` }));
      return;
    }
    const note = said ? [el('p', { text: said })] : [];
    if (kept.length === 0) {
      body.replaceChildren(...note, el('p', { text: 'Nothing: the next visit downloads the model again.' }));
      return;
    }
    const total = kept.reduce((sum, [, bytes]) => sum + bytes, 0);
    const forget = el('button', { className: 'tool', text: `Forget them (${megabytes(total)})`, attrs: { type: 'button', 'data-testid': 'forget-kept' } });
    forget.addEventListener('click', () => {
      forget.disabled = true;
      void Promise.all([MODEL_CACHE, QUANTIZED_CACHE].map((name) => caches.delete(name)))
        .then(() => forgetSnapshot())
        .then(
          () => show('Forgotten. The model in use keeps running until the page is closed.'),
          (e: unknown) => show(`Not all of it could be forgotten (${messageOf(e)}); the browser's settings for this site can clear it.`),
        );
    });
    body.replaceChildren(...note, el('ul', {}, kept.map(([what, bytes]) => el('li', { text: `${what}: ${megabytes(bytes)}` }))), forget);
  };
  details.addEventListener('toggle', () => {
    if (details.open) void show();
  });
}
