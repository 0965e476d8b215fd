// One edge node: plain node:http in front of the HLS cache and the HTTP-FLV relay, plus /metrics,
// /api/edge and registration with the control plane.
import type http from 'node:http';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Hub } from '../hub/hub.js';
import { createHttpServer, reply, replyThrown, type HttpLimits } from '../shared/http.js';
import type { NodeLoad } from '../shared/cluster.js';
import { createLogger, type Logger } from '../shared/log.js';
import { Hooks, newClientId } from '../hub/hooks.js';
import { PlayDecisions, PlaylistsForViewers, playTokenOf, playTokenRefusal, type PlaylistViewer } from '../hub/play-auth.js';
import { edgeNodeId, edgeRegistration, resolveEdgeConfig, type EdgeConfig, type ResolvedEdgeConfig } from './config.js';
import { FlvRelay } from './flv-relay.js';
import { HlsViewers } from '../hub/hls-viewers.js';
import { HitRatioSampler, hitRatio, type CacheCounts } from './hit-ratio.js';
import { HttpCache } from './http-cache.js';
import { PlaylistContinuity } from './playlist-continuity.js';
import { playlistRequest } from './playlist-request.js';
import { snapshotRequest } from './snapshot-request.js';
import { LoadSampler } from '../shared/load.js';
import { EdgeMetrics } from './metrics.js';
import { parsePath, streamKey, type StreamPath } from '../shared/url-contract.js';
import type { Registration } from '../shared/registration.js';
import { ShardRouter } from './shard.js';
import { UpstreamPool } from './upstream.js';
import { Locator, type LocatorCounts } from './locator.js';
import { RouteClient } from '../shared/route-client.js';
import { checkVia } from '../shared/via.js';

export type { EdgeConfig } from './config.js';

// Paths owned by the mounted pages (and other APIs) even though they look like /{app}/...
const RESERVED_PREFIX = /^\/(player|api|static)(\/|$)/;

export interface EdgeStatus {
  readonly id: string;
  readonly region: string;
  readonly port: number;
  readonly pid: number;
  /** With --workers: this worker's slot, its loopback port, and the port of every slot as it knows them. */
  readonly shard: ReturnType<ShardRouter['status']>;
  readonly upstreams: ReturnType<UpstreamPool['status']>;
  /** How streams were located: route answers, fallbacks to the upstream list, upstreams remembered. */
  readonly locator: LocatorCounts | undefined;
  readonly cache: ReturnType<HttpCache['stats']> | undefined;
  /** Viewer requests for HLS objects served from the cache, and the others, since start. */
  readonly hits: number;
  readonly misses: number;
  /** hits / (hits + misses) since start; 0 before any request. */
  readonly cacheHitRatio: number;
  readonly flv: ReturnType<FlvRelay['status']>;
  readonly viewers: { readonly hls: number; readonly flv: number };
  readonly registered: boolean;
}

export class Edge {
  readonly config: ResolvedEdgeConfig;
  readonly metrics: EdgeMetrics;
  readonly hub: Hub;
  private readonly log: Logger;
  private readonly pool: UpstreamPool;
  private readonly router: ShardRouter;
  private readonly hlsViewers = new HlsViewers();
  private readonly continuity = new PlaylistContinuity();
  private readonly hooks: Hooks;
  private readonly decisions: PlayDecisions;
  private readonly load: LoadSampler;
  private readonly hitRatio: HitRatioSampler;
  private server: http.Server | undefined;
  private privateServer: http.Server | undefined;
  private privatePort = 0;
  private cache: HttpCache | undefined;
  private relay: FlvRelay | undefined;
  private registration: Registration | undefined;
  private id = '';
  private port = 0;
  private metricsSource: (() => Promise<string>) | undefined;

