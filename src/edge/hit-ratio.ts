// Cache hit ratio for /api/edge and heartbeats (NodeLoad.cacheHitRatio).

export interface CacheCounts {
  readonly hits: number;
  readonly misses: number;
}

/** hits / (hits + misses) rounded to 0.001, or undefined when there were no requests. */
export function hitRatio({ hits, misses }: CacheCounts): number | undefined {
  const total = hits + misses;
  return total > 0 ? Math.round((hits / total) * 1000) / 1000 : undefined;
}

/** The ratio over the requests since the previous sample: what the edge does now, not since its start. */
export class HitRatioSampler {
  private last: CacheCounts = { hits: 0, misses: 0 };

  constructor(private readonly counts: () => CacheCounts) {}

  sample(): number | undefined {
    const now = this.counts();
    // max(0, …): a sum over workers drops when one restarts with fresh counters.
    const ratio = hitRatio({ hits: Math.max(0, now.hits - this.last.hits), misses: Math.max(0, now.misses - this.last.misses) });
    this.last = now;
    return ratio;
  }
}
