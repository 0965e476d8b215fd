// Test helpers for HTTP: fetch with a timeout, and an HTTP-FLV reader that collects packets as they come.
import http from 'node:http';
import type { IncomingHttpHeaders } from 'node:http';
import { FlvReader } from '../../src/media/flv/reader.js';
import type { FlvHeader } from '../../src/media/flv/header.js';
import type { MediaPacket } from '../../src/media/packet.js';
import { waitFor } from './wait.js';

export async function fetchText(url: string, init: RequestInit = {}, timeoutMs = 5000): Promise<{ status: number; headers: Headers; text: string }> {
  const res = await fetch(url, { ...init, signal: AbortSignal.timeout(timeoutMs) });
  return { status: res.status, headers: res.headers, text: await res.text() };
}

export async function fetchBuffer(url: string, timeoutMs = 5000): Promise<{ status: number; headers: Headers; body: Buffer }> {
  const res = await fetch(url, { signal: AbortSignal.timeout(timeoutMs) });
  return { status: res.status, headers: res.headers, body: Buffer.from(await res.arrayBuffer()) };
}

export interface ReceivedPacket extends MediaPacket {
  /** ms after the request was sent. */
  readonly receivedAfterMs: number;
}

/** An HTTP-FLV viewer: opens the URL, parses tags as they arrive, keeps them in `packets`. */
export class FlvViewer {
  readonly packets: ReceivedPacket[] = [];
  header: FlvHeader | undefined;
  bytes = 0;
  ended = false;
  error: Error | undefined;
  private readonly reader = new FlvReader();
  private readonly listeners = new Set<() => void>();

  private constructor(
    private readonly req: http.ClientRequest,
    readonly status: number,
    readonly headers: IncomingHttpHeaders,
    private readonly res: http.IncomingMessage,
    private readonly startedAt: number,
  ) {}

  /** Resolves once the response head arrived (any status). */
  static open(url: string, timeoutMs = 5000): Promise<FlvViewer> {
    const startedAt = Date.now();
    return new Promise((resolve, reject) => {
      const req = http.get(url, (res) => {
        const v = new FlvViewer(req, res.statusCode ?? 0, res.headers, res, startedAt);
        res.on('data', (b: Buffer) => v.onData(b));
        res.on('end', () => v.finish());
        res.on('error', (e) => v.finish(e));
        res.on('close', () => v.finish());
        resolve(v);
      });
      req.setTimeout(timeoutMs, () => req.destroy(new Error(`no response from ${url} within ${timeoutMs} ms`)));
      req.on('error', reject);
    });
  }

  /** Opens the URL again every 300 ms until it answers 200 (the stream went live), within timeoutMs. */
  static openLive(url: string, timeoutMs = 20_000): Promise<FlvViewer> {
    return waitFor(`a 200 from ${url}`, async () => {
      const v = await FlvViewer.open(url).catch(() => undefined);
      if (v?.status === 200) return v;
      v?.close();
      return undefined;
    }, timeoutMs, 300);
  }

  /** The underlying response stream: pause() it to simulate a viewer that stops reading. */
  get response(): http.IncomingMessage {
    return this.res;
  }

  /** Resolves with the first packet matching `pred` (already received ones included). */
  waitFor(pred: (p: ReceivedPacket) => boolean, timeoutMs = 10_000): Promise<ReceivedPacket> {
    return new Promise((resolve, reject) => {
      const check = (): boolean => {
        const hit = this.packets.find(pred);
        if (hit) {
          cleanup();
          resolve(hit);
          return true;
        }
        if (this.ended) {
          cleanup();
          reject(this.error ?? new Error('FLV response ended before the awaited packet'));
          return true;
        }
        return false;
      };
      const timer = setTimeout(() => {
        cleanup();
        reject(new Error(`no matching FLV packet within ${timeoutMs} ms (got ${this.packets.length})`));
      }, timeoutMs);
      const cleanup = (): void => {
        clearTimeout(timer);
        this.listeners.delete(listener);
      };
      const listener = (): void => void check();
      if (!check()) this.listeners.add(listener);
    });
  }

  /** Resolves when the response ends (or after timeoutMs, with false). */
  waitEnd(timeoutMs = 10_000): Promise<boolean> {
    if (this.ended) return Promise.resolve(true);
    return new Promise((resolve) => {
      const timer = setTimeout(() => {
        this.listeners.delete(l);
        resolve(false);
      }, timeoutMs);
      const l = (): void => {
        if (!this.ended) return;
        clearTimeout(timer);
        this.listeners.delete(l);
        resolve(true);
      };
      this.listeners.add(l);
    });
  }

  close(): void {
    this.req.destroy();
    this.res.destroy();
  }

  private onData(b: Buffer): void {
    this.bytes += b.length;
    try {
      const now = Date.now() - this.startedAt;
      for (const p of this.reader.push(b)) this.packets.push({ ...p, receivedAfterMs: now });
      this.header ??= this.reader.header;
    } catch (e) {
      this.finish(e instanceof Error ? e : new Error(String(e)));
      this.close();
    }
    for (const l of [...this.listeners]) l();
  }

  private finish(err?: Error): void {
    if (err) this.error ??= err;
    if (this.ended) return;
    this.ended = true;
    for (const l of [...this.listeners]) l();
  }
}
