// Token bucket: `rate` tokens per second up to `burst`; one token per message or join.
export class TokenBucket {
  private tokens: number;
  private last: number;

  constructor(
    private readonly rate: number,
    private readonly burst: number,
    now: number,
  ) {
    this.tokens = burst;
    this.last = now;
  }

  take(now: number, n = 1): boolean {
    this.refill(now);
    if (this.tokens < n) return false;
    this.tokens -= n;
    return true;
  }

  /** True when the bucket has refilled completely: the state is the same as a fresh one, so it can go. */
  idle(now: number): boolean {
    this.refill(now);
    return this.tokens >= this.burst;
  }

  private refill(now: number): void {
    if (now > this.last) {
      this.tokens = Math.min(this.burst, this.tokens + ((now - this.last) / 1000) * this.rate);
      this.last = now;
    }
  }
}

/** Buckets keyed by e.g. client address, with idle ones swept so the map stays bounded by activity. */
export class BucketMap {
  private readonly buckets = new Map<string, TokenBucket>();

  constructor(
    private readonly rate: number,
    private readonly burst: number,
  ) {}

  take(key: string, now: number): boolean {
    let b = this.buckets.get(key);
    if (!b) this.buckets.set(key, (b = new TokenBucket(this.rate, this.burst, now)));
    return b.take(now);
  }

  sweep(now: number): void {
    for (const [k, b] of this.buckets) if (b.idle(now)) this.buckets.delete(k);
  }

  get size(): number {
    return this.buckets.size;
  }
}
