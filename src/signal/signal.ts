// The signal service: HTTP API + chat WebSocket on one port, over a memory or Redis registry.
import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Duplex } from 'node:stream';
import express from 'express';
import type { Express } from 'express';
import { HttpError, createHttpServer, reply, type HttpLimits, type MountedHandler } from '../shared/http.js';
import type { ClusterKeys } from '../shared/keys.js';
import { createLogger } from '../shared/log.js';
import type { Logger } from '../shared/log.js';
import { checkNodeSignature, hasAdminBearer } from '../shared/admin-auth.js';
import { PLAY_API_ROUTE, ROUTE_API_ROUTE, streamKey } from '../shared/url-contract.js';
import { createApiRouter, lookupRoute, placePlay } from './api.js';
import type { ApiContext } from './api.js';
import { ChatHub, defaultChatLimits } from './chat.js';
import { clientAddress } from './client-address.js';
import type { TrustFn } from './client-address.js';
import type { ChatLimits } from './chat.js';
import { errorHandler, replyApiError } from './errors.js';
import { MemoryStore } from './memory-store.js';
import { SignalMetrics } from './metrics.js';
import { ClusterView, Placement, RingCache, defaultPlacementOptions } from './placement.js';
import type { PlacementOptions } from './placement.js';
import { RedisStore } from './redis-store.js';
import { RegionGraph, RegionMap } from './region-map.js';
import { StreamService } from './streams.js';
import { SIGNAL_DEFAULTS } from './defaults.js';
import type { RegistryStore } from './store.js';
import { streamId } from './types.js';

export interface SignalConfig {
  // Defaults: SIGNAL_DEFAULTS (./defaults.ts). Durations in ms.
  /** 0 picks a free port. */
  readonly apiPort: number;
  readonly host?: string;
  /**
   * The cluster's keys (shared/keys.ts): publish and play tokens, the admin bearer of the write routes, the
   * node key of registration, heartbeats and kicks. Required unless `insecure`.
   */
  readonly keys?: ClusterKeys | undefined;
  /** Development only: run without keys, so without tokens and with every write route open. */
  readonly insecure?: boolean;
  /** redis://… : share the registry with other signal instances. */
  readonly redisUrl?: string;
  /** Inject a store (tests); wins over redisUrl. Not closed by stop(). */
  readonly store?: RegistryStore;
  /** "CIDR=REGION,…" or a parsed map. */
  readonly regionMap?: string | RegionMap;
  /** "A:B,C;B:A" or a parsed graph. */
  readonly regionGraph?: string | RegionGraph;
  /** rtmp://host:1935 and http://host:8080 of an origin to use when none is registered. */
  readonly originRtmp?: string;
  readonly originHttp?: string;
  /**
   * rtmp://host:1935 of a TCP front over every origin's RTMP port (nginx/ingest.conf.template): push URLs are
   * handed out on it, so a publisher that reconnects after its origin died lands on a live one.
   */
  readonly ingestRtmpUrl?: string;
  /** A node that has not sent a heartbeat for this long leaves. */
  readonly nodeTtlMs?: number;
  /** POST /api/streams may ask for less or more, up to maxPublishTokenTtlMs. */
  readonly publishTokenTtlMs?: number;
  readonly maxPublishTokenTtlMs?: number;
  readonly playTokens?: boolean;
  readonly playTokenTtlMs?: number;
  readonly placement?: Partial<PlacementOptions>;
  readonly chat?: Partial<ChatLimits>;
  /** express "trust proxy": lets X-Forwarded-For set the client address used by the region map. */
  readonly trustProxy?: boolean | string | number;
  readonly kickTimeoutMs?: number;
  /** GET and DELETE /api/recordings: how long to wait for each origin's answer. */
  readonly recordingsTimeoutMs?: number;
  /** Timeouts and caps of the HTTP listener (shared/http.ts DEFAULT_HTTP_LIMITS; keep-alive 65 s when not given, the CLI gives its flag). */
  readonly http?: Partial<HttpLimits>;
  /** The player pages (cli/pages.ts), tried after the API routes. */
  readonly pages?: MountedHandler;
  readonly logger?: Logger;
}

/** Longest the cluster view is reused without reading the store (other instances' heartbeats). */
const VIEW_MAX_AGE_MS = 1000;

