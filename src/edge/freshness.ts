// How long a cached response stays fresh, from the upstream's Cache-Control and Age. The upstream (the
// origin, or a parent edge) knows best: playlists get a short max-age there and segments a long one.
import type { IncomingHttpHeaders } from 'node:http';
import { AGE_MS_HEADER } from '../shared/url-contract.js';

export interface FreshnessPolicy {
  /** When the upstream says nothing: playlists. */
  readonly defaultPlaylistTtlMs: number;
  /** When the upstream says nothing: segments. */
  readonly defaultSegmentTtlMs: number;
  /** 404s are cached this long so a storm of requests for a missing stream costs one upstream hit per period. */
  readonly negativeTtlMs: number;
  /**
   * An LL-HLS part's 404 is a part asked for before the origin has it (it exists a part target later):
   * cached only long enough to absorb a burst, well under the shortest part target (0.1 s).
   */
  readonly partNegativeTtlMs: number;
  /** Snapshots (/{app}/{stream}.jpg): the upstream's max-age, at most this long, this long when it says nothing. */
  readonly snapshotTtlMs: number;
}

export const defaultFreshness: FreshnessPolicy = {
  defaultPlaylistTtlMs: 1000,
  defaultSegmentTtlMs: 60_000,
  negativeTtlMs: 1000,
  partNegativeTtlMs: 50,
  snapshotTtlMs: 1000,
};

export interface CacheControl {
  maxAge?: number;
  sMaxAge?: number;
  noStore: boolean;
  noCache: boolean;
  isPrivate: boolean;
}

export function parseCacheControl(value: string | undefined): CacheControl {
  const cc: CacheControl = { noStore: false, noCache: false, isPrivate: false };
  if (!value) return cc;
  for (const raw of value.split(',')) {
    const [k = '', v] = raw.trim().toLowerCase().split('=', 2);
    const n = v === undefined ? NaN : Number(v.replace(/"/g, ''));
    if (k === 'max-age' && Number.isFinite(n)) cc.maxAge = n;
    else if (k === 's-maxage' && Number.isFinite(n)) cc.sMaxAge = n;
    else if (k === 'no-store') cc.noStore = true;
    else if (k === 'no-cache') cc.noCache = true;
    else if (k === 'private') cc.isPrivate = true;
  }
  return cc;
}

/** Milliseconds the response has already spent in caches upstream (ms-precise header from a livecdn parent, else Age). */
export function upstreamAgeMs(headers: IncomingHttpHeaders): number {
  const precise = Number(headers[AGE_MS_HEADER]);
  if (Number.isFinite(precise) && precise >= 0) return precise;
  const age = Number(headers.age);
  return Number.isFinite(age) && age >= 0 ? age * 1000 : 0;
}

/**
 * Remaining freshness in ms for a response; 0 means "share with concurrent waiters but do not store".
 * Only 200 and 404 are stored: other statuses (errors, redirects) pass through uncached.
 */
export function freshnessMs(
  status: number,
  headers: IncomingHttpHeaders,
  kind: 'playlist' | 'segment' | 'part' | 'snapshot',
  policy: FreshnessPolicy,
): number {
  if (status === 404) return kind === 'part' ? policy.partNegativeTtlMs : policy.negativeTtlMs;
  if (status !== 200) return 0;
  const cc = parseCacheControl(typeof headers['cache-control'] === 'string' ? headers['cache-control'] : undefined);
  if (cc.noStore || cc.noCache || cc.isPrivate) return 0;
  const maxAge = cc.sMaxAge ?? cc.maxAge;
  const fallbackMs = kind === 'playlist' ? policy.defaultPlaylistTtlMs : kind === 'snapshot' ? policy.snapshotTtlMs : policy.defaultSegmentTtlMs;
  const lifetime = maxAge !== undefined ? maxAge * 1000 : fallbackMs;
  // A snapshot is the latest picture: a parent that asks for longer still never makes viewers see an old one.
  const capped = kind === 'snapshot' ? Math.min(lifetime, policy.snapshotTtlMs) : lifetime;
  return Math.max(0, capped - upstreamAgeMs(headers));
}
