// Request coalescing: while one fetch of a key is in flight, later callers join it instead of starting
// their own, so N concurrent misses cost the upstream exactly one request.

export class Coalescer<V> {
  private readonly inflight = new Map<string, V>();

  get size(): number {
    return this.inflight.size;
  }

  get(key: string): V | undefined {
    return this.inflight.get(key);
  }

  /**
   * The in-flight value for `key`, or a new one from `start`. `joined` tells whether the caller shares
   * an existing fetch. The owner must call `settle(key, value)` once the fetch completes or fails.
   */
  join(key: string, start: () => V): { value: V; joined: boolean } {
    const existing = this.inflight.get(key);
    if (existing !== undefined) return { value: existing, joined: true };
    const value = start();
    this.inflight.set(key, value);
    return { value, joined: false };
  }

  /** Ends the in-flight period; only the value that is registered is removed (a newer fetch stays). */
  settle(key: string, value: V): void {
    if (this.inflight.get(key) === value) this.inflight.delete(key);
  }
}
