/**
 * Attention buffers the page gave back to the worker, to be filled again: a run's attention is
 * copied out of wasm memory into one of them instead of a fresh `Float32Array`, whose allocation
 * and first writes cost more than the copy itself (75 MB per 512-token sentence on MiniLM). The
 * page moves a result's buffers back (`recycle`) once it no longer shows it; the widget, which
 * keeps results, never does, and gets fresh buffers as before.
 */

/** Most bytes the pool keeps (the buffers of two 512-token MiniLM sentences, about). */
const MAX_POOL_BYTES = 160 << 20;

/** Buffers waiting to be reused. */
export class BufferPool {
  private readonly free: ArrayBuffer[] = [];
  /** How many `take`s were served from the pool so far. */
  reuses = 0;

  /** Keeps `buffers` for reuse, dropping the smallest beyond the pool's limit. */
  give(buffers: readonly ArrayBuffer[]): void {
    for (const buffer of buffers) if (buffer.byteLength > 0) this.free.push(buffer);
    this.free.sort((a, b) => b.byteLength - a.byteLength);
    let bytes = 0;
    const kept = this.free.findIndex((buffer) => (bytes += buffer.byteLength) > MAX_POOL_BYTES);
    if (kept >= 0) this.free.length = kept;
  }

  /** `length` floats: a view of the smallest pooled buffer that holds them (not zeroed), else a fresh array. */
  take(length: number): Float32Array {
    const bytes = length * Float32Array.BYTES_PER_ELEMENT;
    let best = -1;
    this.free.forEach((buffer, i) => {
      // A buffer more than twice the size is left for a longer sentence.
      if (buffer.byteLength >= bytes && buffer.byteLength <= 2 * bytes + 4096 && (best < 0 || buffer.byteLength < this.free[best]!.byteLength)) best = i;
    });
    if (best < 0) return new Float32Array(length);
    const [buffer] = this.free.splice(best, 1);
    this.reuses++;
    return new Float32Array(buffer!, 0, length);
  }
}
