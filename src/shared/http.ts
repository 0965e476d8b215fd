// The HTTP toolkit of every service (origin, edge, signal, player pages): one way to answer with text or
// JSON (reply), one way to answer an error (HttpError, replyThrown: exception text never reaches a
// client), CORS for the public services, how the player pages are mounted (MountedHandler), and the
// listener with its limits (createHttpServer).
import http from 'node:http';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Socket } from 'node:net';
import type { Logger } from './log.js';

/** A route's handler: `params` are the route pattern's groups, `url` the parsed request URL. */
export type RouteHandler = (req: IncomingMessage, res: ServerResponse, params: readonly string[], url: URL) => void | Promise<void>;

/** A route as a router mounts it: methods, a RegExp over the path (its groups become `params`), the handler. */
export interface Route {
  readonly methods: readonly string[];
  readonly pattern: RegExp;
  readonly handler: RouteHandler;
}

/** Cache-Control of an object whose URL never changes content (segments, init segments, recordings' media). */
export const IMMUTABLE = 'public, max-age=3600, immutable';
/** Cache-Control of a live object that changes with every segment (playlists, snapshots): CDNs and players see a new one within a second. */
export const LIVE_MAX_AGE = 'public, max-age=1';

const CORS_HEADERS = {
  'Access-Control-Allow-Origin': '*',
  'Access-Control-Allow-Methods': 'GET, HEAD, OPTIONS, DELETE',
  'Access-Control-Allow-Headers': 'Authorization, Range, Content-Type',
  'Access-Control-Expose-Headers': 'Content-Length, Content-Range',
} as const;

/**
 * Makes a response readable by pages of any site: the media and status that origin and edge serve are
 * public. Set on the request, so every answer carries it; the signal's API does not.
 */
export function allowCrossOrigin(res: ServerResponse): void {
  for (const [name, value] of Object.entries(CORS_HEADERS)) res.setHeader(name, value);
}

const CORS_ENTRIES = Object.entries(CORS_HEADERS).map(([name, value]) => [name, name.toLowerCase(), value] as const);

type HeadersArg = http.OutgoingHttpHeaders | http.OutgoingHttpHeader[] | undefined;

/**
 * A response readable by pages of any site, as allowCrossOrigin makes it, with the CORS headers added
 * when writeHead sends the head instead of by setHeader up front. A handler that passes all of its
 * headers to writeHead (the edge's cache hits, with a list built once per cached object) then stays on
 * Node's fast path: a single earlier setHeader would make writeHead send each of them through setHeader.
 * A header the handler set itself, in any spelling, wins, as it did over allowCrossOrigin.
 */
export class CrossOriginResponse<Request extends IncomingMessage = IncomingMessage> extends http.ServerResponse<Request> {
  override writeHead(statusCode: number, reasonOrHeaders?: string | HeadersArg, maybeHeaders?: HeadersArg): this {
    const reason = typeof reasonOrHeaders === 'string' ? reasonOrHeaders : undefined;
    const headers = withCors(reason === undefined ? (reasonOrHeaders as HeadersArg) : maybeHeaders, this);
    return reason === undefined ? super.writeHead(statusCode, headers) : super.writeHead(statusCode, reason, headers);
  }
}

function withCors(headers: HeadersArg, res: ServerResponse): http.OutgoingHttpHeaders | http.OutgoingHttpHeader[] {
  const list = Array.isArray(headers);
  const names: readonly unknown[] = list ? headers : Object.keys(headers ?? {});
  // CORS headers among the handler's own (lower-cased): theirs win. Every CORS name is long and starts
  // with an "a": most names are passed over without a lower-cased copy.
  let own: string[] | undefined;
  for (let i = 0; i < names.length; i += list ? 2 : 1) {
    const name = String(names[i]);
    if (name.length < 16 || (name.charCodeAt(0) | 0x20) !== 0x61) continue;
    const lower = name.toLowerCase();
    if (lower.startsWith('access-control-')) (own ??= []).push(lower);
  }
  const cors: string[] = [];
  for (const [name, lower, value] of CORS_ENTRIES) {
    if (!own?.includes(lower) && !res.hasHeader(name)) cors.push(name, value);
  }
  if (list) return [...cors, ...(headers as string[])];
  const out: http.OutgoingHttpHeaders = {};
  for (let i = 0; i < cors.length; i += 2) out[cors[i] as string] = cors[i + 1];
  return Object.assign(out, headers);
}

/** A handler mounted beside a service's own routes (the player pages): true when it took the request. */
export type MountedHandler = (req: IncomingMessage, res: ServerResponse) => boolean | Promise<boolean>;

/**
 * A small text or JSON reply, never cached. After the head went out (a live response failing
 * midway) the socket is cut instead: an ended body would look complete to the client.
 */
export function reply(res: ServerResponse, status: number, body: string | object, headers: Record<string, string> = {}): void {
  if (res.headersSent) {
    res.destroy();
    return;
  }
  const text = typeof body === 'string' ? body + '\n' : JSON.stringify(body);
  res.writeHead(status, {
    'Content-Type': typeof body === 'string' ? 'text/plain; charset=utf-8' : 'application/json',
    'Content-Length': String(Buffer.byteLength(text)),
    'Cache-Control': 'no-store',
    'X-Content-Type-Options': 'nosniff',
    ...headers,
  });
  res.end(text);
}

/** An error meant for the client: its status, a machine-readable code and a message it may read. */
export class HttpError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
  ) {
    super(message);
  }
}

/**
 * The answer to anything a handler threw: an HttpError as it says (JSON `{error, message}`), anything else
 * a 500 "internal error" whose detail goes to the log only (it may name files, hosts or internals).
 */
export function replyThrown(res: ServerResponse, err: unknown, log: Logger, context: object = {}): void {
  if (err instanceof HttpError) return reply(res, err.status, { error: err.code, message: err.message });
  log.error({ ...context, err }, 'http handler failed');
  reply(res, 500, { error: 'internal', message: 'internal error' });
}

/** Limits of every HTTP listener (origin, edge, signal): a slow or greedy client costs its own connection only. */
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

/** An http.Server with `limits` applied; with `crossOrigin`, every response is a CrossOriginResponse. */
export function createHttpServer(handler: http.RequestListener, limits: Partial<HttpLimits> = {}, opts: { crossOrigin?: boolean } = {}): http.Server {
  const l = { ...DEFAULT_HTTP_LIMITS, ...limits };
  const server = http.createServer(
    {
      ...(opts.crossOrigin ? { ServerResponse: CrossOriginResponse } : {}),
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
