// Room chat over WebSocket: /api/streams/:id/chat. Frames in: {type:'msg', text}. Frames out:
// {type:'joined', room, name}, {type:'msg', from, text, ts, seq}, {type:'error', code, message}.
//
// Messages go through the store's chat channel (Redis pub/sub across instances) which assigns `seq`, so
// every member on every instance sees one order. Limits: a frame size cap (ws closes 1009 above it), a
// text length cap, token buckets per connection and per address, joins bounded per address (rate and
// concurrent connections) and per room. "Address" is the client's (behind --trust-proxy, from
// X-Forwarded-For), IPv6 by its /64 (client-address.ts). A member that keeps hitting its bucket is muted:
// its frames are then dropped unread and, if it goes on flooding, it is disconnected. Nobody else notices.
import type { IncomingMessage } from 'node:http';
import type { Duplex } from 'node:stream';
import { WebSocketServer } from 'ws';
import type { RawData, WebSocket } from 'ws';
import type { Logger } from '../shared/log.js';
import type { SignalMetrics } from './metrics.js';
import type { ChatEnvelope, RegistryStore, Unsubscribe } from './store.js';
import { limitKey } from '../shared/address.js';
import { BucketMap, TokenBucket } from './token-bucket.js';
import { isStoreOutage } from './store-outage.js';
import { parseStreamId } from './types.js';

export interface ChatLimits {
  /** Largest frame accepted; larger ones close the connection (1009). */
  readonly maxFrameBytes: number;
  /** Longest text, in UTF-16 code units; longer gets a `too_long` error frame. */
  readonly maxTextLength: number;
  readonly perConnRate: number;
  readonly perConnBurst: number;
  readonly perAddrRate: number;
  readonly perAddrBurst: number;
  /** Refused messages within `strikeWindowMs` that mute a member for `muteMs`. */
  readonly muteAfterStrikes: number;
  readonly strikeWindowMs: number;
  readonly muteMs: number;
  /** Frames dropped while muted after which the member is disconnected (1008). */
  readonly kickAfterDropped: number;
  readonly joinRatePerAddr: number;
  readonly joinBurstPerAddr: number;
  readonly maxConnsPerAddr: number;
  readonly maxMembersPerRoom: number;
  /** A member whose unsent bytes exceed this is too slow and is disconnected (1013). */
  readonly maxBufferedBytes: number;
  readonly pingIntervalMs: number;
}

export const defaultChatLimits: ChatLimits = {
  maxFrameBytes: 4096,
  maxTextLength: 500,
  perConnRate: 5,
  perConnBurst: 10,
  perAddrRate: 20,
  perAddrBurst: 40,
  muteAfterStrikes: 20,
  strikeWindowMs: 10_000,
  muteMs: 60_000,
  kickAfterDropped: 5000,
  joinRatePerAddr: 10,
  joinBurstPerAddr: 30,
  maxConnsPerAddr: 50,
  maxMembersPerRoom: 20_000,
  maxBufferedBytes: 1 << 20,
  pingIntervalMs: 30_000,
};

interface Member {
  readonly ws: WebSocket;
  /** The per-address limit key (limitKey of the client address). */
  readonly addr: string;
  readonly name: string;
  readonly bucket: TokenBucket;
  strikes: number;
  strikeStart: number;
  mutedUntil: number;
  dropped: number;
  lastRateError: number;
  alive: boolean;
}

interface Room {
  readonly id: string;
  readonly members: Set<Member>;
  /** Resolves once this instance hears the room's channel. */
  ready: Promise<Unsubscribe>;
}

const NAME = /^[\p{L}\p{N}_. -]{1,32}$/u;
const STATUS_TEXT: Record<number, string> = { 400: 'Bad Request', 404: 'Not Found', 429: 'Too Many Requests', 503: 'Service Unavailable' };

function refuseUpgrade(socket: Duplex, status: number, code: string, message: string): void {
  const body = JSON.stringify({ error: code, message });
  socket.end(
    `HTTP/1.1 ${status} ${STATUS_TEXT[status] ?? 'Error'}\r\nContent-Type: application/json\r\n` +
      `Content-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`,
  );
}

