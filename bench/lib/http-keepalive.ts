// A minimal HTTP/1.1 keep-alive client connection for load generators: one GET at a time on one socket,
// reads into a shared buffer (no allocation per read) and counts body bytes, keeping a body only when
// asked. Node's http client spends several times the CPU per request (parser objects, streams, garbage),
// which at thousands of requests per second makes the load generator, not the server, the bottleneck.
// Handles Content-Length and chunked bodies; reconnects when the server closes.
import net from 'node:net';

const sharedReadBuffer = Buffer.allocUnsafe(256 * 1024);
const MAX_HEAD = 16 * 1024;
const MAX_KEPT_BODY = 1 << 20;
const HEAD_END = Buffer.from('\r\n\r\n');

export interface Response {
  status: number;
  /** Body bytes (kept only when asked). */
  body: Buffer | undefined;
}

interface Pending {
  keep: boolean;
  ok: (r: Response) => void;
  fail: (e: Error) => void;
  timer: NodeJS.Timeout;
}

type State = 'head' | 'length' | 'chunk-size' | 'chunk-data' | 'chunk-crlf' | 'trailer';

export class KeepAliveConnection {
  /** Bytes received, headers included. */
  bytes = 0;
  private socket: net.Socket | undefined;
  private pending: Pending | undefined;
  private state: State = 'head';
  private head: Buffer[] = [];
  private headBytes = 0;
  private status = 0;
  private remaining = 0;
  private chunked = false;
  private line = '';
  private kept: Buffer[] = [];
  private keptBytes = 0;

  constructor(
    private readonly host: string,
    private readonly port: number,
    private readonly timeoutMs: number,
  ) {}

  /** GETs `path`; rejects on a transport error, a malformed response or after timeoutMs. */
  get(path: string, keepBody: boolean): Promise<Response> {
    if (this.pending) return Promise.reject(new Error('request in flight'));
    return new Promise<Response>((ok, fail) => {
      const timer = setTimeout(() => this.abort(new Error(`timeout for ${path}`)), this.timeoutMs);
      this.pending = { keep: keepBody, ok, fail, timer };
      this.resetParser();
      this.connection().write(`GET ${path} HTTP/1.1\r\nHost: ${this.host}:${this.port}\r\nUser-Agent: livecdn-bench\r\n\r\n`);
    });
  }

  close(): void {
    this.abort(new Error('closed by us'));
  }

  private connection(): net.Socket {
    if (this.socket) return this.socket;
    const s = net.connect({
      host: this.host,
      port: this.port,
      noDelay: true,
      onread: {
        buffer: sharedReadBuffer,
        callback: (n: number, buf: Uint8Array): boolean => {
          this.bytes += n;
          try {
            this.onData(Buffer.from(buf.buffer, buf.byteOffset, n));
          } catch (e) {
            this.abort(e instanceof Error ? e : new Error(String(e)));
          }
          return true;
        },
      },
    });
    // A late event of a socket already replaced must not abort its successor's request.
    s.on('error', (e) => {
      if (this.socket === s) this.abort(e);
    });
    s.on('close', () => {
      if (this.socket === s) this.abort(new Error('connection closed'));
    });
    this.socket = s;
    return s;
  }

  /** Fails the request in flight (if any) and drops the socket. */
  private abort(e: Error): void {
    const s = this.socket;
    this.socket = undefined;
    s?.destroy();
    const p = this.pending;
    this.pending = undefined;
    if (p) {
      clearTimeout(p.timer);
      p.fail(e);
    }
  }

  private resetParser(): void {
    this.state = 'head';
    this.head = [];
    this.headBytes = 0;
    this.kept = [];
    this.keptBytes = 0;
    this.line = '';
  }

  private onData(data: Buffer): void {
    let at = 0;
    while (at < data.length) {
      if (!this.pending) throw new Error('data with no request in flight');
      switch (this.state) {
        case 'head': {
          // The head is copied out of the shared buffer; it ends at the first CRLFCRLF.
          const prev = this.head.length ? Buffer.concat(this.head) : Buffer.alloc(0);
          const joined = Buffer.concat([prev, data.subarray(at)]);
          const end = joined.indexOf(HEAD_END);
          if (end < 0) {
            if (joined.length > MAX_HEAD) throw new Error('response head too long');
            this.head = [joined];
            return;
          }
          const consumed = end + 4 - prev.length;
          this.parseHead(joined.toString('latin1', 0, end));
          at += consumed;
          break;
        }
        case 'length':
        case 'chunk-data': {
          const n = Math.min(this.remaining, data.length - at);
          this.keep(data.subarray(at, at + n));
          this.remaining -= n;
          at += n;
          if (this.remaining > 0) break;
          if (this.state === 'length') this.finish();
          else this.state = 'chunk-crlf';
          break;
        }
        case 'chunk-size':
        case 'chunk-crlf':
        case 'trailer': {
          const nl = data.indexOf(0x0a, at);
          const end = nl < 0 ? data.length : nl + 1;
          this.line += data.toString('latin1', at, end);
          at = end;
          if (this.line.length > MAX_HEAD) throw new Error('chunk line too long');
          if (nl < 0) break;
          const line = this.line.trim();
          this.line = '';
          if (this.state === 'chunk-crlf') this.state = 'chunk-size';
          else if (this.state === 'trailer') {
            if (line === '') this.finish();
          } else {
            const size = parseInt(line.split(';', 1)[0] ?? '', 16);
            if (!Number.isFinite(size) || size < 0) throw new Error(`bad chunk size "${line.slice(0, 20)}"`);
            this.remaining = size;
            this.state = size === 0 ? 'trailer' : 'chunk-data';
          }
          break;
        }
      }
    }
  }

  private parseHead(head: string): void {
    const lines = head.split('\r\n');
    const m = /^HTTP\/1\.[01] (\d{3})/.exec(lines[0] ?? '');
    if (!m) throw new Error(`bad status line "${(lines[0] ?? '').slice(0, 40)}"`);
    this.status = Number(m[1]);
    let length: number | undefined;
    this.chunked = false;
    for (const l of lines.slice(1)) {
      const colon = l.indexOf(':');
      const name = l.slice(0, colon).trim().toLowerCase();
      const value = l.slice(colon + 1).trim();
      if (name === 'content-length') length = Number(value);
      else if (name === 'transfer-encoding' && /chunked/i.test(value)) this.chunked = true;
    }
    if (this.chunked) this.state = 'chunk-size';
    else if (length !== undefined && Number.isFinite(length)) {
      this.remaining = length;
      this.state = 'length';
      if (length === 0) this.finish();
    } else throw new Error('response without a length (close-delimited bodies are not supported)');
  }

  private keep(part: Buffer): void {
    if (!this.pending?.keep || this.keptBytes + part.length > MAX_KEPT_BODY) return;
    this.kept.push(Buffer.from(part)); // out of the shared read buffer
    this.keptBytes += part.length;
  }

  private finish(): void {
    const p = this.pending;
    this.pending = undefined;
    if (!p) return;
    clearTimeout(p.timer);
    const body = p.keep ? Buffer.concat(this.kept) : undefined;
    this.resetParser();
    p.ok({ status: this.status, body });
  }
}
