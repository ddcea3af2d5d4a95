/**
 * The page's analysis messages (issue 7): what a run brings back besides attention (token map,
 * focus-word drift) and the requests that read the last run again (rollout, drift of another
 * word, attention flow, fill-mask) or load a model from the user's own files. The engine
 * computes every number; these are only the shapes that cross the worker boundary.
 */

import type { HeadStats, MaskPrediction, TokenMap, WordDrift } from '../../pkg/bertscope_wasm.js';
import type { OwnModelReply, OwnModelRequest } from './own-model-protocol';

export type { HeadRole, HeadStats, MaskPrediction, TokenMap, WordDrift } from '../../pkg/bertscope_wasm.js';

/** The engine's `WordDrift` of one word between sentences `a` and `b` of the run. */
export interface PairDrift extends WordDrift {
  a: number;
  b: number;
}

/** The analyses computed with a run (when the run asks for them). */
export interface RunAnalysis {
  /** Names the run in the worker, for later requests about it (drift, flow, fill-mask). */
  resultId: number;
  /**
   * Per sentence, attention rollout `[layer][query][key]` over the padded length (cumulative through
   * each layer). Not sent with the run (it costs L·n³): the page asks for it with a `rollout`
   * request when the Rollout tab shows this run, and keeps it here.
   */
  rollouts?: Float32Array[];
  /** Why rollout could not be computed, once asked. */
  rolloutError?: string;
  /** Drift of the run's focus word between every pair of sentences that both hold it. */
  drifts: PairDrift[];
  /** The word `drifts` is about. */
  driftWord: string;
  /** Which occurrence of `driftWord` (from 1). */
  driftOccurrence: number;
  tokenMap: TokenMap | null;
  /** Why the token map is missing, when it is. */
  tokenMapError?: string;
  /** Each head's shares, entropy and role over the run's sentences, `[layer][head]` (Clark et al. 2019). */
  headStats: HeadStats[][] | null;
  /** Why the head statistics are missing, when they are. */
  headStatsError?: string;
  /** Why drift is missing, when it is. */
  error?: string;
}

/** Attention flow of one sentence over its `tokens` real tokens, `[query][key]`, rows summing to 1. */
export interface FlowOutput {
  sentence: number;
  tokens: number;
  flow: Float32Array;
}

/** Requests about the last run, and the user's own model files (own-model-protocol.ts). */
export type AnalysisRequest =
  | { type: 'rollout'; id: number; resultId: number }
  | { type: 'drift'; id: number; resultId: number; word: string; occurrence: number }
  | { type: 'flow'; id: number; resultId: number; sentence: number }
  | { type: 'fill-mask'; id: number; resultId: number; sentence: number; k: number }
  | OwnModelRequest;

/** Replies to `AnalysisRequest`s. */
export type AnalysisReply =
  | { type: 'rollout'; id: number; rollouts: Float32Array[] }
  | { type: 'drift'; id: number; word: string; occurrence: number; drifts: PairDrift[] }
  | { type: 'flow-progress'; id: number; done: number; total: number }
  | ({ type: 'flow'; id: number } & FlowOutput)
  | { type: 'fill-mask'; id: number; sentence: number; masks: MaskPrediction[] }
  | OwnModelReply;