  constructor(config: EdgeConfig) {
    this.config = resolveEdgeConfig(config);
    this.log = config.logger ?? createLogger('edge');
    this.metrics = new EdgeMetrics({ defaultMetrics: this.config.defaultMetrics });
    // Sibling workers' pools (shard.ts) never locate: the owner of a stream's objects does, here.
    const routes = this.config.locate === 'signal' ? new RouteClient({ signals: this.config.signals, key: this.config.nodeKey }) : undefined;
    this.pool = new UpstreamPool(this.config.upstreams, this.config.upstream, this.log, new Locator({ upstreams: this.config.upstreams, routes }));
    this.router = new ShardRouter(this.pool, this.config.shard, this.config.upstream, this.log);
    this.hub = new Hub({ writeBatchMs: this.config.writeBatchMs, logger: this.log.child({ part: 'hub' }) });
    this.hooks = new Hooks({ onPlay: this.config.onPlay }, this.log.child({ part: 'hooks' }), this.config.hookTimeoutMs);
    this.decisions = new PlayDecisions(this.hooks);
    this.metrics.hlsViewers = () => this.hlsViewers.count();
    this.metrics.flvStats = () => ({
      bytesOut: Math.max(0, this.hub.totals.bytesOut - (this.relay?.peerBytes() ?? 0)),
      viewers: this.relay?.viewers() ?? 0,
    });
    this.load = new LoadSampler(() => this.metrics.egressTotal());
    this.hitRatio = new HitRatioSampler(() => this.cacheCounts());
  }

  get nodeId(): string {
    return this.id;
  }

  /** The loopback port sibling workers use as this worker's upstream; 0 when not sharded. */
  get peerPort(): number {
    return this.privatePort;
  }

  async start(): Promise<{ httpPort: number }> {
    const server = await listen((req, res) => this.route(req, res, false), { port: this.config.httpPort, host: this.config.host }, this.config.httpLimits);
    this.server = server;
    this.port = (server.address() as AddressInfo).port;
    if (this.config.shard) {
      // Exclusive: under node:cluster a plain listen would share one port among all workers.
      const priv = await listen((req, res) => this.route(req, res, true), { port: 0, host: '127.0.0.1', exclusive: true }, this.config.httpLimits);
      this.privateServer = priv;
      this.privatePort = (priv.address() as AddressInfo).port;
    }
    const base = edgeNodeId(this.config, this.port);
    // Workers need ids of their own: the owner must not take a sibling's Via entry for its own (a loop).
    this.id = this.config.shard ? `${base}.w${this.config.shard.index}` : base;
    this.cache = new HttpCache(this.router, this.metrics, this.log, {
      nodeId: this.id,
      cacheBytes: this.config.cacheBytes,
      freshness: this.config.freshness,
      prefetch: this.config.prefetch,
      // Never shorter than an ordinary request's wait (--upstream-timeout may exceed the held floor).
      heldTimeoutMs: Math.max(this.config.upstream.heldTimeoutMs, this.config.upstream.headersTimeoutMs),
    });
    this.relay = new FlvRelay(this.hub, this.router, this.hooks, this.metrics, this.log.child({ part: 'flv-relay' }), {
      nodeId: this.id,
      lingerMs: this.config.flvLingerMs,
      graceMs: this.config.flvGraceMs,
      idleTimeoutMs: this.config.upstream.idleTimeoutMs,
    });
    this.registration = edgeRegistration(this.config, this.id, this.port, () => this.nodeLoad(), this.log);
    await this.registration?.start();
    this.log.info({ id: this.id, port: this.port, privatePort: this.privatePort, upstreams: this.config.upstreams, locate: this.config.locate }, 'edge listening');
    return { httpPort: this.port };
  }

  /** With --workers: every slot's private port (null while that worker is down), from the primary. */
  setPeers(ports: readonly (number | null)[]): void {
    this.router.setPeers(ports);
  }

  /** Viewer requests for HLS objects: cache hits and misses since start. */
  cacheCounts(): CacheCounts {
    return { hits: this.cache?.hits ?? 0, misses: this.cache?.misses ?? 0 };
  }