/**
 * A plain play request (valid names, at most a valid region): answered without express, whose routing
 * costs about as much as the placement itself on this hottest route. Anything else goes through express,
 * which validates it and answers errors the usual way.
 */
const PLAIN_PLAY = /^\/api\/play\/([A-Za-z0-9_-]{1,64})\/([A-Za-z0-9_-]{1,64})(?:\?region=([A-Za-z0-9_-]{1,64}))?$/;
/** A plain route lookup (GET /api/route/{app}/{stream}, valid names, no query): the same shortcut. */
const PLAIN_ROUTE = /^\/api\/route\/([A-Za-z0-9_-]{1,64})\/([A-Za-z0-9_-]{1,64})$/;
const NO_BODY = Buffer.alloc(0);

export class Signal {
  readonly log: Logger;
  readonly metrics: SignalMetrics;
  readonly store: RegistryStore;
  private readonly ownsStore: boolean;
  private readonly placement: Placement;
  private readonly rings: RingCache;
  private readonly streams: StreamService;
  private readonly chat: ChatHub;
  private readonly nodeTtlMs: number;
  private server: Server | undefined;
  private view: ClusterView | undefined;
  private viewValidUntil = 0;
  private viewDirty = true;
  private refreshing: Promise<ClusterView> | undefined;
  private ctx: ApiContext | undefined;
  /** express's compiled trust-proxy function, when --trust-proxy is set: chat limits use it too. */
  private trust: TrustFn | undefined;

  constructor(private readonly config: SignalConfig) {
    // Closed by default: an open control plane lets anyone register nodes and mint or revoke streams.
    if (!config.keys && !config.insecure) throw new Error('signal: a secret is required (or insecure, for development only)');
    if (config.playTokens && !config.keys) throw new Error('signal: play tokens need a secret');
    this.log = config.logger ?? createLogger('signal');
    const d = SIGNAL_DEFAULTS;
    this.nodeTtlMs = config.nodeTtlMs ?? d.nodeTtlMs;
    if (config.store) {
      this.store = config.store;
      this.ownsStore = false;
    } else {
      this.store = config.redisUrl ? new RedisStore(config.redisUrl, this.nodeTtlMs, this.log) : new MemoryStore(this.nodeTtlMs);
      this.ownsStore = true;
    }
    const graph = typeof config.regionGraph === 'string' ? RegionGraph.parse(config.regionGraph) : config.regionGraph;
    const popts = { ...defaultPlacementOptions, ...config.placement };
    this.placement = new Placement(popts, graph);
    this.rings = new RingCache(popts.vnodes);
    // Tokens carry whole seconds: the lifetimes are converted here, once.
    const sec = (ms: number): number => Math.floor(ms / 1000);
    const publishTtl = sec(config.publishTokenTtlMs ?? d.publishTokenTtlMs);
    this.streams = new StreamService(this.store, {
      publishKey: config.keys?.publish,
      playKey: config.keys?.play,
      publishTokenTtlSec: publishTtl,
      maxPublishTokenTtlSec: Math.max(sec(config.maxPublishTokenTtlMs ?? d.maxPublishTokenTtlMs), publishTtl),
      playTokens: config.playTokens ?? d.playTokens,
      playTokenTtlSec: sec(config.playTokenTtlMs ?? d.playTokenTtlMs),
    });
    this.metrics = new SignalMetrics({
      nodes: () => {
        const nodes = this.view?.nodes ?? [];
        const count = (kind: string): number => nodes.filter((n) => n.kind === kind).length;
        return { origin: count('origin'), edge: count('edge'), transcoder: count('transcoder') };
      },
      chatMembers: () => this.chat.memberCount,
    });
    this.chat = new ChatHub(this.store, { ...defaultChatLimits, ...config.chat }, (app, stream) => this.streamExists(app, stream), this.metrics, this.log);
    this.store.onEvent((e) => {
      if (e.type === 'nodes') this.viewDirty = true;
    });
  }


  private async streamExists(app: string, stream: string): Promise<boolean> {
    if (await this.store.getStream(streamId(app, stream))) return true;
    return (await this.currentView()).streams.has(streamKey(app, stream));
  }

