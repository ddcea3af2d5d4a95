/** Messages between the page and the engine worker, and the data shapes they carry. */
import type { AnalysisReply, AnalysisRequest, RunAnalysis } from './analysis-protocol';

/** What the engine says about the loaded model (`Explorer.info()`). */
export interface ModelInfo {
  layers: number;
  heads: number;
  hidden_size: number;
  vocab_size: number | null;
  max_tokens: number;
  quantization: string;
  file_bytes: number;
  token_type_ids: boolean;
  fill_mask: boolean;
}

/** One tokenized sentence, padded to the batch length. */
export interface Sentence {
  text: string;
  input_ids: number[];
  attention_mask: number[];
  tokens: string[];
  offsets: [number, number][];
  special: boolean[];
  truncated: boolean;
  len: number;
}

/** Sentences padded to a common length `seq_len`. */
export interface Batch {
  sentences: Sentence[];
  seq_len: number;
}

/** `[layers, heads, queries, keys]` of each sentence's attention buffer. */
export type AttentionShape = [number, number, number, number];

/** The outcome of one run: the batch and one flat `[L][H][n][n]` attention buffer per sentence. */
export interface RunOutput {
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
  | ({ type: 'result'; id: number } & RunOutput)
  | { type: 'error'; id: number; error: string; fatal: boolean }
  | AnalysisReply;
