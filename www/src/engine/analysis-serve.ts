/**
 * The page worker's analyses (issue 7), plugged into the engine server (serve.ts) by worker.ts, so
 * the widget's worker stays without them. After a run that asks for analyses it computes the
 * focus word's drift between each pair of sentences, the token map and each head's role, and keeps the run so later
 * requests can read it again: rollout (L·n³, so only when the page shows it), drift of another
 * word, attention flow, fill-mask. The user's own model files (and making them smaller) are handled by own-model.ts.
 */
import type * as wasm from '../../pkg/bertscope_wasm.js';
import type { PairDrift, RunAnalysis } from './analysis-protocol';
import { messageOf } from './errors';
import { handleOwnModel } from './own-model';
import type { EngineExtension, EngineHost } from './serve';
import type { Request } from './protocol';

/** Least time between two flow progress replies, in ms. */
const PROGRESS_INTERVAL_MS = 80;

/** The last analysed run, with the model that made it. */
let kept: { id: number; run: wasm.BatchRun; engine: wasm.Engine } | null = null;

function release(): void {
  kept?.run.free();
  kept = null;
}

/** Drift of the `occurrence`-th `word` between every pair of sentences that both hold it. */
function drifts(run: wasm.BatchRun, word: string, occurrence: number): PairDrift[] {
  const out: PairDrift[] = [];
  if (!word.trim()) return out;
  const count = run.count();
  for (let a = 0; a < count; a++) {
    for (let b = a + 1; b < count; b++) {
      const d = run.drift(a, b, word, occurrence);
      if (d) out.push({ a, b, token_a: d.token_a, token_b: d.token_b, word_a: d.word_a, word_b: d.word_b, cosine: Array.from(d.cosine) });
    }
  }
  return out;
}

/** `f()`, or null and why, when it throws (one analysis failing leaves the others). */
function alone<T>(f: () => T): { value: T | null; error?: string } {
  try {
    return { value: f() };
  } catch (e) {
    return { value: null, error: messageOf(e) };
  }
}

/** The kept run `resultId`, or an error saying it was replaced. */
function keptRun(resultId: number): { run: wasm.BatchRun; engine: wasm.Engine } {
  if (!kept || kept.id !== resultId) throw new Error('that result was replaced by a newer run');
  return kept;
}

export const analysisExtension: EngineExtension = {
  fillMask: true,

  release,

  analyse(run, engine, id, focus, occurrence) {
    release();
    kept = { id, run, engine };
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
    const tokenMap = alone(() => run.tokenMap());
    const headStats = alone(() => run.headStats());
    const analysis: RunAnalysis = {
      resultId: id,
      drifts: attempt(() => drifts(run, focus, occurrence), []),
      driftWord: focus,
      driftOccurrence: occurrence,
      tokenMap: tokenMap.value,
      ...(tokenMap.error !== undefined ? { tokenMapError: tokenMap.error } : {}),
      headStats: headStats.value,
      ...(headStats.error !== undefined ? { headStatsError: headStats.error } : {}),
      ...(error !== undefined ? { error } : {}),
    };
    return { analysis, transfer: [] };
  },

  async handle(request: Request, host: EngineHost): Promise<boolean> {
    switch (request.type) {
      case 'rollout': {
        const { run } = keptRun(request.resultId);
        const rollouts = Array.from({ length: run.count() }, (_, i) => run.rollout(i));
        host.post({ type: 'rollout', id: request.id, rollouts }, rollouts.map((x) => x.buffer));
        return true;
      }
      case 'drift': {
        const { run } = keptRun(request.resultId);
        host.post({ type: 'drift', id: request.id, word: request.word, occurrence: request.occurrence, drifts: drifts(run, request.word, request.occurrence) });
        return true;
      }
      case 'flow': {
        const { run } = keptRun(request.resultId);
        let last = 0;
        const flow = run.flow(request.sentence, (done, total) => {
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
        const { run, engine } = keptRun(request.resultId);
        const masks = engine.fillMask(run, request.sentence, request.k);
        host.post({ type: 'fill-mask', id: request.id, sentence: request.sentence, masks });
        return true;
      }
      default:
        // Own model files: installing one frees the kept run with the previous engine.
        return handleOwnModel(request, host, analysisExtension.fillMask);
    }
  },
};
