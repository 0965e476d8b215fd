// The HLS (and snapshot) pull-through cache: fresh hits from the LRU, misses coalesced into one upstream
// fetch per object, freshness from the upstream's Cache-Control, 404s cached briefly, statuses passed through.
// An object is a path, or an LL-HLS playlist version (path + delivery directives, playlist-request.ts):
// a blocking reload is only ever answered by a fetch of its own key, never by a plain or older playlist.
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Logger } from '../shared/log.js';
import { CacheObject, type BodyRewrite } from './cache-object.js';
import { Coalescer } from './coalescer.js';
import { freshnessMs, upstreamAgeMs, type FreshnessPolicy } from './freshness.js';
import { HoldTimeouts, isPartPath } from './held-requests.js';
import { ByteLru } from './lru.js';
import type { CacheKind, EdgeMetrics } from './metrics.js';
import type { PlaylistRequest } from './playlist-request.js';
import { Prefetcher } from './prefetcher.js';
import type { ShardRouter } from './shard.js';
import { UpstreamError } from './upstream.js';
import { appendVia } from '../shared/via.js';
import { parsePath } from '../shared/url-contract.js';
import type { StreamRef } from './locator.js';

export interface HttpCacheOptions {
  readonly nodeId: string;
  readonly cacheBytes: number;
  readonly freshness: FreshnessPolicy;
  readonly prefetch: boolean;
  /** The shortest wait for a held LL-HLS response (UpstreamOptions.heldTimeoutMs). */
  readonly heldTimeoutMs: number;
}

/** What a request asks the cache for, when more than its path: a playlist version, a snapshot's width. */
export type CacheRequest = Pick<PlaylistRequest, 'key' | 'upstreamSearch' | 'blocking'>;

const noBytes = (): void => {};

export class HttpCache {
  private readonly lru: ByteLru<CacheObject>;
  private readonly inflight = new Coalescer<CacheObject>();
  private readonly prefetcher: Prefetcher | undefined;
  private readonly holds: HoldTimeouts;
  /** Viewer requests (not a sibling worker's) served fresh from the cache, and the others. */
  hits = 0;
  misses = 0;
  /** Egress of viewer responses; one function for all of them rather than a closure per request. */
  private readonly countEgress = (n: number): void => this.metrics.egress('hls', n);

  constructor(
    private readonly router: ShardRouter,
    private readonly metrics: EdgeMetrics,
    private readonly log: Logger,
    private readonly opts: HttpCacheOptions,
  ) {
    this.lru = new ByteLru<CacheObject>(opts.cacheBytes);
    this.prefetcher = opts.prefetch ? new Prefetcher({ prefetch: (p, search) => this.prefetch(p, search) }) : undefined;
    this.holds = new HoldTimeouts(opts.heldTimeoutMs);
    metrics.cacheStats = () => ({ bytes: this.lru.bytes, objects: this.lru.count });
  }

  stats(): { bytes: number; objects: number; budget: number; inflight: number } {
    return { bytes: this.lru.bytes, objects: this.lru.count, budget: this.lru.capacity, inflight: this.inflight.size };
  }

  /**
   * Serves a playlist or segment. `hops` are the Via entries of the request, already checked for loops
   * by the caller; they are forwarded with this node appended. `internal` marks a sibling worker's
   * request: it is neither a viewer's hit or miss nor egress, the viewer was counted where it arrived.
   * `rewrite` gives the body this viewer gets (a playlist with its play token); the cached one stays shared.
   * `version` is what a playlist or snapshot request asks for (playlistRequest, snapshotRequest): its key
   * and upstream query.
   */
  handle(
    req: IncomingMessage,
    res: ServerResponse,
    path: string,
    kind: CacheKind,
    hops: readonly string[],
    internal = false,
    rewrite?: BodyRewrite,
    version?: CacheRequest,
  ): void {
    const key = version?.key ?? path;
    const head = req.method === 'HEAD';
    const onBytes = internal ? noBytes : this.countEgress;
    const cached = this.lru.get(key);
    if (cached?.isFresh(Date.now())) {
      if (!internal) {
        this.metrics.cacheRequests.inc({ kind, result: 'hit' });
        this.hits++;
      }
      cached.serve(res, 'HIT', head, onBytes, rewrite);
      return;
    }
    if (!internal) {
      this.metrics.cacheRequests.inc({ kind, result: 'miss' });
      this.misses++;
    }
    // The query (a play token) goes upstream with the fetch, for a parent tier that checks it, but the
    // cache key stays the path (and LL-HLS directives) so tokens never split the cache.
    const url = req.url ?? '';
    const q = url.indexOf('?');
    const search = version?.upstreamSearch ?? (q < 0 ? '' : url.slice(q));
    const blocking = version?.blocking ?? false;
    const { value, joined } = this.inflight.join(key, () => this.startFetch(key, path, kind, hops, search, blocking));
    if (joined) this.metrics.coalescedWaits.inc({ kind });
    value.serve(res, 'MISS', head, onBytes, rewrite);
  }

