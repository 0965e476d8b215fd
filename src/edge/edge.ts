// One edge node: plain node:http in front of the HLS cache and the HTTP-FLV relay, plus /metrics,
// /api/edge and registration with the control plane.
import http from 'node:http';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { hostname } from 'node:os';
import { Hub } from '../origin/hub.js';
import type { NodeLoad } from '../shared/cluster.js';
import { createLogger, type Logger } from '../shared/log.js';
import { sendError } from './cache-object.js';
import { defaultNodeId, resolveEdgeConfig, type EdgeConfig, type ResolvedEdgeConfig } from './config.js';
import { FlvRelay } from './flv-relay.js';
import { HlsViewers } from './hls-viewers.js';
import { HttpCache } from './http-cache.js';
import { LoadSampler } from './load.js';
import { EdgeMetrics } from './metrics.js';
import { classifyPath } from './paths.js';
import { Registration } from './registration.js';
import { UpstreamPool } from './upstream.js';
import { checkVia } from './via.js';

export type { EdgeConfig } from './config.js';

// Paths owned by the fallback handler (player pages, other APIs) even though they look like /{app}/...
const RESERVED_PREFIX = /^\/(player|api|static)(\/|$)/;

export interface EdgeStatus {
  readonly id: string;
  readonly region: string;
  readonly port: number;
  readonly upstreams: ReturnType<UpstreamPool['status']>;
  readonly cache: ReturnType<HttpCache['stats']> | undefined;
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
  private readonly hlsViewers = new HlsViewers();
  private readonly load: LoadSampler;
  private server: http.Server | undefined;
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
    this.pool = new UpstreamPool(this.config.upstreams, this.config.upstream, this.log);
    this.hub = new Hub({ logger: this.log.child({ part: 'hub' }) });
    this.metrics.hlsViewers = () => this.hlsViewers.count();
    this.metrics.flvStats = () => ({ bytesOut: this.hub.totals.bytesOut, viewers: this.relay?.viewers() ?? 0 });
    this.load = new LoadSampler(() => this.metrics.egressTotal());
  }

  get nodeId(): string {
    return this.id;
  }

  async start(): Promise<{ httpPort: number }> {
    const server = http.createServer((req, res) => this.route(req, res));
    server.keepAliveTimeout = 30_000;
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(this.config.httpPort, this.config.host, () => {
        server.off('error', reject);
        resolve();
      });
    });
    this.server = server;
    this.port = (server.address() as AddressInfo).port;
    this.id = this.config.nodeId ?? defaultNodeId(this.config.region, this.port);
    this.cache = new HttpCache(this.pool, this.metrics, this.log, {
      nodeId: this.id,
      cacheBytes: this.config.cacheBytes,
      freshness: this.config.freshness,
      prefetch: this.config.prefetch,
    });
    this.relay = new FlvRelay(this.hub, this.pool, this.metrics, this.log.child({ part: 'flv-relay' }), {
      nodeId: this.id,
      lingerMs: this.config.flvLingerMs,
      graceMs: this.config.flvGraceMs,
      idleTimeoutMs: this.config.upstream.idleTimeoutMs,
    });
    if (this.config.signal) {
      this.registration = new Registration(
        {
          signal: this.config.signal,
          registration: {
            id: this.id,
            kind: 'edge',
            region: this.config.region,
            publicUrl: this.config.publicUrl ?? `http://${hostname()}:${this.port}`,
            capacity: this.config.capacity,
          },
          load: () => this.nodeLoad(),
          intervalMs: this.config.heartbeatMs,
          ...(this.config.signalToken ? { token: this.config.signalToken } : {}),
        },
        this.log.child({ part: 'registration' }),
      );
      await this.registration.start();
    }
    this.log.info({ id: this.id, port: this.port, upstreams: this.config.upstreams }, 'edge listening');
    return { httpPort: this.port };
  }

  /** Deregisters, ends FLV viewers cleanly, then closes every socket. */
  async stop(): Promise<void> {
    const server = this.server;
    this.server = undefined;
    if (!server) return;
    await this.registration?.stop();
    this.relay?.closeAll('edge shutting down');
    this.hub.closeAll('edge shutting down');
    await new Promise<void>((resolve) => {
      server.close(() => resolve());
      server.closeIdleConnections();
      // Live FLV responses were ended above; whatever still hangs on is cut shortly after.
      setTimeout(() => server.closeAllConnections(), 200).unref();
    });
    this.pool.close();
    this.log.info({ id: this.id }, 'edge stopped');
  }

  /** Load for heartbeats; egress and CPU are averaged since the previous call. */
  nodeLoad(): NodeLoad {
    const { egressBps, cpu } = this.load.sample();
    const streams = new Set<string>(this.relay?.status().map((s) => s.stream));
    return {
      viewers: this.hlsViewers.count() + (this.relay?.viewers() ?? 0),
      publishers: 0,
      egressBps: Math.round(egressBps),
      cpu: Math.round(cpu * 1000) / 1000,
      streams: [...streams],
    };
  }

  status(): EdgeStatus {
    return {
      id: this.id,
      region: this.config.region,
      port: this.port,
      upstreams: this.pool.status(),
      cache: this.cache?.stats(),
      flv: this.relay?.status() ?? [],
      viewers: { hls: this.hlsViewers.count(), flv: this.relay?.viewers() ?? 0 },
      registered: this.registration?.isRegistered ?? false,
    };
  }

  private route(req: IncomingMessage, res: ServerResponse): void {
    const url = req.url ?? '/';
    const q = url.indexOf('?');
    const pathname = q < 0 ? url : url.slice(0, q);
    if (req.method === 'OPTIONS') {
      res.writeHead(204, {
        'access-control-allow-origin': '*',
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
    if (pathname === '/api/edge') {
      const body = JSON.stringify(this.status());
      res.writeHead(200, { 'content-type': 'application/json', 'cache-control': 'no-store', 'access-control-allow-origin': '*' });
      res.end(body);
      return;
    }
    if (pathname === '/healthz') {
      res.writeHead(200, { 'content-type': 'text/plain' });
      res.end('ok\n');
      return;
    }
    const p = RESERVED_PREFIX.test(pathname) ? ({ kind: 'other' } as const) : classifyPath(pathname);
    if (p.kind === 'other') {
      void this.fallback(req, res);
      return;
    }
    if (p.kind === 'invalid') {
      sendError(res, 400, p.reason);
      return;
    }
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      res.setHeader('allow', 'GET, HEAD, OPTIONS');
      sendError(res, 405, 'method not allowed');
      return;
    }
    // Loops are refused before joining any coalesced fetch: two edges waiting on each other would hang.
    const via = checkVia(req.headers.via, this.id, this.config.maxHops);
    if (!via.ok) {
      this.log.warn({ path: pathname, reason: via.reason }, 'loop refused');
      sendError(res, 508, via.reason);
      return;
    }
    if (p.kind === 'flv') {
      this.relay?.handle(req, res, p.app, p.stream, via.hops).catch((err: unknown) => {
        this.log.error({ err: String(err), path: pathname }, 'flv relay failed');
        sendError(res, 500, 'internal error');
      });
      return;
    }
    if (p.kind === 'playlist') {
      this.hlsViewers.touch(`${req.socket.remoteAddress ?? ''} ${req.headers['user-agent'] ?? ''}`);
    }
    this.cache?.handle(req, res, p.path, p.kind, via.hops);
  }

  /** With --workers, /metrics in any worker answers with all workers' metrics summed (see workers.ts). */
  setMetricsSource(source: () => Promise<string>): void {
    this.metricsSource = source;
  }

  private async serveMetrics(res: ServerResponse): Promise<void> {
    try {
      const text = this.metricsSource ? await this.metricsSource() : await this.metrics.registry.metrics();
      res.writeHead(200, { 'content-type': this.metrics.registry.contentType });
      res.end(text);
    } catch (err) {
      sendError(res, 500, String(err));
    }
  }

  private async fallback(req: IncomingMessage, res: ServerResponse): Promise<void> {
    try {
      if (this.config.fallback && (await this.config.fallback(req, res))) return;
      sendError(res, 404, 'not found');
    } catch (err) {
      this.log.error({ err }, 'fallback handler failed');
      sendError(res, 500, 'internal error');
    }
  }
}
