/**
 * Attention lent to the page without a copy (the threaded build only). There wasm memory is a
 * `SharedArrayBuffer`, so a `Float32Array` view of it posted to the page is shared, not cloned,
 * and stays valid when memory grows: the page reads a run's attention where the run left it. The
 * engine keeps that memory untouched (`BatchRun.holdAttention`) until the page says it is done with
 * the result (`recycle` with the run's id, once it draws a newer one), and frees it then. On a plain
 * memory (the single-thread build, the widget) views would be cloned when posted, so results are
 * copied out as before (buffer-pool.ts).
 */
import type * as wasm from './bindings';

/**
 * Most bytes of attention lent at once: two results of two 512-token MiniLM sentences (the one the
 * page shows and the one it is about to draw). Beyond it (a page that never gives results back,
 * or bigger runs) results are copied out instead.
 */
export const MAX_LENT_BYTES = 320 << 20;

/** A run's attention lent to the page, kept in wasm memory. */
interface Loan {
  held: wasm.HeldAttention[];
  bytes: number;
}

/** The attention lent to the page, by the id of the run that made it. */
export class LentAttention {
  private readonly loans = new Map<number, Loan>();
  /** Bytes lent now. */
  bytes = 0;

  /** Results lent now. */
  get count(): number {
    return this.loans.size;
  }

  /**
   * Views of each sentence's attention in `run`, lent under `id` until `giveBack(id)`; null when
   * `memory` is not shared, or the loan would take the bytes lent above `MAX_LENT_BYTES` (copy then).
   */
  lend(id: number, run: wasm.BatchRun, memory: WebAssembly.Memory | null): Float32Array[] | null {
    // `SharedArrayBuffer` is not even defined where the page is not cross-origin isolated.
    const shared = typeof SharedArrayBuffer === 'function' && memory?.buffer instanceof SharedArrayBuffer;
    if (!shared || this.loans.has(id)) return null;
    const count = run.count();
    const size = Array.from(run.attentionShape()).reduce((a, b) => a * b, 1);
    const bytes = count * size * Float32Array.BYTES_PER_ELEMENT;
    if (this.bytes + bytes > MAX_LENT_BYTES) return null;
    const held = Array.from({ length: count }, (_, i) => run.holdAttention(i));
    this.loans.set(id, { held, bytes });
    this.bytes += bytes;
    return held.map((h) => h.view());
  }

  /** Frees what run `id` lent (nothing if it lent nothing): the page reads its views no more. */
  giveBack(id: number): void {
    const loan = this.loans.get(id);
    if (!loan) return;
    this.loans.delete(id);
    this.bytes -= loan.bytes;
    for (const held of loan.held) held.free();
  }
}
