// Reading counters and gauges from a Prometheus text page (/metrics): tests and benchmarks.

/**
 * The value of a counter or gauge summed over its label sets, or over those whose labels contain
 * `labels` (e.g. 'kind="snapshot"'); NaN when the page has no such series.
 */
export function metricTotal(text: string, name: string, labels = ''): number {
  let total = NaN;
  for (const line of text.split('\n')) {
    const m = /^([a-zA-Z_:][\w:]*)(\{[^}]*\})?\s+(\S+)/.exec(line);
    if (m?.[1] !== name || !(m[2] ?? '').includes(labels)) continue;
    total = (Number.isNaN(total) ? 0 : total) + Number(m[3]);
  }
  return total;
}

/** metricTotal of `{base}/metrics`. */
export async function fetchMetric(base: string, name: string, labels = ''): Promise<number> {
  return metricTotal(await (await fetch(`${base}/metrics`)).text(), name, labels);
}
