/**
 * The widget's one file. On a page it defines `<bert-attention>`; started as a worker (by the
 * widget itself, from this same URL) it runs the engine. So an author hosts one script (plus the
 * wasm and the model) and a strict CSP needs no blob: workers; the price is that the worker also
 * parses the element's code (a few kB) and the page the wasm glue.
 */
import { serveEngine } from '../engine/serve';
import { defineBertAttention } from './element';

if (typeof WorkerGlobalScope !== 'undefined' && self instanceof WorkerGlobalScope) {
  serveEngine(self as unknown as DedicatedWorkerGlobalScope);
} else {
  defineBertAttention(import.meta.url);
}