export class ChatHub {
  private readonly wss: WebSocketServer;
  private readonly rooms = new Map<string, Room>();
  private readonly connsPerAddr = new Map<string, number>();
  private readonly joinBuckets: BucketMap;
  private readonly addrBuckets: BucketMap;
  private readonly timer: NodeJS.Timeout;
  private closed = false;

  constructor(
    private readonly store: RegistryStore,
    private readonly limits: ChatLimits,
    private readonly streamExists: (app: string, stream: string) => Promise<boolean>,
    private readonly metrics: SignalMetrics,
    private readonly log: Logger,
  ) {
    this.wss = new WebSocketServer({ noServer: true, maxPayload: limits.maxFrameBytes, perMessageDeflate: false });
    this.joinBuckets = new BucketMap(limits.joinRatePerAddr, limits.joinBurstPerAddr);
    this.addrBuckets = new BucketMap(limits.perAddrRate, limits.perAddrBurst);
    this.timer = setInterval(() => this.tick(), Math.min(limits.pingIntervalMs, 30_000));
    this.timer.unref();
    store.onEvent((e) => {
      if (e.type === 'revoked') this.closeRoom(`${e.app}.${e.stream}`, 'stream_revoked', 'the stream was revoked');
    });
  }

  get memberCount(): number {
    let n = 0;
    for (const r of this.rooms.values()) n += r.members.size;
    return n;
  }

  /** Room id when the path is a chat path (else the upgrade is not ours). */
  static match(pathname: string): string | undefined {
    const m = /^\/api\/streams\/([^/]+)\/chat$/.exec(pathname);
    if (!m) return undefined;
    try {
      return decodeURIComponent(m[1] as string);
    } catch {
      // A bad escape ("%") is still a chat path: the raw id fails parseStreamId and is answered 400.
      return m[1] as string;
    }
  }

  /** Called from the HTTP server's 'upgrade' event for a chat path; `clientAddr` as clientAddress() gives it. */
  handleUpgrade(req: IncomingMessage, socket: Duplex, head: Buffer, roomId: string, url: URL, clientAddr: string): void {
    const addr = limitKey(clientAddr);
    const now = Date.now();
    const refuse = (status: number, code: string, message: string): void => {
      this.metrics.chatRejected.inc({ code });
      refuseUpgrade(socket, status, code, message);
    };
    if (this.closed) return refuse(503, 'closing', 'the service is shutting down');
    const ids = parseStreamId(roomId);
    if (!ids) return refuse(400, 'bad_request', 'stream id must be app.stream');
    const nameParam = url.searchParams.get('name');
    if (nameParam !== null && !NAME.test(nameParam)) return refuse(400, 'bad_name', 'name must be 1-32 letters, digits, spaces, _ . -');
    // Join-flood bounds come first and are synchronous: a flood costs no store round trip.
    if ((this.connsPerAddr.get(addr) ?? 0) >= this.limits.maxConnsPerAddr) return refuse(429, 'too_many_connections', `at most ${this.limits.maxConnsPerAddr} chat connections per address`);
    if (!this.joinBuckets.take(addr, now)) return refuse(429, 'join_rate', 'joining too fast from this address');
    if ((this.rooms.get(roomId)?.members.size ?? 0) >= this.limits.maxMembersPerRoom) return refuse(503, 'room_full', 'the room is full');
    this.connsPerAddr.set(addr, (this.connsPerAddr.get(addr) ?? 0) + 1);
    let released = false;
    // Once per connection, whichever path ends it (refusal, failure, close).
    const release = (): void => {
      if (released) return;
      released = true;
      const n = (this.connsPerAddr.get(addr) ?? 1) - 1;
      if (n <= 0) this.connsPerAddr.delete(addr);
      else this.connsPerAddr.set(addr, n);
    };
    this.streamExists(ids.app, ids.stream).then(
      (exists) => {
        if (!exists || this.closed) {
          release();
          return refuse(exists ? 503 : 404, exists ? 'closing' : 'not_found', exists ? 'the service is shutting down' : `no stream ${roomId}`);
        }
        this.wss.handleUpgrade(req, socket, head, (ws) => this.join(ws, roomId, addr, nameParam, release));
      },
      (err: unknown) => {
        release();
        this.log[isStoreOutage(err) ? 'warn' : 'error']({ err }, 'chat join failed');
        refuse(503, 'unavailable', 'the registry is unavailable');
      },
    ).catch((err: unknown) => {
      // The socket may have gone while the store answered: this must not become an unhandled rejection.
      this.log.warn({ err }, 'chat upgrade failed');
      release();
      socket.destroy();
    });
  }