  /** Deregisters, ends FLV viewers cleanly, then closes every socket. */
  async stop(): Promise<void> {
    const server = this.server;
    this.server = undefined;
    if (!server) return;
    await this.registration?.stop();
    this.relay?.closeAll('edge shutting down');
    this.hub.closeAll('edge shutting down');
    const servers = this.privateServer ? [server, this.privateServer] : [server];
    this.privateServer = undefined;
    await Promise.all(
      servers.map(
        (s) =>
          new Promise<void>((resolve) => {
            s.close(() => resolve());
            s.closeIdleConnections();
            // Live FLV responses were ended above; whatever still hangs on is cut shortly after.
            setTimeout(() => s.closeAllConnections(), 200).unref();
          }),
      ),
    );
    this.router.close();
    this.pool.close();
    this.log.info({ id: this.id }, 'edge stopped');
  }

  /** Load for heartbeats; egress and CPU are averaged since the previous call. */
  nodeLoad(): NodeLoad {
    const { egressBps, cpu } = this.load.sample();
    // One relay session per stream: the keys are unique already.
    const streams = this.relay?.status().map((s) => s.stream) ?? [];
    const cacheHitRatio = this.hitRatio.sample();
    return {
      viewers: this.hlsViewers.count() + (this.relay?.viewers() ?? 0),
      publishers: 0,
      egressBps: Math.round(egressBps),
      cpu: Math.round(cpu * 1000) / 1000,
      streams,
      ...(cacheHitRatio !== undefined ? { cacheHitRatio } : {}),
    };
  }

  status(): EdgeStatus {
    const counts = this.cacheCounts();
    return {
      id: this.id,
      region: this.config.region,
      port: this.port,
      pid: process.pid,
      shard: this.router.status(this.privatePort),
      upstreams: this.pool.status(),
      locator: this.pool.locatorCounts(),
      cache: this.cache?.stats(),
      ...counts,
      cacheHitRatio: hitRatio(counts) ?? 0,
      flv: this.relay?.status() ?? [],
      viewers: { hls: this.hlsViewers.count(), flv: this.relay?.viewers() ?? 0 },
      registered: this.registration?.isRegistered ?? false,
    };
  }

