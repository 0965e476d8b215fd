// A least-recently-used map bounded by bytes rather than entries: segments vary in size by orders of
// magnitude (a 404 body vs a 2 s 1080p segment), so a count limit would either waste memory or thrash.

export interface Sized {
  /** Bytes this entry is charged against the budget. */
  readonly size: number;
}

export class ByteLru<V extends Sized> {
  // A Map iterates in insertion order, so re-inserting on access keeps the oldest entry first.
  private readonly map = new Map<string, V>();
  private total = 0;

  constructor(
    private readonly budget: number,
    private readonly onEvict?: (key: string, value: V) => void,
  ) {}

  get bytes(): number {
    return this.total;
  }

  get count(): number {
    return this.map.size;
  }

  get capacity(): number {
    return this.budget;
  }

  /** The entry, marked as most recently used. */
  get(key: string): V | undefined {
    const v = this.map.get(key);
    if (v === undefined) return undefined;
    this.map.delete(key);
    this.map.set(key, v);
    return v;
  }

  /** The entry without touching its recency. */
  peek(key: string): V | undefined {
    return this.map.get(key);
  }

  has(key: string): boolean {
    return this.map.has(key);
  }

  /** Stores the entry, evicting the least recently used ones; refuses (returns false) one larger than the budget. */
  set(key: string, value: V): boolean {
    this.delete(key);
    if (value.size > this.budget) return false;
    this.map.set(key, value);
    this.total += value.size;
    for (const [k, v] of this.map) {
      if (this.total <= this.budget) break;
      this.map.delete(k);
      this.total -= v.size;
      this.onEvict?.(k, v);
    }
    return true;
  }

  delete(key: string): boolean {
    const v = this.map.get(key);
    if (v === undefined) return false;
    this.map.delete(key);
    this.total -= v.size;
    return true;
  }

  keys(): IterableIterator<string> {
    return this.map.keys();
  }
}