  /** The cluster view, rebuilt when a node changed, the oldest heartbeat's TTL ran out, or it aged. */
  private currentView(): Promise<ClusterView> {
    const now = Date.now();
    if (this.view && !this.viewDirty && now < this.viewValidUntil) return Promise.resolve(this.view);
    this.refreshing ??= (async () => {
      try {
        this.viewDirty = false;
        const at = Date.now();
        const nodes = await this.store.listNodes(at);
        const view = new ClusterView(nodes, this.rings, this.view);
        this.rings.commit();
        this.placement.prune(view);
        let validUntil = at + VIEW_MAX_AGE_MS;
        for (const n of nodes) validUntil = Math.min(validUntil, n.lastSeen + this.nodeTtlMs);
        this.view = view;
        this.viewValidUntil = validUntil;
        return view;
      } finally {
        this.refreshing = undefined;
      }
    })();
    return this.refreshing;
  }

  private buildApp(): Express {
    const app = express();
    app.disable('x-powered-by');
    app.set('etag', false);
    if (this.config.trustProxy !== undefined) {
      app.set('trust proxy', this.config.trustProxy);
      this.trust = app.get('trust proxy fn') as TrustFn;
    }
    const metrics = this.metrics;
    app.use((req, res, next) => {
      const start = process.hrtime.bigint();
      res.on('finish', () => {
        const route = (req.route as { path?: string } | undefined)?.path ?? (req.path.startsWith('/api/') ? 'unmatched' : 'other');
        metrics.httpRequests.inc({ route, method: req.method, status: String(res.statusCode) });
        metrics.httpDuration.observe({ route }, Number(process.hrtime.bigint() - start) / 1e9);
      });
      next();
    });
    app.get('/metrics', async (_req, res) => {
      reply(res, 200, (await metrics.registry.metrics()).trimEnd(), { 'Content-Type': metrics.registry.contentType });
    });
    app.use(createApiRouter(this.apiContext()));
    const pages = this.config.pages;
    if (pages) app.use((req, res, next) => void Promise.resolve(pages(req, res)).then((took) => took || next(), next));
    app.use((req, _res, next) => next(new HttpError(404, 'not_found', `no route ${req.method} ${req.path}`)));
    app.use(errorHandler(this.log));
    return app;
  }

  /** What the API routes work with; built once. */
  private apiContext(): ApiContext {
    this.ctx ??= {
      store: this.store,
      streams: this.streams,
      placement: this.placement,
      view: () => this.currentView(),
      nodesChanged: () => (this.viewDirty = true),
      regionMap: typeof this.config.regionMap === 'string' ? RegionMap.parse(this.config.regionMap) : this.config.regionMap,
      fallbackOrigin: {
        rtmpUrl: this.config.originRtmp?.replace(/\/+$/, ''),
        httpUrl: this.config.originHttp?.replace(/\/+$/, ''),
      },
      ingestRtmpUrl: this.config.ingestRtmpUrl?.replace(/\/+$/, ''),
      keys: this.config.keys,
      kickTimeoutMs: this.config.kickTimeoutMs ?? SIGNAL_DEFAULTS.kickTimeoutMs,
      recordingsTimeoutMs: this.config.recordingsTimeoutMs ?? SIGNAL_DEFAULTS.recordingsTimeoutMs,
      metrics: this.metrics,
      log: this.log,
      now: () => Date.now(),
    };
    return this.ctx;
  }

  /** Direct answer to a plain play request; false when the request is not one (express takes it). */
  private playDirect(req: IncomingMessage, res: ServerResponse): boolean {
    // Behind a proxy the client address needs express's trust-proxy logic: no shortcut then.
    if (req.method !== 'GET' || this.config.trustProxy !== undefined) return false;
    const m = PLAIN_PLAY.exec(req.url ?? '');
    if (!m) return false;
    const ctx = this.apiContext();
    const region = m[3] ?? ctx.regionMap?.lookup(req.socket.remoteAddress);
    this.answerDirect(res, PLAY_API_ROUTE, placePlay(ctx, m[1] as string, m[2] as string, region).then((body) => ({ status: 200, body })));
    return true;
  }