  /** `internal`: the request came in on the private port, from a sibling worker (--workers). */
  private route(req: IncomingMessage, res: ServerResponse, internal: boolean): void {
    // Every answer is readable cross-origin: the listeners' responses add CORS (CrossOriginResponse).
    const url = req.url ?? '/';
    const q = url.indexOf('?');
    const pathname = q < 0 ? url : url.slice(0, q);
    if (req.method === 'OPTIONS') {
      res.writeHead(204, {
        'access-control-allow-methods': 'GET, HEAD, OPTIONS',
        'access-control-allow-headers': 'Range, Content-Type',
        'access-control-max-age': '86400',
      });
      res.end();
      return;
    }
    if (pathname === '/metrics') {
      void this.serveMetrics(res);
      return;
    }
    if (pathname === '/api/edge') return reply(res, 200, this.status());
    if (pathname === '/healthz') return reply(res, 200, 'ok');
    const p = RESERVED_PREFIX.test(pathname) ? ({ kind: 'other' } as const) : parsePath(pathname);
    if (p.kind === 'other') {
      void this.servePages(req, res);
      return;
    }
    if (p.kind === 'invalid') {
      reply(res, 400, p.reason);
      return;
    }
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      reply(res, 405, 'method not allowed', { Allow: 'GET, HEAD, OPTIONS' });
      return;
    }
    // Loops are refused before joining any coalesced fetch: two edges waiting on each other would hang.
    const via = checkVia(req.headers.via, this.id, this.config.maxHops);
    if (!via.ok) {
      this.log.warn({ path: pathname, reason: via.reason }, 'loop refused');
      reply(res, 508, via.reason);
      return;
    }
    void this.serveMedia(req, res, p, url.slice(pathname.length), via.hops, internal).catch((err: unknown) =>
      replyThrown(res, err, this.log, { path: pathname }),
    );
  }

  /**
   * What the edge enforces on every media request: the play token (when play tokens are on) on every
   * playlist, segment and FLV request, sibling workers' included; the on_play hook (when the edge has one)
   * for every FLV viewer that joins, open relay or not, and per client address + stream for HLS.
   */
  private async serveMedia(
    req: IncomingMessage,
    res: ServerResponse,
    p: Extract<StreamPath, { path: string }>,
    search: string,
    hops: readonly string[],
    internal: boolean,
  ): Promise<void> {
    const params = new URLSearchParams(search);
    const refused = playTokenRefusal(this.config.playKey, p.app, p.stream, params);
    if (refused) {
      reply(res, 403, { error: 'forbidden', message: `${refused} (${streamKey(p.app, p.stream)})` });
      return;
    }
    if (p.kind === 'flv') {
      // The relay's FLV handler asks on_play for each viewer.
      await this.relay?.handle(req, res, p.app, p.stream, hops, internal);
      return;
    }
    // Sibling workers were asked about where the viewer arrived.
    if (!internal) {
      // Without an on_play hook every play is allowed: no event to build (a client id each), nothing to await.
      if (this.hooks.asksPlay) {
        const event = { app: p.app, stream: p.stream, query: Object.fromEntries(params), remoteAddress: req.socket.remoteAddress ?? '', clientId: newClientId('hls') };
        const answer = await this.decisions.allow(event, 'hls');
        if (!answer.ok) {
          reply(res, 403, { error: 'forbidden', message: answer.reason });
          return;
        }
      }
      if (p.kind === 'playlist') this.hlsViewers.touch(req.socket.remoteAddress ?? '');
    }
    if (p.kind === 'segment') {
      this.cache?.handle(req, res, p.path, p.kind, hops, internal);
      return;
    }
    if (p.kind === 'snapshot') {
      // Kept 1 s at most (freshness.ts), one upstream fetch per width however many viewers ask.
      const snapshot = snapshotRequest(p.path, search);
      if (!snapshot.ok) return reply(res, 400, snapshot.reason);
      this.cache?.handle(req, res, p.path, p.kind, hops, internal, undefined, snapshot);
      return;
    }
    // LL-HLS delivery directives name the playlist version: part of the key, checked before use.
    const version = playlistRequest(p.path, search);
    if (!version.ok) {
      reply(res, 400, version.reason);
      return;
    }
    // Playlists list their URIs with this viewer's token, each variant with its own (or none): a playlist
    // cached from another viewer's fetch never hands out that viewer's tokens.
    const viewer: PlaylistViewer = { app: p.app, stream: p.stream, token: playTokenOf(params), key: this.config.playKey };
    // A restarted upstream starts its playlist over: viewers keep one continuous playlist (playlist-continuity.ts).
    // Keyed as cached: each DVR ?start= playlist is one of its own.
    const rewrite = (body: Buffer): Buffer => viewerPlaylists.get(this.continuity.apply(version.key, body), viewer);
    this.cache?.handle(req, res, p.path, p.kind, hops, internal, rewrite, version);
  }

  /** With --workers, /metrics in any worker answers with all workers' metrics summed (see workers.ts). */
  setMetricsSource(source: () => Promise<string>): void {
    this.metricsSource = source;
  }

  private async serveMetrics(res: ServerResponse): Promise<void> {
    try {
      const text = this.metricsSource ? await this.metricsSource() : await this.metrics.registry.metrics();
      reply(res, 200, text.trimEnd(), { 'Content-Type': this.metrics.registry.contentType });
    } catch (err) {
      replyThrown(res, err, this.log, { path: '/metrics' });
    }
  }

  private async servePages(req: IncomingMessage, res: ServerResponse): Promise<void> {
    try {
      if (this.config.pages && (await this.config.pages(req, res))) return;
      reply(res, 404, 'not found');
    } catch (err) {
      replyThrown(res, err, this.log, { url: req.url });
    }
  }
}

/** Cached playlists as each viewer gets them: their URIs with the viewer's tokens, or with none. */
const viewerPlaylists = new PlaylistsForViewers();

function listen(
  handler: http.RequestListener,
  options: { port: number; host: string; exclusive?: boolean },
  limits: Partial<HttpLimits>,
): Promise<http.Server> {
  const server = createHttpServer(handler, limits, { crossOrigin: true });
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(options, () => {
      server.off('error', reject);
      resolve(server);
    });
  });
}
