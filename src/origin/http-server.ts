// Plain node:http with a tiny router. Routes match on method and a RegExp over the path; handlers the
// origin does not own (edge, player pages) are mounted with use() and tried, in order, after the routes.
import http from 'node:http';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import type { Logger } from '../shared/log.js';

export type RouteHandler = (req: IncomingMessage, res: ServerResponse, params: readonly string[], url: URL) => void | Promise<void>;
/** A fallback handler: returns true when it took the request. */
export type FallbackHandler = (req: IncomingMessage, res: ServerResponse, url: URL) => boolean | Promise<boolean>;

interface Route {
  readonly methods: readonly string[];
  readonly pattern: RegExp;
  readonly handler: RouteHandler;
}

export const CORS_HEADERS = {
  'Access-Control-Allow-Origin': '*',
  'Access-Control-Allow-Methods': 'GET, HEAD, OPTIONS, DELETE',
  'Access-Control-Allow-Headers': 'Authorization, Range, Content-Type',
  'Access-Control-Expose-Headers': 'Content-Length, Content-Range',
} as const;

/** A small text or JSON reply with CORS. */
export function reply(res: ServerResponse, status: number, body: string | object, headers: Record<string, string> = {}): void {
  if (res.headersSent) {
    res.end();
    return;
  }
  const text = typeof body === 'string' ? body + '\n' : JSON.stringify(body);
  res.writeHead(status, {
    ...CORS_HEADERS,
    'Content-Type': typeof body === 'string' ? 'text/plain; charset=utf-8' : 'application/json',
    'Content-Length': Buffer.byteLength(text),
    'Cache-Control': 'no-cache',
    ...headers,
  });
  res.end(text);
}

/** Limits of every HTTP listener (origin, edge): a slow or greedy client costs its own connection only. */
export interface HttpLimits {
  /** Time a client has to send the request head, ms (slowloris). */
  readonly headersTimeoutMs: number;
  /** Time a client has to send the whole request, ms (not the response: live FLV bodies are unaffected). */
  readonly requestTimeoutMs: number;
  /** Idle time of a kept-alive connection between requests, ms. */
  readonly keepAliveTimeoutMs: number;
  /** Request headers parsed; the rest are ignored. */
  readonly maxHeadersCount: number;
  /** Open connections; new ones past it are closed at once. */
  readonly maxConnections: number;
}

export const DEFAULT_HTTP_LIMITS: HttpLimits = {
  headersTimeoutMs: 10_000,
  requestTimeoutMs: 30_000,
  // Players refresh a playlist every segment (a few seconds): longer idle connections serve nobody.
  keepAliveTimeoutMs: 10_000,
  maxHeadersCount: 100,
  maxConnections: 10_000,
};

/** An http.Server with `limits` applied. */
export function createHttpServer(handler: http.RequestListener, limits: Partial<HttpLimits> = {}): http.Server {
  const l = { ...DEFAULT_HTTP_LIMITS, ...limits };
  const server = http.createServer(
    {
      headersTimeout: l.headersTimeoutMs,
      requestTimeout: l.requestTimeoutMs,
      // Node checks the two timeouts above on this period (30 s by default, longer than the timeouts).
      connectionsCheckingInterval: Math.max(250, Math.min(1000, Math.floor(l.headersTimeoutMs / 2))),
    },
    handler,
  );
  server.keepAliveTimeout = l.keepAliveTimeoutMs;
  server.maxHeadersCount = l.maxHeadersCount;
  server.maxConnections = l.maxConnections;
  // Node's headers timeout starts with the first byte: a connection that never sends one would hold a
  // slot under the cap forever. It gets the same time to start its request.
  server.on('connection', (socket: Socket) => {
    const timer = setTimeout(() => {
      if (socket.bytesRead === 0) socket.destroy();
    }, l.headersTimeoutMs);
    timer.unref();
    socket.once('close', () => clearTimeout(timer));
  });
  return server;
}

export class HttpServer {
  readonly server: http.Server;
  private readonly routes: Route[] = [];
  private readonly fallbacks: FallbackHandler[] = [];
  private readonly sockets = new Set<Socket>();
  private readonly closers: Array<() => void> = [];

  constructor(
    private readonly log: Logger,
    limits: Partial<HttpLimits> = {},
  ) {
    this.server = createHttpServer((req, res) => void this.handle(req, res), limits);
    this.server.on('connection', (s: Socket) => {
      this.sockets.add(s);
      s.once('close', () => this.sockets.delete(s));
    });
  }

  /** Adds a route; `pattern` is matched against the URL path, its groups become `params`. */
  route(methods: string | readonly string[], pattern: RegExp, handler: RouteHandler): this {
    this.routes.push({ methods: typeof methods === 'string' ? [methods] : methods, pattern, handler });
    return this;
  }

  /** Mounts a fallback handler (edge, player pages, ...), tried after the routes in order of mounting. */
  use(handler: FallbackHandler): this {
    this.fallbacks.push(handler);
    return this;
  }

  /** Called on close() before the sockets are closed, e.g. to end live responses cleanly. */
  onClose(fn: () => void): void {
    this.closers.push(fn);
  }

  async listen(port: number, host: string): Promise<number> {
    await new Promise<void>((resolve, reject) => {
      this.server.once('error', reject);
      this.server.listen(port, host, () => {
        this.server.off('error', reject);
        resolve();
      });
    });
    return (this.server.address() as AddressInfo).port;
  }

  /** Stops accepting, ends live responses, then closes every socket. */
  async close(): Promise<void> {
    for (const fn of this.closers) fn();
    const closed = new Promise<void>((resolve) => this.server.close(() => resolve()));
    this.server.closeIdleConnections();
    // Give clean ends a moment to flush, then cut whatever is left.
    await Promise.race([closed, new Promise((r) => setTimeout(r, 1000).unref())]);
    for (const s of this.sockets) s.destroy();
    await closed;
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    try {
      const url = new URL(req.url ?? '/', 'http://localhost');
      const method = req.method ?? 'GET';
      let pathMatched = false;
      for (const r of this.routes) {
        const m = r.pattern.exec(url.pathname);
        if (!m) continue;
        pathMatched = true;
        if (method === 'OPTIONS') {
          res.writeHead(204, { ...CORS_HEADERS, 'Access-Control-Max-Age': '86400' });
          res.end();
          return;
        }
        if (!r.methods.includes(method)) continue;
        await r.handler(req, res, m.slice(1), url);
        return;
      }
      for (const f of this.fallbacks) if (await f(req, res, url)) return;
      reply(res, pathMatched ? 405 : 404, pathMatched ? 'method not allowed' : 'not found');
    } catch (err) {
      this.log.error({ err, url: req.url }, 'http handler failed');
      reply(res, 500, 'internal error');
    }
  }
}
