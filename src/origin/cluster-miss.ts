// Origin-to-origin (issue 13): a client that asks this origin directly for a live stream another origin
// holds is not told 404. The signal says where the stream lives (shared/route-client.ts), and this origin
// either proxies the other origin's answer through or redirects the client there (--cluster-miss).
//
// Only requests without a Via header are taken elsewhere: a request with one came through an edge (which
// locates streams itself) or another origin (a proxied request is never proxied again), and gets the local
// answer. Every stream request whose Via already names this origin, or that crossed too many hops, is
// 508 before anything else, so a misconfigured cluster cannot bounce a request around for ever.
//
// Bounds: proxies running at once (503 past the cap), an idle timeout on each upstream connection (a
// stalled client stalls it too, through the pipe's back-pressure), and a client that leaves destroys its
// upstream request at once (the holder's viewer goes with it). Play tokens are checked here before the
// lookup and travel in the query, so the holder checks them again.
import http from 'node:http';
import https from 'node:https';
import type { IncomingHttpHeaders, IncomingMessage, ServerResponse } from 'node:http';
import { Counter, Gauge, type Registry } from 'prom-client';
import type { RouteOrigin } from '../shared/cluster.js';
import { reply } from '../shared/http.js';
import type { Logger } from '../shared/log.js';
import type { RouteLookup } from '../shared/route-client.js';
import { appendVia, checkVia } from '../shared/via.js';
import { playTokenRefusal } from '../hub/play-auth.js';
import {
  DVR_PLAYLIST_ROUTE,
  FLV_ROUTE,
  FMP4_SEGMENT_ROUTE,
  INIT_ROUTE,
  joinUrl,
  PART_ROUTE,
  PLAYLIST_ROUTE,
  SEGMENT_ROUTE,
  SNAPSHOT_ROUTE,
  streamKey,
  validNames,
} from '../shared/url-contract.js';

export type ClusterMissMode = 'proxy' | 'redirect' | 'off';

/** The routes that serve a live stream's media (not recordings, VOD or the API): their first two groups are app and stream. */
const LIVE_STREAM_ROUTES: readonly RegExp[] = [FLV_ROUTE, PLAYLIST_ROUTE, SNAPSHOT_ROUTE, SEGMENT_ROUTE, FMP4_SEGMENT_ROUTE, PART_ROUTE, INIT_ROUTE, DVR_PLAYLIST_ROUTE];

/** The app and stream a GET or HEAD of a live stream's media names, else undefined (the request is not ours). */
export function streamRequestOf(method: string, pathname: string): { app: string; stream: string } | undefined {
  if (method !== 'GET' && method !== 'HEAD') return undefined;
  for (const route of LIVE_STREAM_ROUTES) {
    const m = route.exec(pathname);
    if (!m) continue;
    const [, app, stream] = m;
    return app !== undefined && stream !== undefined && validNames(app, stream) ? { app, stream } : undefined;
  }
  return undefined;
}

/**
 * What to do with a live stream request before any route sees it: 'loop' (508), 'pass' (held here: the
 * routes answer, no miss), 'local' (a miss with a Via: the routes answer, 404 or the play wait), or
 * 'lookup' (a miss asked directly: ask the signal where the stream is).
 */
export type MissStep = { readonly step: 'loop'; readonly reason: string } | { readonly step: 'pass' | 'local' | 'lookup' };

export function missStep(via: string | string[] | undefined, nodeId: string, maxHops: number, holds: () => boolean): MissStep {
  const checked = checkVia(via, nodeId, maxHops);
  if (!checked.ok) return { step: 'loop', reason: checked.reason };
  if (holds()) return { step: 'pass' };
  return { step: checked.hops.length > 0 ? 'local' : 'lookup' };
}

/** The first origin of a route answer other than this one; undefined when no signal answered or none holds it elsewhere. */
export function otherOrigin(lookup: RouteLookup, nodeId: string): RouteOrigin | undefined {
  return lookup.ok ? lookup.origins.find((o) => o.id !== nodeId) : undefined;
}

/** The same request on another origin: its base, the request's path and query. */
export function targetUrl(base: string, pathname: string, search: string): string {
  return joinUrl(base, pathname) + search;
}

