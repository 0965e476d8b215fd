// A deliberately small RTMP client (simple handshake, commands, chunk reader/writer) for the load
// generator, the probes and the publisher. It is independent of the server code under test, so a bug
// shared by livecdn's server and client cannot hide in the figures, and it runs against any server.
import net from 'node:net';
import { randomBytes } from 'node:crypto';
import { decodeAmf0, encodeAmf0, isAmfObject } from '../../src/media/amf/amf0.js';
import type { Amf0Value } from '../../src/media/amf/amf0.js';

type Amf0Object = { [key: string]: Amf0Value };

export const MsgType = {
  SetChunkSize: 1,
  Abort: 2,
  Ack: 3,
  UserControl: 4,
  WindowAckSize: 5,
  SetPeerBandwidth: 6,
  Audio: 8,
  Video: 9,
  DataAmf0: 18,
  CommandAmf0: 20,
} as const;

export interface RtmpMessage {
  type: number;
  streamId: number;
  timestamp: number;
  payload: Buffer;
}

interface ChunkStreamState {
  timestamp: number;
  delta: number;
  length: number;
  type: number;
  streamId: number;
  extended: boolean;
  parts: Buffer[];
  got: number;
}

/** Reassembles RTMP messages from chunks: fmt 0-3, 1-3 byte basic headers, extended timestamps. */
export class ChunkReader {
  chunkSize = 128;
  private buf: Buffer = Buffer.alloc(0);
  private readonly streams = new Map<number, ChunkStreamState>();

  push(data: Buffer): RtmpMessage[] {
    this.buf = this.buf.length === 0 ? data : Buffer.concat([this.buf, data]);
    const out: RtmpMessage[] = [];
    let at = 0;
    for (;;) {
      const used = this.chunk(this.buf, at, out);
      if (used === 0) break;
      at += used;
    }
    this.buf = this.buf.subarray(at);
    return out;
  }

  /** Parses one chunk at `at`; returns the bytes it used, or 0 when the chunk is incomplete. */
  private chunk(b: Buffer, at: number, out: RtmpMessage[]): number {
    let p = at;
    if (p >= b.length) return 0;
    const b0 = b[p++] ?? 0;
    const fmt = b0 >> 6;
    let csid = b0 & 0x3f;
    if (csid === 0) {
      if (p + 1 > b.length) return 0;
      csid = 64 + (b[p++] ?? 0);
    } else if (csid === 1) {
      if (p + 2 > b.length) return 0;
      csid = 64 + (b[p] ?? 0) + (b[p + 1] ?? 0) * 256;
      p += 2;
    }
    const hlen = fmt === 0 ? 11 : fmt === 1 ? 7 : fmt === 2 ? 3 : 0;
    if (p + hlen > b.length) return 0;
    let st = this.streams.get(csid);
    const fresh = st === undefined;
    if (!st) st = { timestamp: 0, delta: 0, length: 0, type: 0, streamId: 0, extended: false, parts: [], got: 0 };
    let ts = 0;
    if (fmt <= 2) ts = b.readUIntBE(p, 3);
    const extended = fmt <= 2 ? ts === 0xffffff : st.extended;
    let q = p + hlen;
    if (extended) {
      if (q + 4 > b.length) return 0;
      ts = b.readUInt32BE(q);
      q += 4;
    }
    const length = fmt <= 1 ? b.readUIntBE(p + 3, 3) : st.length;
    const take = Math.min(this.chunkSize, length - (st.got > 0 ? st.got : 0));
    if (q + take > b.length) return 0;
    // Commit the header only now that the whole chunk is here.
    if (fresh) this.streams.set(csid, st);
    st.extended = extended;
    if (fmt <= 1) {
      st.length = length;
      st.type = b[p + 6] ?? 0;
    }
    if (fmt === 0) {
      st.streamId = b.readUInt32LE(p + 7);
      st.timestamp = ts;
      st.delta = 0;
    } else if (fmt <= 2) {
      st.delta = ts;
      if (st.got === 0) st.timestamp += ts;
    } else if (st.got === 0) {
      st.timestamp += st.delta;
    }
    st.parts.push(b.subarray(q, q + take));
    st.got += take;
    if (st.got >= st.length) {
      const payload = st.parts.length === 1 ? Buffer.from(st.parts[0] ?? Buffer.alloc(0)) : Buffer.concat(st.parts);
      st.parts = [];
      st.got = 0;
      if (st.type === MsgType.SetChunkSize && payload.length >= 4) this.chunkSize = payload.readUInt32BE(0) & 0x7fffffff;
      out.push({ type: st.type, streamId: st.streamId, timestamp: st.timestamp, payload });
    }
    return q + take - at;
  }
}

