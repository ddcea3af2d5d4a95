/**
 * In the worker: a run that also reads what the context-mixing measures need, and the measures of
 * each of its sentences, as flat buffers ready to be moved to the page. A model whose layers the
 * engine cannot read for them still runs: the run is then a plain one and says why.
 */
import type * as wasm from '../../pkg/bertscope_wasm.js';
import { messageOf } from './errors';
import type { MixingProgress, SentenceMixing } from './protocol';

/** A batch run, with its sentences' mixing measures or the reason they are missing. */
export interface MixedRun {
  run: wasm.BatchRun;
  mixing?: SentenceMixing[];
  mixingError?: string;
}

/**
 * An engine error (a thrown `Error` from the bindings) is the model's problem and is reported in
 * words; a WebAssembly trap leaves the instance unusable and must reach the engine server.
 */
function rethrowTrap(e: unknown): void {
  if (e instanceof WebAssembly.RuntimeError) throw e;
}

/** One sentence's measures, copied out of the engine (the `Mixing` is freed); ALTI's buffers are empty unless `alti`. */
function measure(engine: wasm.Engine, run: wasm.BatchRun, index: number, alti: boolean, progress: (done: number, total: number) => void): SentenceMixing {
  const mixing = engine.mixing(run, index, alti, progress);
  try {
    const [, , tokens] = Array.from(mixing.shape());
    return {
      tokens: tokens ?? 0,
      normHead: mixing.normHead(),
      normLayer: mixing.normLayer(),
      alti: mixing.alti(),
      altiRollout: mixing.altiRollout(),
      reconstructionError: mixing.reconstructionError(),
    };
  } finally {
    mixing.free();
  }
}

/**
 * Runs `texts` with `runWithMixing` and measures every sentence (ALTI too when `alti`), reporting
 * progress per layer; if the engine cannot (its message), runs them plainly instead.
 */
export function runMixed(engine: wasm.Engine, texts: string[], alti: boolean, onProgress: (progress: MixingProgress) => void): MixedRun {
  let run: wasm.BatchRun;
  try {
    run = engine.runWithMixing(texts);
  } catch (e) {
    rethrowTrap(e);
    return { run: engine.run(texts), mixingError: messageOf(e) };
  }
  try {
    const sentences = run.count();
    const mixing = Array.from({ length: sentences }, (_, sentence) =>
      measure(engine, run, sentence, alti, (done, total) => onProgress({ sentence, sentences, done, total })),
    );
    return { run, mixing };
  } catch (e) {
    rethrowTrap(e);
    return { run, mixingError: messageOf(e) };
  }
}

/** The buffers of `mixing` (to transfer rather than copy). */
export function mixingBuffers(mixing: readonly SentenceMixing[]): ArrayBuffer[] {
  return mixing.flatMap((m) => [m.normHead, m.normLayer, m.alti, m.altiRollout, m.reconstructionError].map((a) => a.buffer as ArrayBuffer));
}