  /** Fetches a segment into the cache ahead of viewers (no-op when cached or already in flight). */
  prefetch(path: string, search: string): void {
    if (this.lru.peek(path)?.isFresh(Date.now()) || this.inflight.get(path)) return;
    this.metrics.prefetches.inc();
    this.inflight.join(path, () => this.startFetch(path, path, 'segment', [], search, false));
  }

  /** Fetches `path` + `search` into the object `key` (the path, or an LL-HLS playlist version). */
  private startFetch(key: string, path: string, kind: CacheKind, hops: readonly string[], search: string, blocking: boolean): CacheObject {
    const obj = new CacheObject(key);
    const done = (): void => this.inflight.settle(key, obj);
    // Workers: every object, each playlist version included, has one owner and so one upstream fetch.
    const { pool, peer } = this.router.route(key);
    const part = kind === 'segment' && isPartPath(path);
    // Held upstream (LL-HLS): a blocking reload until its version exists, a part until it opens.
    const heldTimeoutMs = blocking || part ? this.holds.timeoutMs(path) : undefined;
    const stream = streamOf(path);
    pool
      .get(path + search, {
        headers: { via: appendVia(hops, this.opts.nodeId) },
        ...(stream ? { stream } : {}),
        onAttempt: (upstream) => this.metrics.countUpstreamRequest('hls', upstream, peer),
        ...(heldTimeoutMs !== undefined ? { heldTimeoutMs } : {}),
      })
      .then(
        (up) => {
          const ttl = freshnessMs(up.status, up.headers, part ? 'part' : kind, this.opts.freshness);
          obj.setHeaders(up.status, up.headers, upstreamAgeMs(up.headers), ttl);
          up.body.on('data', (chunk: Buffer) => {
            this.metrics.countUpstreamBytes('hls', chunk.length, peer);
            obj.push(chunk);
          });
          up.body.once('end', () => {
            obj.finish();
            done();
            if (ttl > 0) this.lru.set(key, obj);
            else if (this.lru.peek(key)?.isFresh(Date.now()) === false) this.lru.delete(key);
            if (kind === 'playlist' && up.status === 200) {
              this.holds.onPlaylist(path, obj.body);
              // Per object: a DVR playlist from ?start= lists older segments than the plain one, and must not
              // make the edge fetch them. Blocking LL-HLS versions are one playlist under many keys (one per
              // _HLS_msn/_HLS_part): by path, or each version would take a slot of the prefetcher's bounded map.
              this.prefetcher?.onPlaylist(blocking ? path : key, obj.body);
            }
          });
          // 'close' without 'end': the upstream died mid-body. Viewers with headers sent are cut (their
          // player retries); nothing partial is ever cached.
          up.body.once('close', () => {
            if (obj.state === 'complete') return;
            this.log.warn({ path: key, upstream: up.upstream, received: obj.bodyLength }, 'upstream body cut');
            pool.markDown(up.upstream, 'body cut');
            if (stream) pool.lost(stream);
            obj.fail(502, 'upstream body cut');
            done();
          });
          up.body.on('error', () => {});
        },
        (err: unknown) => {
          const e = err instanceof UpstreamError ? err : new UpstreamError(String(err), 502);
          this.log.warn({ path: key, err: e.message }, 'upstream fetch failed');
          obj.fail(e.status, e.status === 504 ? 'upstream timeout' : 'upstream unavailable');
          done();
        },
      );
    return obj;
  }
}


/** The stream an object belongs to (every cached path is one of a stream's): its upstream is located by it. */
function streamOf(path: string): StreamRef | undefined {
  const p = parsePath(path);
  return 'app' in p ? { app: p.app, stream: p.stream } : undefined;
}
