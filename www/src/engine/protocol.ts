/** Messages between the page and the engine worker, and the data shapes they carry. */
import type { Batch, ModelInfo } from '../../pkg/bertscope_wasm.js';
import type { AnalysisReply, AnalysisRequest, RunAnalysis } from './analysis-protocol';

/**
 * The engine's own types (`ModelInfo`, `Batch`, `Encoding`: one tokenized sentence padded to the
 * batch's length), declared by the wasm bindings from the Rust types: never mirrored by hand.
 */
export type { Batch, Encoding, ModelInfo } from '../../pkg/bertscope_wasm.js';

/** `[layers, heads, queries, keys]` of each sentence's attention buffer. */
export type AttentionShape = [number, number, number, number];

/**
 * The page's copy of the engine's `BatchRun`: the batch and one flat `[L][H][n][n]` attention
 * buffer per sentence, moved out of the worker.
 */
export interface BatchRun {
  batch: Batch;
  attentionShape: AttentionShape;
  attentions: Float32Array[];
  /** Rollout, drift and token map, when the run asked for them (the page's analysis views). */
  analysis?: RunAnalysis;
}

/** Requests the page sends to the worker. */
export type Request =
  | { type: 'load'; id: number; modelUrl: string; tokenizerUrl: string }
  | { type: 'run'; id: number; texts: string[]; analyses?: { focus: string } }
  | AnalysisRequest;

/** Download progress of the model file; `total` is 0 when the server does not say. */
export interface Progress {
  received: number;
  total: number;
  fromCache: boolean;
}

/** Replies the worker sends to the page. `fatal` means the worker can no longer be used. */
export type Reply =
  | ({ type: 'progress'; id: number } & Progress)
  | { type: 'loaded'; id: number; info: ModelInfo }
  | ({ type: 'result'; id: number } & BatchRun)
  | { type: 'error'; id: number; error: string; fatal: boolean }
  | AnalysisReply;