/** Chunks one message: fmt 0 then fmt 3 continuations, extended timestamp repeated on each. */
export function encodeChunks(csid: number, msg: RtmpMessage, chunkSize: number): Buffer[] {
  const ext = msg.timestamp >= 0xffffff;
  const h0 = Buffer.alloc(12 + (ext ? 4 : 0));
  h0[0] = csid & 0x3f;
  h0.writeUIntBE(ext ? 0xffffff : msg.timestamp, 1, 3);
  h0.writeUIntBE(msg.payload.length, 4, 3);
  h0[7] = msg.type;
  h0.writeUInt32LE(msg.streamId, 8);
  if (ext) h0.writeUInt32BE(msg.timestamp >>> 0, 12);
  const out: Buffer[] = [h0];
  let h3: Buffer | undefined;
  for (let at = 0; at < msg.payload.length; at += chunkSize) {
    if (at > 0) {
      if (!h3) {
        h3 = Buffer.alloc(1 + (ext ? 4 : 0));
        h3[0] = 0xc0 | (csid & 0x3f);
        if (ext) h3.writeUInt32BE(msg.timestamp >>> 0, 1);
      }
      out.push(h3);
    }
    out.push(msg.payload.subarray(at, Math.min(at + chunkSize, msg.payload.length)));
  }
  return out;
}

export interface ParsedRtmpUrl {
  host: string;
  port: number;
  app: string;
  stream: string;
  tcUrl: string;
}

