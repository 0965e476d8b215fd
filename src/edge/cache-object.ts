// One HTTP object as the edge holds it: filled once from the upstream, read by any number of viewers.
// Viewers that arrive while it is still arriving get the bytes received so far at once and the rest as
// they come, so a coalesced wait costs no extra latency beyond the upstream's own.
import type { IncomingHttpHeaders, ServerResponse } from 'node:http';
import { reply } from '../shared/http.js';
import { AGE_MS_HEADER } from '../shared/url-contract.js';
import type { Sized } from './lru.js';

// Response headers worth keeping from the upstream; everything hop-by-hop or per-connection is dropped.
const KEPT_HEADERS = ['content-type', 'cache-control', 'etag', 'last-modified', 'expires'] as const;
// Map + header bookkeeping, charged on top of the body so a flood of tiny 404s still hits the budget.
const OVERHEAD_BYTES = 512;

interface Reader {
  onHeaders(): void;
  onData(chunk: Buffer): void;
  onEnd(): void;
  onFail(): void;
}

/** The body one viewer gets from the shared one (e.g. a playlist with the viewer's play token). */
export type BodyRewrite = (body: Buffer) => Buffer;

export type ObjectState = 'pending' | 'streaming' | 'complete' | 'failed';

export class CacheObject implements Sized {
  state: ObjectState = 'pending';
  status = 0;
  headers: Record<string, string> = {};
  /** Upstream Content-Length, when it sent one. */
  contentLength: number | undefined;
  /** Date.now() when the response headers arrived. */
  receivedAt = 0;
  /** Age the response already had upstream, ms. */
  upstreamAgeMs = 0;
  /** Fresh until (Date.now() scale); <= receivedAt means "not storable". */
  expiresAt = 0;
  /** Status and message when the fetch failed before a response (502/504). */
  failure: { status: number; message: string } | undefined;
  size = 0;
  /** `headers` as a flat [name, value, ...] list for writeHead, built once: see responseHeaders. */
  private headerList: string[] | undefined;
  private chunks: Buffer[] = [];
  private received = 0;
  private readers = new Set<Reader>();

  constructor(readonly key: string) {}

  get bodyLength(): number {
    return this.received;
  }

  /** The whole body, once complete. */
  get body(): Buffer {
    return this.chunks.length === 1 ? (this.chunks[0] as Buffer) : Buffer.concat(this.chunks);
  }

  isFresh(now: number): boolean {
    return this.state === 'complete' && now < this.expiresAt;
  }

  setHeaders(status: number, headers: IncomingHttpHeaders, upstreamAgeMs: number, ttlMs: number): void {
    this.status = status;
    for (const name of KEPT_HEADERS) {
      const v = headers[name];
      if (typeof v === 'string') this.headers[name] = v;
    }
    const len = Number(headers['content-length']);
    this.contentLength = Number.isFinite(len) && len >= 0 ? len : undefined;
    this.receivedAt = Date.now();
    this.upstreamAgeMs = upstreamAgeMs;
    this.expiresAt = this.receivedAt + ttlMs;
    this.state = 'streaming';
    for (const r of this.readers) r.onHeaders();
  }

  push(chunk: Buffer): void {
    this.chunks.push(chunk);
    this.received += chunk.length;
    for (const r of this.readers) r.onData(chunk);
  }

  finish(): void {
    // One contiguous buffer: a cache hit is then a single write of shared memory.
    if (this.chunks.length > 1) this.chunks = [Buffer.concat(this.chunks, this.received)];
    this.size = this.received + OVERHEAD_BYTES + this.key.length;
    this.state = 'complete';
    const readers = [...this.readers];
    this.readers.clear();
    for (const r of readers) r.onEnd();
  }

  fail(status: number, message: string): void {
    if (this.state === 'complete' || this.state === 'failed') return;
    if (this.state === 'pending') this.failure = { status, message };
    this.state = 'failed';
    this.chunks = [];
    const readers = [...this.readers];
    this.readers.clear();
    for (const r of readers) r.onFail();
  }

  ageMs(now: number): number {
    return this.upstreamAgeMs + Math.max(0, now - this.receivedAt);
  }

  /**
   * The head for one viewer, as a flat list: writeHead takes a list on Node's fast path, where an object
   * is walked with for-in. Only the age and length differ between viewers; the rest is built once.
   */
  private responseHeaders(cache: 'HIT' | 'MISS', now: number, length = this.state === 'complete' ? this.received : this.contentLength): string[] {
    this.headerList ??= Object.entries(this.headers).flat();
    const age = this.ageMs(now);
    const h = [
      ...this.headerList,
      'x-cache',
      cache,
      'age',
      String(Math.floor(age / 1000)),
      // Age is whole seconds; a child edge needs better to keep a 1 s playlist within its TTL.
      AGE_MS_HEADER,
      String(Math.round(age)),
    ];
    if (length !== undefined) h.push('content-length', String(length));
    return h;
  }

  /**
   * Sends the object to a viewer, now or as it arrives. `onBytes` counts egress. Writes never wait for
   * a slow viewer: the chunks are shared buffers already held by the object, so queueing them costs
   * references, not copies, and the object is bounded by its own size.
   */
  serve(res: ServerResponse, cache: 'HIT' | 'MISS', head: boolean, onBytes: (n: number) => void, rewrite?: BodyRewrite): void {
    const now = Date.now();
    if (this.state === 'complete') {
      const body = rewrite && this.status === 200 ? rewrite(this.body) : this.body;
      res.writeHead(this.status, this.responseHeaders(cache, now, body.length));
      if (head) {
        res.end();
        return;
      }
      onBytes(body.length);
      res.end(body);
      return;
    }
    if (this.state === 'failed') {
      reply(res, this.failure?.status ?? 502, this.failure?.message ?? 'upstream failed');
      return;
    }
    if (rewrite) {
      // A body to rewrite (a playlist: small) is sent whole once it is complete.
      const waiter: Reader = {
        onHeaders: () => undefined,
        onData: () => undefined,
        onEnd: () => this.serve(res, cache, head, onBytes, rewrite),
        onFail: () => this.serve(res, cache, head, onBytes, rewrite),
      };
      this.readers.add(waiter);
      res.once('close', () => this.readers.delete(waiter));
      return;
    }
    const reader: Reader = {
      onHeaders: () => {
        res.writeHead(this.status, this.responseHeaders(cache, Date.now()));
        if (head) {
          res.end();
          this.readers.delete(reader);
        }
      },
      onData: (chunk) => {
        onBytes(chunk.length);
        res.write(chunk);
      },
      onEnd: () => res.end(),
      onFail: () => {
        if (res.headersSent) res.destroy();
        else reply(res, this.failure?.status ?? 502, this.failure?.message ?? 'upstream failed');
      },
    };
    if (this.state === 'streaming') {
      reader.onHeaders();
      if (head) return;
      for (const c of this.chunks) reader.onData(c);
    }
    this.readers.add(reader);
    res.once('close', () => this.readers.delete(reader));
  }
}
