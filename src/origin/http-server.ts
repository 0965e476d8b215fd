// Plain node:http with a tiny router. Routes match on method and a RegExp over the path; handlers the
// origin does not own (the player pages) are mounted with use() and tried, in order, after the routes.
// Hooks added with before() see every request first (origin-to-origin: a stream held elsewhere).
import type http from 'node:http';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { allowCrossOrigin, createHttpServer, reply, replyThrown, type HttpLimits, type MountedHandler, type Route, type RouteHandler } from '../shared/http.js';
import type { Logger } from '../shared/log.js';

/** A hook tried before the routes: true when it answered the request. */
export type BeforeRoutes = (req: IncomingMessage, res: ServerResponse, url: URL) => boolean | Promise<boolean>;

export class HttpServer {
  readonly server: http.Server;
  private readonly routes: Route[] = [];
  private readonly fallbacks: MountedHandler[] = [];
  private readonly hooks: BeforeRoutes[] = [];
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

  /** Adds a hook tried before the routes, in order of adding; one that answers (true) ends the request there. */
  before(hook: BeforeRoutes): this {
    this.hooks.push(hook);
    return this;
  }

  /** Mounts a handler (the player pages), tried after the routes in order of mounting. */
  use(handler: MountedHandler): this {
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
    allowCrossOrigin(res);
    try {
      const url = new URL(req.url ?? '/', 'http://localhost');
      const method = req.method ?? 'GET';
      for (const hook of this.hooks) if (await hook(req, res, url)) return;
      let pathMatched = false;
      for (const r of this.routes) {
        const m = r.pattern.exec(url.pathname);
        if (!m) continue;
        pathMatched = true;
        if (method === 'OPTIONS') {
          res.writeHead(204, { 'Access-Control-Max-Age': '86400' });
          res.end();
          return;
        }
        if (!r.methods.includes(method)) continue;
        await r.handler(req, res, m.slice(1), url);
        return;
      }
      for (const f of this.fallbacks) if (await f(req, res)) return;
      reply(res, pathMatched ? 405 : 404, pathMatched ? 'method not allowed' : 'not found');
    } catch (err) {
      replyThrown(res, err, this.log, { url: req.url });
    }
  }
}
