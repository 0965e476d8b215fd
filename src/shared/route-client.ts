// Where a stream lives, asked of the signal (GET /api/route/{app}/{stream}) by edges and origins. Answers
// are kept for the TTL the signal gives (not-found ones for a second), one request per stream at a time
// whatever the number of callers, at most `maxEntries` streams remembered. Several signal instances may be
// given: the one that answered last is asked first. A signal that fails is skipped for a while, so that a
// dead control plane costs callers nothing: they get `ok: false` at once and use their static list.
import type { RouteAnswer, RouteOrigin } from './cluster.js';
import { signalUrls } from './registration.js';
import { signedFetch } from './signed-request.js';
import { routeApiPath, streamKey } from './url-contract.js';

export interface RouteClientOptions {
  /** Signal base URLs (a list, or one comma-separated string), in order of preference; normalised by signalUrls. */
  readonly signals: string | readonly string[];
  /** The cluster's node key (keys.node): lookups are signed requests; undefined in an --insecure cluster. */
  readonly key: Buffer | undefined;
  readonly timeoutMs?: number;
  /** Longest an answer is reused, whatever the signal's ttlMs. */
  readonly maxTtlMs?: number;
  /** How long "no origin holds it" is reused. */
  readonly notFoundTtlMs?: number;
  /** How long a signal that failed is not asked. */
  readonly signalDownMs?: number;
  readonly maxEntries?: number;
}

export const ROUTE_CLIENT_DEFAULTS = { timeoutMs: 1000, maxTtlMs: 10_000, notFoundTtlMs: 1000, signalDownMs: 2000, maxEntries: 10_000 } as const;

/**
 * `ok: false`: no signal answered (the caller falls back to what it was configured with). `cached`: the
 * answer was reused, not asked just now (a caller that finds it stale forgets it and asks once more).
 */
export type RouteLookup =
  | { readonly ok: true; readonly origins: readonly RouteOrigin[]; readonly cached?: boolean }
  | { readonly ok: false; readonly reason: string };

interface Entry {
  readonly origins: readonly RouteOrigin[];
  readonly until: number;
}

export class RouteClient {
  private readonly entries = new Map<string, Entry>();
  private readonly inflight = new Map<string, Promise<RouteLookup>>();
  private readonly signals: { readonly base: string; downUntil: number }[];
  private readonly o: Required<Omit<RouteClientOptions, 'key'>> & Pick<RouteClientOptions, 'key'>;

  constructor(options: RouteClientOptions) {
    const signals = signalUrls(options.signals);
    if (signals.length === 0) throw new Error('route client: at least one signal URL is required');
    this.o = { ...ROUTE_CLIENT_DEFAULTS, ...options };
    this.signals = signals.map((base) => ({ base, downUntil: 0 }));
  }

  /** The origins holding app/stream, from the cache or the signal. Never rejects. */
  lookup(app: string, stream: string): Promise<RouteLookup> {
    const key = streamKey(app, stream);
    const hit = this.entries.get(key);
    if (hit && hit.until > Date.now()) return Promise.resolve({ ok: true, origins: hit.origins, cached: true });
    const pending = this.inflight.get(key);
    if (pending) return pending;
    const p = this.ask(app, stream, key).finally(() => this.inflight.delete(key));
    this.inflight.set(key, p);
    return p;
  }

  /** The stream was not where the answer said (a 404, a lost upstream): the next lookup asks again. */
  forget(app: string, stream: string): void {
    this.entries.delete(streamKey(app, stream));
  }

  private async ask(app: string, stream: string, key: string): Promise<RouteLookup> {
    const now = Date.now();
    let reason = 'every signal is down';
    // A copy: the one that answers moves to the front of this.signals.
    for (const s of this.signals.filter((s) => s.downUntil <= now)) {
      try {
        const res = await signedFetch(s.base + routeApiPath(app, stream), { method: 'GET', key: this.o.key, timeoutMs: this.o.timeoutMs });
        if (res.status !== 200 && res.status !== 404) throw new Error(`status ${res.status}`);
        const answer = res.status === 200 ? parseRouteAnswer(res.body) : { origins: [], ttlMs: this.o.notFoundTtlMs };
        const { origins } = answer;
        this.remember(key, { origins, until: Date.now() + Math.min(this.o.maxTtlMs, answer.ttlMs) });
        // The signal that answered is asked first next time.
        this.signals.splice(this.signals.indexOf(s), 1);
        this.signals.unshift(s);
        return { ok: true, origins, cached: false };
      } catch (err) {
        s.downUntil = Date.now() + this.o.signalDownMs;
        reason = `${s.base}: ${err instanceof Error ? err.message : String(err)}`;
      }
    }
    return { ok: false, reason };
  }

  private remember(key: string, e: Entry): void {
    this.entries.delete(key);
    this.entries.set(key, e);
    // Oldest first in insertion order: a bounded map, whatever the number of streams asked about.
    while (this.entries.size > this.o.maxEntries) {
      const oldest = this.entries.keys().next().value;
      if (oldest === undefined) break;
      this.entries.delete(oldest);
    }
  }
}

/** An origin's HTTP base as an answer may give it: http(s), parseable, without trailing slashes. */
function originUrl(u: unknown): string | undefined {
  if (typeof u !== 'string' || u.length > 2048 || !/^https?:\/\//.test(u)) return undefined;
  try {
    new URL(u);
  } catch {
    return undefined;
  }
  return u.replace(/\/+$/, '');
}

/** A body that is no route answer (the lookup counts it as a failed signal). */
export class RouteAnswerError extends Error {
  override readonly name = 'RouteAnswerError';
}

/**
 * The answer's origins and TTL. The signal is ours, but its body is network bytes: a body that is not a
 * route answer throws RouteAnswerError, entries that are not origins are dropped, at most 16 are kept.
 */
export function parseRouteAnswer(body: string): { origins: RouteOrigin[]; ttlMs: number } {
  let a: unknown;
  try {
    a = JSON.parse(body);
  } catch (err) {
    throw new RouteAnswerError(`route answer is not JSON: ${err instanceof Error ? err.message : String(err)}`);
  }
  const list = typeof a === 'object' && a !== null ? (a as Partial<Record<keyof RouteAnswer, unknown>>).origins : undefined;
  if (!Array.isArray(list)) throw new RouteAnswerError('route answer without an origins list');
  const origins: RouteOrigin[] = [];
  for (const o of list as unknown[]) {
    if (origins.length === 16) break;
    if (typeof o !== 'object' || o === null) continue;
    const { id, url, rtmpUrl, publishing } = o as Partial<Record<keyof RouteOrigin, unknown>>;
    const base = originUrl(url);
    if (typeof id !== 'string' || id === '' || id.length > 256 || base === undefined) continue;
    origins.push({ id, url: base, ...(typeof rtmpUrl === 'string' ? { rtmpUrl } : {}), publishing: publishing === true });
  }
  const t = (a as { ttlMs?: unknown }).ttlMs;
  return { origins, ttlMs: typeof t === 'number' && Number.isFinite(t) && t >= 0 ? t : ROUTE_CLIENT_DEFAULTS.notFoundTtlMs };
}