  private join(ws: WebSocket, roomId: string, addr: string, nameParam: string | null, release: () => void): void {
    const now = Date.now();
    const name = nameParam ?? `guest-${Math.floor(Math.random() * 0x10000).toString(16).padStart(4, '0')}`;
    const m: Member = {
      ws,
      addr,
      name,
      bucket: new TokenBucket(this.limits.perConnRate, this.limits.perConnBurst, now),
      strikes: 0,
      strikeStart: now,
      mutedUntil: 0,
      dropped: 0,
      lastRateError: 0,
      alive: true,
    };
    let room = this.rooms.get(roomId);
    if (!room) {
      const r: Room = { id: roomId, members: new Set(), ready: Promise.resolve(async () => {}) };
      r.ready = this.store.subscribeChat(roomId, (env) => this.deliver(r, env));
      this.rooms.set(roomId, (room = r));
    }
    const r = room;
    r.members.add(m);
    ws.on('pong', () => (m.alive = true));
    ws.on('message', (data, isBinary) => this.onMessage(r, m, data, isBinary));
    ws.on('error', () => ws.terminate());
    ws.on('close', () => {
      release();
      r.members.delete(m);
      if (r.members.size === 0 && this.rooms.get(roomId) === r) {
        this.rooms.delete(roomId);
        void r.ready.then((unsub) => unsub()).catch((err: unknown) => this.log.warn({ err }, 'chat unsubscribe failed'));
      }
    });
    r.ready
      .then(
        () => this.send(m, { type: 'joined', room: roomId, name }),
        (err: unknown) => {
          this.log[isStoreOutage(err) ? 'warn' : 'error']({ err }, 'chat subscribe failed');
          this.sendError(m, 'unavailable', 'chat is unavailable');
          ws.close(1011, 'unavailable');
        },
      )
      .catch(() => ws.terminate());
  }

  private send(m: Member, frame: object): void {
    if (m.ws.readyState === m.ws.OPEN) m.ws.send(JSON.stringify(frame));
  }

  private sendError(m: Member, code: string, message: string, extra: object = {}): void {
    this.metrics.chatRejected.inc({ code });
    this.send(m, { type: 'error', code, message, ...extra });
  }

  private strike(m: Member, now: number): void {
    if (now - m.strikeStart > this.limits.strikeWindowMs) {
      m.strikes = 0;
      m.strikeStart = now;
    }
    if (++m.strikes >= this.limits.muteAfterStrikes) {
      m.mutedUntil = now + this.limits.muteMs;
      m.dropped = 0;
      this.log.info({ addr: m.addr, name: m.name }, 'chat member muted for flooding');
      this.sendError(m, 'muted', `muted for ${Math.round(this.limits.muteMs / 1000)} s: too many messages`, { until: m.mutedUntil });
    }
  }