  /**
   * Direct answer to a plain, authorised route lookup (edges and origins ask it per stream); false when the
   * request is not one: express takes it, and answers a request with a body, a bad name or a refused
   * signature the usual way.
   */
  private routeDirect(req: IncomingMessage, res: ServerResponse): boolean {
    if (req.method !== 'GET' || (req.headers['content-length'] ?? '0') !== '0' || req.headers['transfer-encoding'] !== undefined) return false;
    const url = req.url ?? '';
    const m = PLAIN_ROUTE.exec(url);
    if (!m) return false;
    const keys = this.config.keys;
    if (keys && !hasAdminBearer(req.headers.authorization, keys) && !checkNodeSignature(keys, req.headers, 'GET', url, NO_BODY).ok) return false;
    this.answerDirect(res, ROUTE_API_ROUTE, lookupRoute(this.apiContext(), m[1] as string, m[2] as string).then(({ status, answer }) => ({ status, body: answer })));
    return true;
  }

  /** Replies with what `answer` resolves to (or its error, as the API answers errors), counted as express counts `route`. */
  private answerDirect(res: ServerResponse, route: string, answer: Promise<{ status: number; body: object }>): void {
    const start = process.hrtime.bigint();
    answer
      .then(
        ({ status, body }) => reply(res, status, body),
        (err: unknown) => replyApiError(res, err, this.log),
      )
      .then(() => {
        this.metrics.httpRequests.inc({ route, method: 'GET', status: String(res.statusCode) });
        this.metrics.httpDuration.observe({ route }, Number(process.hrtime.bigint() - start) / 1e9);
      })
      // The client may be gone, or a reply may fail: never an unhandled rejection.
      .catch((err: unknown) => {
        this.log.warn({ err, route }, 'direct reply failed');
        res.destroy();
      });
  }

  async start(): Promise<{ apiPort: number }> {
    if (this.server) throw new Error('Signal already started');
    // Fail at start, with a clear message, when Redis is unreachable.
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([
      this.store.ready(),
      new Promise<never>((_r, reject) => {
        timer = setTimeout(() => reject(new Error(`the ${this.store.kind} registry is not ready after 10 s`)), 10_000);
      }),
    ]).finally(() => clearTimeout(timer));
    const app = this.buildApp();
    const server = createHttpServer(
      (req, res) => {
        if (!this.playDirect(req, res) && !this.routeDirect(req, res)) app(req, res);
      },
      // Longer than the 60 s idle timeout of usual load balancers in front of the API, so that they close first.
      { keepAliveTimeoutMs: 65_000, ...this.config.http },
    );
    server.on('upgrade', (req: IncomingMessage, socket: Duplex, head: Buffer) => {
      socket.on('error', () => socket.destroy());
      // Whatever a client sends, an upgrade costs it its own connection at most.
      try {
        this.upgrade(req, socket, head);
      } catch (err) {
        this.log.warn({ err }, 'upgrade failed');
        socket.destroy();
      }
    });
    this.server = server;
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(this.config.apiPort, this.config.host ?? SIGNAL_DEFAULTS.host, () => {
        server.off('error', reject);
        resolve();
      });
    });
    const apiPort = (server.address() as AddressInfo).port;
    this.log.info({ apiPort, store: this.store.kind, secured: this.config.keys !== undefined }, 'signal listening');
    if (!this.config.keys) this.log.warn('insecure: no secret, no tokens, every write route is open (development only)');
    return { apiPort };
  }

  /** A chat WebSocket upgrade; anything else is refused. */
  private upgrade(req: IncomingMessage, socket: Duplex, head: Buffer): void {
    let url: URL;
    try {
      url = new URL(req.url ?? '/', 'http://x');
    } catch {
      // e.g. "//[": an authority that is no host
      socket.end('HTTP/1.1 400 Bad Request\r\nConnection: close\r\nContent-Length: 0\r\n\r\n');
      return;
    }
    const room = ChatHub.match(url.pathname);
    if (room === undefined) {
      socket.end('HTTP/1.1 404 Not Found\r\nConnection: close\r\nContent-Length: 0\r\n\r\n');
      return;
    }
    this.chat.handleUpgrade(req, socket, head, room, url, clientAddress(req, this.trust));
  }

  async stop(): Promise<void> {
    await this.chat.close();
    const server = this.server;
    if (server) {
      await new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      });
    }
    if (this.ownsStore) await this.store.close();
    this.log.info('signal stopped');
  }
}
