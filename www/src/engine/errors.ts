/** Errors in words: what the page, the widget and the worker show for anything thrown. */

/** The message of `e` if it is an `Error`, else `e` as text (errors may be thrown as any value). */
export function messageOf(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}

/** The engine refused the sentences, not the model (a bad pair, no sentence): its message says what to change. */
export class InputError extends Error {
  override name = 'InputError';
}

/** Whether `e`, as the engine threw it, is about the sentences (the wasm bindings name such errors `InputError`). */
export function isInputError(e: unknown): boolean {
  return e instanceof Error && e.name === 'InputError';
}

/** What a failed run says: the engine's message, after "Could not run the model" unless the sentences were at fault. */
export function runFailure(e: unknown): string {
  const message = messageOf(e);
  return isInputError(e) ? message.charAt(0).toUpperCase() + message.slice(1) : `Could not run the model: ${message}`;
}

/**
 * What a WebAssembly trap means, in words, to follow what trapped ("it", "one of its threads"). Rust
 * aborts with `unreachable` when an allocation fails (the 4 GB of a 32-bit memory are used up) or on
 * an internal error; the details go to the console.
 */
export function trapInWords(trap: WebAssembly.RuntimeError): string {
  return trap.message === 'unreachable' ? 'ran out of memory or hit an internal error' : `hit a WebAssembly fault (${trap.message})`;
}