  private onMessage(room: Room, m: Member, data: RawData, isBinary: boolean): void {
    const now = Date.now();
    if (m.mutedUntil > now) {
      // Dropped unread: a flooder costs us as little as possible.
      if (++m.dropped >= this.limits.kickAfterDropped) {
        this.metrics.chatRejected.inc({ code: 'kicked' });
        m.ws.close(1008, 'flooding');
      }
      return;
    }
    if (!m.bucket.take(now)) {
      // One rate error frame per 200 ms at most: the reply must not amplify a flood.
      if (now - m.lastRateError >= 200) {
        m.lastRateError = now;
        this.sendError(m, 'rate_limited', `at most ${this.limits.perConnRate} messages/s (burst ${this.limits.perConnBurst})`);
      } else this.metrics.chatRejected.inc({ code: 'rate_limited' });
      this.strike(m, now);
      return;
    }
    if (!this.addrBuckets.take(m.addr, now)) {
      // Shared by everyone behind this address: not this member's strike.
      this.sendError(m, 'rate_limited_address', `at most ${this.limits.perAddrRate} messages/s from one address`);
      return;
    }
    if (isBinary) return this.sendError(m, 'bad_message', 'frames must be JSON text');
    let msg: unknown;
    try {
      msg = JSON.parse(data.toString());
    } catch {
      return this.sendError(m, 'bad_json', 'frames must be JSON');
    }
    const rec = typeof msg === 'object' && msg !== null ? (msg as Record<string, unknown>) : {};
    if (rec.type !== 'msg' || typeof rec.text !== 'string') return this.sendError(m, 'bad_message', 'expected {"type":"msg","text":"…"}');
    const text = rec.text.trim();
    if (text.length === 0) return this.sendError(m, 'bad_message', 'text must not be empty');
    if (text.length > this.limits.maxTextLength) return this.sendError(m, 'too_long', `text is limited to ${this.limits.maxTextLength} characters`);
    this.metrics.chatMessages.inc();
    this.store.publishChat(room.id, { from: m.name, text, ts: now }).catch((err: unknown) => {
      this.log[isStoreOutage(err) ? 'warn' : 'error']({ err }, 'chat publish failed');
      this.sendError(m, 'unavailable', 'message not sent: chat is unavailable');
    });
  }

  private deliver(room: Room, env: ChatEnvelope): void {
    // Serialise once for every member.
    const frame = Buffer.from(JSON.stringify({ type: 'msg', from: env.from, text: env.text, ts: env.ts, seq: env.seq }));
    for (const m of room.members) {
      if (m.ws.readyState !== m.ws.OPEN) continue;
      if (m.ws.bufferedAmount > this.limits.maxBufferedBytes) {
        this.metrics.chatRejected.inc({ code: 'slow_consumer' });
        m.ws.close(1013, 'too slow');
        continue;
      }
      m.ws.send(frame, { binary: false });
    }
  }

  private closeRoom(roomId: string, code: string, message: string): void {
    const room = this.rooms.get(roomId);
    if (!room) return;
    for (const m of room.members) {
      this.sendError(m, code, message);
      m.ws.close(1000, code);
    }
  }

  private tick(): void {
    const now = Date.now();
    this.joinBuckets.sweep(now);
    this.addrBuckets.sweep(now);
    for (const room of this.rooms.values()) {
      for (const m of room.members) {
        if (!m.alive) {
          m.ws.terminate();
          continue;
        }
        m.alive = false;
        m.ws.ping();
      }
    }
  }

  /** Graceful: members get a 1001 close and up to `graceMs` to answer it, then the rest is cut. */
  async close(graceMs = 1000): Promise<void> {
    this.closed = true;
    clearInterval(this.timer);
    const unsubs: Array<Promise<Unsubscribe>> = [];
    const closing: Array<Promise<void>> = [];
    const all: WebSocket[] = [];
    for (const room of this.rooms.values()) {
      for (const m of room.members) {
        all.push(m.ws);
        closing.push(new Promise((resolve) => m.ws.once('close', () => resolve())));
        m.ws.close(1001, 'server shutting down');
      }
      unsubs.push(room.ready);
    }
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([Promise.all(closing), new Promise((resolve) => (timer = setTimeout(resolve, graceMs)))]);
    clearTimeout(timer);
    for (const ws of all) ws.terminate();
    this.rooms.clear();
    await Promise.allSettled(unsubs.map((p) => p.then((u) => u())));
    this.wss.close();
  }
}
