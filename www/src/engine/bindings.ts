/**
 * The wasm bindings the engine worker calls: the single-thread build, bundled, until
 * `useBindings` switches to the threaded one (threads.ts, page only). The names are live
 * bindings, so `import * as wasm from './bindings'` always sees the build in use. Both builds
 * come from the same Rust code and declare the same types.
 */
import * as single from '../../pkg/bertscope_wasm.js';

export type { AttentionChange, BatchRun, HeldAttention, InitOutput, Quantized, QuantizeReport } from '../../pkg/bertscope_wasm.js';

/** What a build of the bindings offers (the single-thread build's module). */
export type Bindings = typeof single;

export let Engine = single.Engine;
export type Engine = single.Engine;
export let FileBytes = single.FileBytes;
export type FileBytes = single.FileBytes;
export let findWord = single.findWord;
export let attentionChange = single.attentionChange;
export let quantize = single.quantize;
export let takePhases = single.takePhases;

/** Initialises the single-thread build from `wasmUrl`. */
export function initSingle(wasmUrl: URL): Promise<single.InitOutput> {
  return single.default({ module_or_path: wasmUrl });
}

/** Makes `glue` (initialised) the bindings every caller uses from now on. */
export function useBindings(glue: Bindings): void {
  Engine = glue.Engine;
  FileBytes = glue.FileBytes;
  findWord = glue.findWord;
  attentionChange = glue.attentionChange;
  quantize = glue.quantize;
  takePhases = glue.takePhases;
}
