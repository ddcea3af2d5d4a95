/**
 * User Timing measures (`performance.measure`) of what the engine worker does while a model loads
 * and runs, named `bertscope: <phase>`: the JavaScript side (wasm start, file reads, the first run)
 * and the engine's own phases (`takePhases`: decoding, parsing, typing, optimising...). DevTools
 * shows them in the worker's timeline; tests/bench/coldstart.mjs reads them for its breakdown.
 */
import type * as wasm from '../../pkg/bertscope_wasm.js';

/** Most measures kept: beyond, the timeline is cleared, so a long session's runs do not pile up. */
const MAX_MEASURES = 1000;
let measured = 0;

/** Records `name` as lasting from `start` (a `performance.now()`) until `end`, with what `detail` says about it. */
export function measure(name: string, start: number, end = performance.now(), detail?: Record<string, number>): void {
  try {
    if (++measured > MAX_MEASURES) {
      performance.clearMeasures();
      measured = 1;
    }
    performance.measure(`bertscope: ${name}`, { start, end, ...(detail ? { detail } : {}) });
  } catch {
    // A browser without User Timing level 3 times nothing.
  }
}

/** `promise`, recorded as the phase `name` from now until it settles. */
export async function timed<T>(name: string, promise: Promise<T>): Promise<T> {
  const start = performance.now();
  try {
    return await promise;
  } finally {
    measure(name, start);
  }
}

/** Records the phases the engine timed since the last call. */
export function measureEnginePhases(engine: Pick<typeof wasm, 'takePhases'>): void {
  for (const phase of engine.takePhases()) measure(phase.name, phase.start_ms, phase.end_ms);
}
