/**
 * The page worker's analyses (issue 7), plugged into the engine server (serve.ts) by worker.ts, so
 * the widget's worker stays without them. After a run that asks for analyses it computes the
 * focus word's drift between each pair of sentences and the token map, and keeps the run so later
 * requests can read it again: rollout (L·n³, so only when the page shows it), drift of another
 * word, attention flow, fill-mask. A model from the user's own files is installed like a downloaded one.
 */
import type { Explorer, RunResult } from '../../pkg/bertscope_wasm.js';
import type { MaskFill, RunAnalysis, TokenMap, WordDrift } from './analysis-protocol';
import type { EngineExtension, EngineHost } from './serve';
import type { Request } from './protocol';

/** The analysis methods of `RunResult` (typed here too, so the page builds against any bindings). */
interface AnalysedResult extends RunResult {
  rollout(index: number): Float32Array;
  flow(index: number, progress: (done: number, total: number) => void): Float32Array;
  drift(a: number, b: number, word: string): unknown;
  tokenMap(): unknown;
}

/** Least time between two flow progress replies, in ms. */
const PROGRESS_INTERVAL_MS = 80;

/** The last analysed run, with the model that made it. */
let kept: { id: number; result: AnalysedResult; explorer: Explorer } | null = null;

function release(): void {
  kept?.result.free();
  kept = null;
}

function messageOf(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}

/** Drift of `word` between every pair of sentences that both hold it. */
function drifts(result: AnalysedResult, word: string): WordDrift[] {
  const out: WordDrift[] = [];
  if (!word.trim()) return out;
  const count = result.count();
  for (let a = 0; a < count; a++) {
    for (let b = a + 1; b < count; b++) {
      const d = result.drift(a, b, word) as { token_a: number; token_b: number; cosine: number[] } | null;
      if (d) out.push({ a, b, token_a: d.token_a, token_b: d.token_b, cosine: Array.from(d.cosine) });
    }
  }
  return out;
}

/** The kept run `resultId`, or an error saying it was replaced. */
function keptRun(resultId: number): { result: AnalysedResult; explorer: Explorer } {
  if (!kept || kept.id !== resultId) throw new Error('that result was replaced by a newer run');
  return kept;
}

export const analysisExtension: EngineExtension = {
  fillMask: true,

  release,

  analyse(result, explorer, id, focus) {
    release();
    const r = result as AnalysedResult;
    kept = { id, result: r, explorer };
    // A failed analysis is reported, never allowed to fail the run (the attention is still good).
    let error: string | undefined;
    const attempt = <T>(f: () => T, fallback: T): T => {
      try {
        return f();
      } catch (e) {
        error ??= messageOf(e);
        return fallback;
      }
    };
    let tokenMapError: string | undefined;
    let tokenMap: TokenMap | null = null;
    try {
      tokenMap = r.tokenMap() as TokenMap;
    } catch (e) {
      tokenMapError = messageOf(e);
    }
    const analysis: RunAnalysis = {
      resultId: id,
      drifts: attempt(() => drifts(r, focus), []),
      driftWord: focus,
      tokenMap,
      ...(tokenMapError !== undefined ? { tokenMapError } : {}),
      ...(error !== undefined ? { error } : {}),
    };
    return { analysis, transfer: [] };
  },

  async handle(request: Request, host: EngineHost): Promise<boolean> {
    switch (request.type) {
      case 'rollout': {
        const { result } = keptRun(request.resultId);
        const rollouts = Array.from({ length: result.count() }, (_, i) => result.rollout(i));
        host.post({ type: 'rollout', id: request.id, rollouts }, rollouts.map((x) => x.buffer));
        return true;
      }
      case 'drift': {
        const { result } = keptRun(request.resultId);
        host.post({ type: 'drift', id: request.id, word: request.word, drifts: drifts(result, request.word) });
        return true;
      }
      case 'flow': {
        const { result } = keptRun(request.resultId);
        let last = 0;
        const flow = result.flow(request.sentence, (done, total) => {
          const now = performance.now();
          if (now - last < PROGRESS_INTERVAL_MS && done < total) return;
          last = now;
          host.post({ type: 'flow-progress', id: request.id, done, total });
        });
        const tokens = Math.round(Math.sqrt(flow.length));
        host.post({ type: 'flow', id: request.id, sentence: request.sentence, tokens, flow }, [flow.buffer]);
        return true;
      }
      case 'fill-mask': {
        const { result, explorer } = keptRun(request.resultId);
        const masks = explorer.fillMask(result, request.sentence, request.k) as MaskFill[];
        host.post({ type: 'fill-mask', id: request.id, sentence: request.sentence, masks });
        return true;
      }
      case 'load-bytes': {
        const info = await host.install(new Uint8Array(request.model), new Uint8Array(request.tokenizer));
        // The kept run belongs to the previous model.
        release();
        host.post({ type: 'loaded', id: request.id, info });
        return true;
      }
      default:
        return false;
    }
  },
};
