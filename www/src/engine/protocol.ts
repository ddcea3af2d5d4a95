/** Messages between the page and the engine worker, and the data shapes they carry. */
import type { Batch, Encoding, ModelInfo, WordFocus } from '../../pkg/bertscope_wasm.js';
import type { MixingNeed } from '../measure';
import type { AnalysisReply, AnalysisRequest, RunAnalysis } from './analysis-protocol';

/**
 * The engine's own types (`ModelInfo`, `Batch`, `Encoding`: one tokenized sentence padded to the
 * batch's length), declared by the wasm bindings from the Rust types: never mirrored by hand.
 */
export type { Batch, Encoding, ModelInfo, Word, WordFocus } from '../../pkg/bertscope_wasm.js';

/** `[layers, heads, queries, keys]` of each sentence's attention buffer. */
/** The focus word (and which occurrence of it, from 1) the page's analyses are about. */
export interface FocusAnalyses {
  focus: string;
  occurrence?: number;
}

export type AttentionShape = [number, number, number, number];

/**
 * The engine's context-mixing measures of one sentence (its `Mixing`), over its `tokens` real
 * tokens only (no padding): flat buffers, moved out of the worker.
 */
export interface SentenceMixing {
  /** Real tokens of the sentence (`n`). */
  tokens: number;
  /** Attention × value norm per head, `N^h_ij`, `[layer][head][n][n]`. */
  normHead: Float32Array;
  /** Attention × value norm of the heads together, `N_ij`, `[layer][n][n]`. */
  normLayer: Float32Array;
  /** ALTI per layer, `[layer][n][n]`, rows summing to 1. */
  alti: Float32Array;
  /** ALTI through the layers, `[layer][n][n]`, rows summing to 1. */
  altiRollout: Float32Array;
  /** Per layer, how far the decomposition's sum is from the model's own residual sum. */
  reconstructionError: Float32Array;
}

/** What a run also asks for besides attention. */
export interface RunOptions {
  /** Rollout, drift of `focus` and the token map (the page's analysis views). */
  analyses?: FocusAnalyses;
  /** The context-mixing measures a view shows ('norm', or 'alti' for those and ALTI), 'none' or absent for none: they cost more than the run. */
  mixing?: MixingNeed;
  /** Hears the mixing computation's progress. */
  onMixingProgress?: (progress: MixingProgress) => void;
}

/** How far the mixing measures of a run are: layer `done` of `total` of sentence `sentence` of `sentences` (0-based). */
export interface MixingProgress {
  sentence: number;
  sentences: number;
  done: number;
  total: number;
}

/**
 * The page's copy of the engine's `BatchRun`: the batch and one flat `[L][H][n][n]` attention
 * buffer per sentence, moved out of the worker.
 */
export interface BatchRun {
  batch: Batch;
  attentionShape: AttentionShape;
  attentions: Float32Array[];
  /**
   * Set when `attentions` are views of the engine's shared memory (the threaded build), lent under
   * this id: the engine keeps that memory as it is until the page gives the result back (`recycle`),
   * and may write it after, so nothing reads the views then (see held-attention.ts).
   */
  lent?: number;
  /** Rollout, drift and token map, when the run asked for them (the page's analysis views). */
  analysis?: RunAnalysis;
  /** Per sentence, the context-mixing measures, when the run asked for them and the engine could compute them. */
  mixing?: SentenceMixing[];
  /** Why the mixing measures are missing although asked for (the engine's words). */
  mixingError?: string;
}

/** Requests the page sends to the worker. */
export type Request =
  | { type: 'load'; id: number; modelUrl: string; tokenizerUrl: string; firstBatch?: number; firstMixing?: boolean }
  | { type: 'run'; id: number; texts: string[]; analyses?: FocusAnalyses; mixing?: MixingNeed }
  /** The engine's rule for what a word is (`analysis::find_word`): the `occurrence`-th `word` of each sentence, or why not. */
  | { type: 'find-word'; id: number; sentences: Encoding[]; word: string; occurrence: number }
  /** A result the page no longer shows: its attention buffers, moved back for the next runs to fill, or the id its attention was lent under (no reply). */
  | { type: 'recycle'; id: number; buffers: ArrayBuffer[]; lent?: number }
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
  | ({ type: 'mixing-progress'; id: number } & MixingProgress)
  /**
   * `replaced`: files whose cached copy the server's newer one replaced; `threads`: how many threads
   * the engine runs on; `restored`: the engine this browser kept was restored, not loaded (snapshot.ts).
   */
  | { type: 'loaded'; id: number; info: ModelInfo; replaced: string[]; threads: number; restored: boolean }
  | ({ type: 'result'; id: number } & BatchRun)
  | { type: 'find-word'; id: number; found: WordFocus[] }
  /** `input`: the sentences were refused, not the model (see `InputError`). */
  | { type: 'error'; id: number; error: string; fatal: boolean; input: boolean }
  /** The threaded engine's pool workers' alarm ports (threads.ts `PoolThreadAlarm`): a message on one means the engine is stuck and must be ended. */
  | { type: 'pool-alarms'; id: number; ports: MessagePort[] }
  | AnalysisReply;