/** Headers of the holder's answer that describe its body and how long it may be kept; hop-by-hop ones stay behind. */
const PASSED_HEADERS = ['content-type', 'content-length', 'cache-control', 'expires', 'last-modified', 'etag', 'retry-after', 'x-content-type-options'] as const;

/** The response head a proxied answer gets: the holder's content headers, and its Via with this origin added. */
export function proxiedHeaders(upstream: IncomingHttpHeaders, nodeId: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const name of PASSED_HEADERS) {
    const v = upstream[name];
    if (typeof v === 'string') out[name] = v;
  }
  // The holder's entries as it wrote them (comments too), then this origin's.
  const prior = Array.isArray(upstream.via) ? upstream.via.join(', ') : upstream.via;
  out.via = prior ? `${prior}, ${appendVia([], nodeId)}` : appendVia([], nodeId);
  return out;
}

export interface ClusterMissOptions {
  readonly mode: Exclude<ClusterMissMode, 'off'>;
  /** This origin's node id (its registration id); undefined until it is known (then nothing is taken). */
  readonly nodeId: () => string | undefined;
  /** Where streams live: the signal's route answers. */
  readonly route: { lookup(app: string, stream: string): Promise<RouteLookup>; forget(app: string, stream: string): void };
  /** Whether this origin holds app/stream: a hub stream, a playlist in its grace, a rung of a local source. */
  readonly holds: (app: string, stream: string) => boolean;
  /** keys.play when play tokens are on. */
  readonly playKey: Buffer | undefined;
  readonly maxHops: number;
  /** Proxied requests at once; past it, 503. */
  readonly maxProxies: number;
  /** An upstream connection silent this long (connect, head or body) is cut. */
  readonly idleTimeoutMs: number;
  readonly registry: Registry;
  readonly log: Logger;
}

type Action = 'proxy' | 'redirect' | 'local' | 'loop';

export class ClusterMiss {
  /** Body bytes proxied to clients (the origin's egress). */
  bytesOut = 0;
  private running = 0;
  private readonly counted: Counter<'action'>;
  private readonly httpAgent = new http.Agent({ keepAlive: true, maxFreeSockets: 64 });
  private readonly httpsAgent = new https.Agent({ keepAlive: true, maxFreeSockets: 64 });

  constructor(private readonly o: ClusterMissOptions) {
    this.counted = new Counter({
      name: 'livecdn_cluster_miss_total',
      help: 'Live stream requests for a stream this origin does not hold (or a loop), by what was done',
      labelNames: ['action'],
      registers: [o.registry],
    });
    for (const action of ['proxy', 'redirect', 'local', 'loop'] satisfies Action[]) this.counted.inc({ action }, 0);
    const running = (): number => this.running;
    new Gauge({
      name: 'livecdn_cluster_proxies',
      help: 'Requests proxied from other origins now (capped by --cluster-max-proxies)',
      registers: [o.registry],
      collect() {
        this.set(running());
      },
    });
  }

  /** Proxied requests now. */
  get proxies(): number {
    return this.running;
  }

  /** Tried before the routes (HttpServer.before): true when it answered the request. */
  readonly intercept = async (req: IncomingMessage, res: ServerResponse, url: URL): Promise<boolean> => {
    const nodeId = this.o.nodeId();
    if (nodeId === undefined) return false;
    const target = streamRequestOf(req.method ?? 'GET', url.pathname);
    if (!target) return false;
    const { app, stream } = target;
    const step = missStep(req.headers.via, nodeId, this.o.maxHops, () => this.o.holds(app, stream));
    if (step.step === 'loop') {
      this.count('loop');
      // Counted, and logged at debug only: any client can send such a Via, one log line each.
      this.o.log.debug({ path: url.pathname, reason: step.reason }, 'loop refused');
      reply(res, 508, step.reason);
      return true;
    }
    if (step.step === 'pass') return false;
    if (step.step === 'local') return this.local();
    // Nothing is looked up or forwarded for a request that may not play the stream.
    const refused = playTokenRefusal(this.o.playKey, app, stream, url.searchParams);
    if (refused) {
      reply(res, 403, refused);
      return true;
    }
    const found = otherOrigin(await this.o.route.lookup(app, stream), nodeId);
    // The client left while the signal was asked.
    if (res.destroyed || req.socket.destroyed) return true;
    // The lookup took time: the stream may have started here meanwhile.
    if (!found || this.o.holds(app, stream)) return this.local();
    const location = targetUrl(found.url, url.pathname, url.search);
    if (this.o.mode === 'redirect') {
      this.count('redirect');
      reply(res, 302, `${streamKey(app, stream)} is on ${found.id}`, { Location: location, 'Cache-Control': 'no-store' });
      return true;
    }
    if (this.running >= this.o.maxProxies) {
      reply(res, 503, 'too many requests proxied to other origins', { 'Retry-After': '2' });
      return true;
    }
    this.count('proxy');
    this.proxy(req, res, location, { app, stream, nodeId, origin: found.id });
    return true;
  };

