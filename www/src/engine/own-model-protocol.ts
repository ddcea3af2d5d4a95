/**
 * The messages about the user's own model files: loading a dropped file (or the int8 copy this
 * browser made of it before), and making an fp32 file about 4× smaller with the engine's
 * weight-only int8 quantizer, measuring on the page's sentences how far that moves attention.
 * Files cross as `Blob`s (handles, not bytes): the worker reads them straight into wasm memory.
 */
import type { AttentionChange, ModelInfo, QuantizeReport } from '../../pkg/bertscope_wasm.js';

export type { AttentionChange, QuantizeReport } from '../../pkg/bertscope_wasm.js';

/** Cache API bucket holding the int8 copies of dropped files and their records. */
export const QUANTIZED_CACHE = 'bertscope-quantized-v1';

/** What was done to one file, kept beside its int8 copy in the browser's cache. */
export interface QuantizedRecord {
  /** The dropped file's name. */
  name: string;
  /** SHA-256 of the dropped file, hex: the cache key. */
  sha256: string;
  /** Sizes and the tensors stored as int8. */
  report: QuantizeReport;
  /** The largest attention change between the file and its int8 copy on `texts`. */
  change: AttentionChange | null;
  /** The tokens at the largest change (query, then key). */
  changeTokens: [string, string] | null;
  /** The sentences the change was measured on. */
  texts: string[];
  /** When the copy was made (ISO 8601). */
  made: string;
}

/** What happens while a file is read, measured, quantized and loaded. */
export type OwnModelStage = 'reading' | 'measuring' | 'quantizing' | 'loading' | 'checking';

/** Requests about the user's own model files. */
export type OwnModelRequest =
  /** Loads `model` with `tokenizer`; when `reuse`, loads the int8 copy made of it before instead, if the cache holds one. */
  | { type: 'load-own'; id: number; model: Blob; tokenizer: Blob; reuse: boolean }
  /** Quantizes the loaded own fp32 model (`model` is its file again) and loads the result. */
  | { type: 'quantize'; id: number; model: Blob; texts: string[] };

/** Replies to `OwnModelRequest`s (failures are `error` replies). `wasmBytes`: the engine's memory afterwards (it only grows: its peak so far). */
export type OwnModelReply =
  | { type: 'own-progress'; id: number; stage: OwnModelStage; done: number; total: number }
  /** `reused`: the cached int8 copy was loaded in place of the file. `sha256` is null where the browser cannot hash (insecure context). */
  | { type: 'own-loaded'; id: number; info: ModelInfo; sha256: string | null; reused: QuantizedRecord | null; wasmBytes: number }
  /** `kept`: null if stored in the cache, else why not. `reused`: the cache already held the copy (not quantized again). */
  | { type: 'quantized'; id: number; info: ModelInfo; record: QuantizedRecord; kept: string | null; reused: boolean; wasmBytes: number };
