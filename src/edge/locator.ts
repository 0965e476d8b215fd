// Which upstreams may hold a stream, in the order to ask them. With a signal (`signal` mode) the origins
// its route answer names come first, then the configured upstreams as a fallback; without one, or while
// no signal answers, the upstream that last answered 200 for the stream comes first, then the configured
// order. UpstreamPool asks them in turn (a 404 moves on) and reports back: found() remembers the one that
// answered, lost() forgets the route answer and the remembered upstream, so the next request asks again.
import type { RouteClient } from '../shared/route-client.js';
import { renditionParts, streamKey } from '../shared/url-contract.js';
import { baseOf } from './upstream.js';

export type LocateMode = 'signal' | 'upstreams';

export interface StreamRef {
  readonly app: string;
  readonly stream: string;
}

export interface Candidates {
  /** Upstream bases in the order to try them, deduplicated. */
  readonly bases: readonly string[];
  /** How many of the first bases came from a route answer reused from the cache (0: none, or asked just now). */
  readonly cachedRoute: number;
  /** The first bases came from a route answer or a remembered upstream (not the plain configured order). */
  readonly hinted: boolean;
}

export interface LocatorCounts {
  readonly mode: LocateMode;
  /** Route answers used (from the signal or its cache), and how many named no origin. */
  readonly routed: number;
  readonly notRouted: number;
  /** Lookups made without a signal answer: no signal configured, or none answered. */
  readonly fallbacks: number;
  readonly found: number;
  readonly lost: number;
  /** Streams whose answering upstream is remembered now. */
  readonly remembered: number;
}

export interface LocatorOptions {
  /** The configured --upstream list, in order of preference. */
  readonly upstreams: readonly string[];
  /** The signal's route client: `signal` mode. */
  readonly routes?: Pick<RouteClient, 'lookup' | 'forget'> | undefined;
  /** Streams whose answering upstream is remembered, at most (the oldest go first). */
  readonly maxRemembered?: number;
}

/** Streams whose answering upstream is remembered, by default. */
const MAX_REMEMBERED = 10_000;

export class Locator {
  readonly mode: LocateMode;
  private readonly upstreams: readonly string[];
  private readonly routes: Pick<RouteClient, 'lookup' | 'forget'> | undefined;
  private readonly remembered = new Map<string, string>();
  private readonly maxRemembered: number;
  private readonly n = { routed: 0, notRouted: 0, fallbacks: 0, found: 0, lost: 0 };

  constructor(opts: LocatorOptions) {
    if (opts.upstreams.length === 0) throw new Error('locator: at least one upstream is required');
    // As route answers give them: without trailing slashes, so that one upstream is one candidate.
    this.upstreams = opts.upstreams.map(baseOf);
    this.routes = opts.routes;
    this.mode = opts.routes ? 'signal' : 'upstreams';
    this.maxRemembered = opts.maxRemembered ?? MAX_REMEMBERED;
  }

  /** The upstreams to try for `ref`, best first. Never rejects. */
  async candidates(ref: StreamRef): Promise<Candidates> {
    const key = streamKey(ref.app, ref.stream);
    if (this.routes) {
      let r = await this.routes.lookup(ref.app, ref.stream);
      // A ladder's rung ({stream}_{rung}) lives where its source does, whether or not heartbeats list it.
      const source = r.ok && r.origins.length === 0 ? renditionParts(ref.stream) : undefined;
      if (source) r = await this.routes.lookup(ref.app, source.stream);
      if (r.ok) {
        if (r.origins.length === 0) this.n.notRouted++;
        else this.n.routed++;
        const routed = r.origins.map((o) => o.url);
        // After the origins the signal names: what answered last (the signal may lag a move), then the rest.
        const bases = dedupe([...routed, ...this.fallbackOrder(key)]);
        return { bases, cachedRoute: r.cached ? routed.length : 0, hinted: routed.length > 0 || this.remembered.has(key) };
      }
    }
    this.n.fallbacks++;
    return { bases: this.fallbackOrder(key), cachedRoute: 0, hinted: this.remembered.has(key) };
  }

  /** `base` answered 200 for the stream: asked first next time the signal does not say otherwise. */
  found(ref: StreamRef, base: string): void {
    const key = streamKey(ref.app, ref.stream);
    if (this.remembered.get(key) === base) return;
    this.n.found++;
    this.remembered.delete(key);
    this.remembered.set(key, base);
    // Insertion order is age: a bounded map, whatever the number of streams asked about.
    if (this.remembered.size > this.maxRemembered) {
      const oldest = this.remembered.keys().next().value;
      if (oldest !== undefined) this.remembered.delete(oldest);
    }
  }

  /** The stream was not where we looked (every candidate 404, a dropped upstream): look it up afresh. */
  lost(ref: StreamRef): void {
    this.n.lost++;
    this.remembered.delete(streamKey(ref.app, ref.stream));
    this.routes?.forget(ref.app, ref.stream);
    const source = renditionParts(ref.stream);
    if (source) this.routes?.forget(ref.app, source.stream);
  }

  counts(): LocatorCounts {
    return { mode: this.mode, ...this.n, remembered: this.remembered.size };
  }

  private fallbackOrder(key: string): string[] {
    const last = this.remembered.get(key);
    return last === undefined ? [...this.upstreams] : dedupe([last, ...this.upstreams]);
  }
}

const dedupe = (bases: readonly string[]): string[] => [...new Set(bases)];