  close(): void {
    this.httpAgent.destroy();
    this.httpsAgent.destroy();
  }

  private local(): false {
    this.count('local');
    return false;
  }

  private count(action: Action): void {
    this.counted.inc({ action });
  }

  /** Streams the holder's answer through; every callback is guarded, and the slot is given back once. */
  private proxy(req: IncomingMessage, res: ServerResponse, location: string, at: { app: string; stream: string; nodeId: string; origin: string }): void {
    let target: URL;
    try {
      target = new URL(location);
    } catch {
      reply(res, 502, `origin ${at.origin} has no usable URL`);
      return;
    }
    const secure = target.protocol === 'https:';
    const headers: Record<string, string> = { via: appendVia([], at.nodeId) };
    const client = req.socket.remoteAddress;
    const forwarded = req.headers['x-forwarded-for'];
    if (client !== undefined) headers['x-forwarded-for'] = forwarded === undefined ? client : `${forwarded}, ${client}`;
    const accept = req.headers.accept;
    if (accept !== undefined) headers.accept = accept;
    let upstream: IncomingMessage | undefined;
    let clientGone = false;
    let timedOut = false;
    const up = (secure ? https : http).request(target, { method: req.method, headers, agent: secure ? this.httpsAgent : this.httpAgent, timeout: this.o.idleTimeoutMs });
    // Taken once the request exists (a throw above leaves nothing to give back), given back once.
    this.running++;
    let released = false;
    const release = (): void => {
      if (released) return;
      released = true;
      this.running--;
    };
    const lost = (why: string): void => {
      // The answer was stale (the origin went away): the next request asks the signal again.
      this.o.route.forget(at.app, at.stream);
      this.o.log.debug({ path: target.pathname, origin: at.origin, why }, 'proxied request failed');
    };
    up.on('timeout', () => {
      timedOut = true;
      up.destroy(new Error('idle timeout'));
    });
    up.on('error', (err) => {
      release();
      if (clientGone) return;
      lost(err.message);
      if (res.headersSent) res.destroy();
      else if (!res.destroyed) reply(res, timedOut ? 504 : 502, `origin ${at.origin} did not answer`);
    });
    up.on('response', (r) => {
      upstream = r;
      r.on('error', () => res.destroy());
      r.on('close', () => {
        release();
        // A body cut short must not look complete to the client.
        if (!r.complete && !res.writableEnded) res.destroy();
      });
      if (r.statusCode === 404) lost('404');
      if (res.destroyed) return void r.destroy();
      try {
        res.writeHead(r.statusCode ?? 502, proxiedHeaders(r.headers, at.nodeId));
      } catch (err) {
        // A head Node will not send (a header value it refuses): the holder's answer is unusable.
        this.o.log.warn({ path: target.pathname, origin: at.origin, err }, 'proxied answer refused');
        reply(res, 502, `origin ${at.origin} gave an unusable answer`);
        return void r.destroy();
      }
      r.on('data', (chunk: Buffer) => (this.bytesOut += chunk.length));
      r.pipe(res);
    });
    // The client left (or the answer is done): nothing more is fetched for it.
    res.once('close', () => {
      clientGone = true;
      release();
      if (!upstream?.complete) up.destroy();
    });
    up.end();
  }
}
