// Small order statistics for benchmark samples.

/** The q-quantile (0..1) of the values by linear interpolation; NaN for an empty list. */
export function quantile(values: readonly number[], q: number): number {
  return quantiles(values, q)[0] ?? NaN;
}

/** Several quantiles of the values (see quantile), sorting them once. */
export function quantiles(values: readonly number[], ...qs: readonly number[]): number[] {
  if (values.length === 0) return qs.map(() => NaN);
  const s = [...values].sort((a, b) => a - b);
  return qs.map((q) => {
    const pos = (s.length - 1) * q;
    const lo = Math.floor(pos);
    const hi = Math.ceil(pos);
    const a = s[lo] ?? NaN;
    const b = s[hi] ?? NaN;
    return a + (b - a) * (pos - lo);
  });
}

export const median = (values: readonly number[]): number => quantile(values, 0.5);

export function min(values: readonly number[]): number {
  return values.length === 0 ? NaN : values.reduce((a, b) => Math.min(a, b), Infinity);
}

export function max(values: readonly number[]): number {
  return values.length === 0 ? NaN : values.reduce((a, b) => Math.max(a, b), -Infinity);
}