export function parseRtmpUrl(url: string): ParsedRtmpUrl {
  const u = new URL(url);
  const parts = u.pathname.replace(/^\//, '').split('/');
  const app = parts[0] ?? '';
  const stream = parts.slice(1).join('/') + u.search;
  const port = Number(u.port || 1935);
  return { host: u.hostname, port, app, stream, tcUrl: `rtmp://${u.hostname}:${port}/${app}` };
}

const HANDSHAKE_SIZE = 1536;
const OUT_CHUNK_SIZE = 4096;
// One shared read buffer for every count-only socket: its callback consumes the bytes synchronously.
const sharedReadBuffer = Buffer.allocUnsafe(256 * 1024);

export interface MiniRtmpOptions {
  /**
   * 'count': after play, only count bytes (and acknowledge them) without parsing: the cheapest viewer.
   * 'parse': reassemble every message and hand it to onMessage.
   */
  mode: 'count' | 'parse';
  onMessage?: (m: RtmpMessage) => void;
  onClose?: (err?: Error) => void;
}

type Phase = 'handshake' | 'commands' | 'count' | 'closed';

export class MiniRtmpClient {
  readonly url: ParsedRtmpUrl;
  /** Bytes received since the socket opened. */
  bytes = 0;
  private socket: net.Socket | undefined;
  private phase: Phase = 'handshake';
  private hsBuf: Buffer = Buffer.alloc(0);
  private readonly reader = new ChunkReader();
  private nextTxn = 1;
  private readonly pending = new Map<number, { ok: (v: Amf0Value[]) => void; fail: (e: Error) => void }>();
  private statusWaiter: { ok: (code: string) => void; fail: (e: Error) => void } | undefined;
  private windowAck = 2_500_000;
  private lastAck = 0;
  private streamId = 0;
  private closedWith: Error | undefined;

  constructor(url: string, private readonly opts: MiniRtmpOptions) {
    this.url = parseRtmpUrl(url);
  }

  /** TCP connect, handshake and the connect command. */
  async connect(timeoutMs = 10_000): Promise<void> {
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error('RTMP connect timeout')), timeoutMs);
      const common = { host: this.url.host, port: this.url.port, noDelay: true };
      const s =
        this.opts.mode === 'count'
          ? net.connect({ ...common, onread: { buffer: sharedReadBuffer, callback: (n: number, buf: Uint8Array) => this.onRead(n, buf) } })
          : net.connect(common);
      this.socket = s;
      if (this.opts.mode === 'parse') s.on('data', (d: Buffer) => this.onBytes(d));
      s.on('error', (e) => this.fail(e));
      s.on('close', () => this.fail(new Error('socket closed')));
      this.hsResolve = () => {
        clearTimeout(timer);
        resolve();
      };
      this.hsReject = (e: Error) => {
        clearTimeout(timer);
        reject(e);
      };
      s.once('connect', () => {
        const c1 = randomBytes(HANDSHAKE_SIZE);
        c1.writeUInt32BE(0, 0);
        c1.writeUInt32BE(0, 4); // zero version: ask for the simple handshake
        s.write(Buffer.concat([Buffer.from([3]), c1]));
      });
    });
    this.sendMessage(2, { type: MsgType.SetChunkSize, streamId: 0, timestamp: 0, payload: u32(OUT_CHUNK_SIZE) });
    const res = await this.command('connect', {
      app: this.url.app,
      flashVer: 'FMLE/3.0 (compatible; livecdn-bench)',
      tcUrl: this.url.tcUrl,
      fpad: false,
      capabilities: 15,
      audioCodecs: 3575,
      videoCodecs: 252,
      videoFunction: 1,
      objectEncoding: 0,
    });
    if (res[0] !== '_result') throw new Error(`connect refused: ${JSON.stringify(res[2] ?? null)}`);
  }

  private hsResolve: () => void = () => {};
  private hsReject: (e: Error) => void = () => {};

  async publish(): Promise<void> {
    this.sendCommand(3, 0, ['releaseStream', this.nextTxn++, null, this.url.stream]);
    this.sendCommand(3, 0, ['FCPublish', this.nextTxn++, null, this.url.stream]);
    await this.createStream();
    const status = this.waitStatus();
    this.sendCommand(4, this.streamId, ['publish', 0, null, this.url.stream, 'live']);
    const code = await status;
    if (code !== 'NetStream.Publish.Start') throw new Error(`publish refused: ${code}`);
  }

  /** Sends play; in count mode resolves as soon as it is sent (the response is just counted). */
  async play(): Promise<void> {
    await this.createStream();
    // SetBufferLength (user control 3), as players send before play.
    const ub = Buffer.alloc(10);
    ub.writeUInt16BE(3, 0);
    ub.writeUInt32BE(this.streamId, 2);
    ub.writeUInt32BE(3000, 6);
    this.sendMessage(2, { type: MsgType.UserControl, streamId: 0, timestamp: 0, payload: ub });
    const status = this.opts.mode === 'parse' ? this.waitStatus() : undefined;
    this.sendCommand(8, this.streamId, ['play', 0, null, this.url.stream, -2000]);
    if (this.opts.mode === 'count') {
      this.phase = 'count';
      return;
    }
    // Servers send NetStream.Play.Reset before Start; wait for a Start (or an error).
    let code = await (status ?? Promise.resolve(''));
    while (code === 'NetStream.Play.Reset' || code === 'NetStream.Play.PublishNotify') code = await this.waitStatus();
    if (code !== 'NetStream.Play.Start') throw new Error(`play refused: ${code}`);
  }

  /** A media or data message on the published stream (chunked at 4096). */
  sendMedia(type: number, timestamp: number, payload: Buffer): void {
    const csid = type === MsgType.Audio ? 4 : type === MsgType.Video ? 6 : 5;
    this.sendMessage(csid, { type, streamId: this.streamId, timestamp, payload });
  }

  get writableLength(): number {
    return this.socket?.writableLength ?? 0;
  }

  close(): void {
    this.phase = 'closed';
    this.socket?.destroy();
  }

  private async createStream(): Promise<void> {
    const res = await this.command('createStream');
    const id = res[3];
    if (res[0] !== '_result' || typeof id !== 'number') throw new Error('createStream failed');
    this.streamId = id;
  }

  private command(name: string, obj: Amf0Object | null = null): Promise<Amf0Value[]> {
    const txn = this.nextTxn++;
    return new Promise<Amf0Value[]>((ok, fail) => {
      if (this.closedWith) return fail(this.closedWith);
      this.pending.set(txn, { ok, fail });
      this.sendCommand(3, 0, [name, txn, obj]);
    });
  }

  private waitStatus(): Promise<string> {
    return new Promise<string>((ok, fail) => {
      if (this.closedWith) return fail(this.closedWith);
      this.statusWaiter = { ok, fail };
    });
  }

  private sendCommand(csid: number, streamId: number, values: Amf0Value[]): void {
    this.sendMessage(csid, { type: MsgType.CommandAmf0, streamId, timestamp: 0, payload: encodeAmf0(...values) });
  }

  private sendMessage(csid: number, msg: RtmpMessage): void {
    const s = this.socket;
    if (!s || s.destroyed) return;
    s.write(Buffer.concat(encodeChunks(csid, msg, OUT_CHUNK_SIZE)));
  }

  private onRead(n: number, buf: Uint8Array): boolean {
    if (this.phase === 'count') {
      this.bytes += n;
      this.maybeAck();
    } else {
      // The shared buffer is reused after this call: keep a copy.
      this.onBytes(Buffer.from(buf.subarray(0, n)));
    }
    return true;
  }

  private onBytes(d: Buffer): void {
    if (this.phase === 'handshake') {
      this.bytes += d.length;
      this.hsBuf = Buffer.concat([this.hsBuf, d]);
      if (this.hsBuf.length < 1 + 2 * HANDSHAKE_SIZE) return;
      const s1 = this.hsBuf.subarray(1, 1 + HANDSHAKE_SIZE);
      const rest = this.hsBuf.subarray(1 + 2 * HANDSHAKE_SIZE);
      this.hsBuf = Buffer.alloc(0);
      this.socket?.write(Buffer.from(s1)); // C2 echoes S1
      this.phase = 'commands';
      this.hsResolve();
      if (rest.length > 0) this.handleChunks(rest);
      return;
    }
    if (this.phase === 'closed') return;
    this.bytes += d.length;
    if (this.phase === 'count') {
      this.maybeAck();
      return;
    }
    this.handleChunks(d);
    this.maybeAck();
  }

  private handleChunks(d: Buffer): void {
    let msgs: RtmpMessage[];
    try {
      msgs = this.reader.push(d);
    } catch (e) {
      this.fail(e instanceof Error ? e : new Error(String(e)));
      return;
    }
    for (const m of msgs) this.onMessage(m);
  }

  private onMessage(m: RtmpMessage): void {
    switch (m.type) {
      case MsgType.WindowAckSize:
        if (m.payload.length >= 4) this.windowAck = m.payload.readUInt32BE(0);
        return;
      case MsgType.UserControl:
        // Ping request (6): answer with a ping response (7) carrying the same timestamp.
        if (m.payload.length >= 6 && m.payload.readUInt16BE(0) === 6) {
          const r = Buffer.alloc(6);
          r.writeUInt16BE(7, 0);
          m.payload.copy(r, 2, 2, 6);
          this.sendMessage(2, { type: MsgType.UserControl, streamId: 0, timestamp: 0, payload: r });
        }
        return;
      case MsgType.CommandAmf0: {
        let v: Amf0Value[];
        try {
          v = decodeAmf0(m.payload);
        } catch {
          return;
        }
        const name = v[0];
        if ((name === '_result' || name === '_error') && typeof v[1] === 'number') {
          const p = this.pending.get(v[1]);
          if (p) {
            this.pending.delete(v[1]);
            p.ok(v);
          }
        } else if (name === 'onStatus') {
          const info = v[3];
          const code = isAmfObject(info) ? info['code'] : undefined;
          const w = this.statusWaiter;
          this.statusWaiter = undefined;
          w?.ok(typeof code === 'string' ? code : '');
        }
        return;
      }
      default:
        this.opts.onMessage?.(m);
    }
  }

  private maybeAck(): void {
    if (this.bytes - this.lastAck < this.windowAck) return;
    this.lastAck = this.bytes;
    this.sendMessage(2, { type: MsgType.Ack, streamId: 0, timestamp: 0, payload: u32(this.bytes >>> 0) });
  }

  private fail(e: Error): void {
    if (this.closedWith) return;
    this.closedWith = e;
    const wasClosed = this.phase === 'closed';
    this.phase = 'closed';
    this.hsReject(e);
    for (const p of this.pending.values()) p.fail(e);
    this.pending.clear();
    this.statusWaiter?.fail(e);
    this.statusWaiter = undefined;
    this.socket?.destroy();
    if (!wasClosed) this.opts.onClose?.(e);
  }
}

function u32(n: number): Buffer {
  const b = Buffer.alloc(4);
  b.writeUInt32BE(n >>> 0, 0);
  return b;
}
