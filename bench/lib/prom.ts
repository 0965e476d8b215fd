// Reading Prometheus histograms from a /metrics text page, and quantiles of the delta between scrapes.

export interface Histogram {
  /** Cumulative counts per upper bound, ascending, +Inf last. */
  buckets: [number, number][];
  sum: number;
  count: number;
}

/** Histograms by name; series with labels are summed per le (e.g. across streams). */
export function parseHistograms(text: string): Map<string, Histogram> {
  const out = new Map<string, Histogram>();
  const get = (name: string): Histogram => {
    let h = out.get(name);
    if (!h) {
      h = { buckets: [], sum: 0, count: 0 };
      out.set(name, h);
    }
    return h;
  };
  for (const line of text.split('\n')) {
    if (line.startsWith('#')) continue;
    const m = /^([a-zA-Z_:][\w:]*?)(_bucket|_sum|_count)(\{[^}]*\})?\s+(\S+)/.exec(line);
    if (!m) continue;
    const [, name = '', kind, labels = '', value = '0'] = m;
    const v = Number(value);
    const h = get(name);
    if (kind === '_sum') h.sum += v;
    else if (kind === '_count') h.count += v;
    else {
      const le = /le="([^"]+)"/.exec(labels)?.[1];
      if (le === undefined) continue;
      const bound = le === '+Inf' ? Infinity : Number(le);
      const b = h.buckets.find((x) => x[0] === bound);
      if (b) b[1] += v;
      else h.buckets.push([bound, v]);
    }
  }
  for (const [name, h] of out) {
    if (h.buckets.length === 0) out.delete(name);
    else h.buckets.sort((a, b) => a[0] - b[0]);
  }
  return out;
}

export function diffHistogram(after: Histogram, before: Histogram | undefined): Histogram {
  if (!before) return after;
  return {
    buckets: after.buckets.map(([le, c]) => [le, c - (before.buckets.find((b) => b[0] === le)?.[1] ?? 0)]),
    sum: after.sum - before.sum,
    count: after.count - before.count,
  };
}

/** Quantile by linear interpolation inside the bucket, as Prometheus' histogram_quantile does. */
export function histogramQuantile(h: Histogram, q: number): number {
  const total = h.buckets[h.buckets.length - 1]?.[1] ?? 0;
  if (total <= 0) return NaN;
  const rank = q * total;
  let prevLe = 0;
  let prevCount = 0;
  for (const [le, c] of h.buckets) {
    if (c >= rank) {
      if (le === Infinity) return prevLe;
      return prevLe + ((le - prevLe) * (rank - prevCount)) / Math.max(1e-12, c - prevCount);
    }
    prevLe = le;
    prevCount = c;
  }
  return prevLe;
}

/** Counters and gauges: one reader for benchmarks and tests. */
export { metricTotal } from '../../test/helpers/metrics.js';
