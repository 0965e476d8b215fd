// The socket adapter: one ServerSession per TCP connection, plus connection limits, timeouts and byte
// counters. A protocol error on one connection closes only that connection, and no exception leaves a
// socket or timer callback.
//
// Connection rules (all enforced here, where time and addresses are known; the session stays pure):
// - at most maxConnections in total and maxConnectionsPerIp per address (IPv6 by /64);
// - publisherSlots of maxConnections are kept for publishers: a play is refused when accepting it would
//   leave fewer free slots than that, and while the reserve is being used, connections that have not
//   started publishing or playing within RESERVE_GRACE_MS are dropped to free it;
// - the handshake must finish within handshakeTimeoutMs, and publish or play must start within
//   startTimeoutMs of the connection (or of the end of its last publish/play);
// - a publisher that sends no media for idleTimeoutMs is dropped;
// - a peer with more than MAX_REPLY_BACKLOG unsent is not read until it reads;
// - a player to which nothing was written for playerIdleTimeoutMs is dropped. Players only receive, so
//   what we send is their only sign of life: the app keeps a waiting player (play before publish) or
//   one waiting for a republish for a bounded time, and the host sets this above those waits.
import net from 'node:net';
import { randomUUID } from 'node:crypto';
import { createLogger, type Logger } from '../shared/log.js';
import { limitKey } from '../shared/address.js';
import type { PlayOutput, PlayResult, PublisherControl, RtmpApp } from './app.js';
import { DEFAULT_MAX_MESSAGE_SIZE } from './chunk-reader.js';
import { clientText } from './client-text.js';
import { RtmpProtocolError } from './errors.js';
import { DEFAULT_OUT_CHUNK_SIZE, STREAM_ID, ServerSession } from './session.js';

export interface RtmpServerOptions {
  /** Outgoing chunk size (default 60000). */
  chunkSize?: number;
  /** Largest incoming message of a publisher (default 16 MiB); larger drops the connection. */
  maxMessageSize?: number;
  /** Largest incoming message before a publish is accepted, and of players (default 64 KiB). */
  maxMessageSizeBeforePublish?: number;
  /** A connection must finish the handshake within this (default 10 s). */
  handshakeTimeoutMs?: number;
  /** A connection must be publishing or playing within this (default 15 s). */
  startTimeoutMs?: number;
  /** A publisher that sends no media for this long is dropped (default 30 s). */
  idleTimeoutMs?: number;
  /** A player to which nothing was written for this long is dropped (default 60 s). */
  playerIdleTimeoutMs?: number;
  /** Further connections are refused (default 1000). */
  maxConnections?: number;
  /** Further connections from one address (IPv6: one /64) are refused (default 32). */
  maxConnectionsPerIp?: number;
  /** Slots of maxConnections only a publisher may take (default a tenth of maxConnections). */
  publisherSlots?: number;
  logger?: Logger;
}

export interface RtmpServerStats {
  connections: number;
  publishers: number;
  players: number;
  bytesIn: number;
  bytesOut: number;
  /** Connections refused by maxConnections or maxConnectionsPerIp, and plays refused to keep the publisher slots. */
  refusedConnections: number;
  /** Connections dropped for a protocol error, one of the time rules in the header comment, or an internal error. */
  droppedConnections: number;
}

/** Grace for a closing socket to flush (a refusal status) before it is destroyed. */
const CLOSE_GRACE_MS = 2000;
/**
 * While the publisher reserve is in use, how long a connection may take to start publishing or playing
 * before it is dropped to free the reserve: handshake, connect and publish take a few round trips.
 */
const RESERVE_GRACE_MS = 5000;
const REFUSAL_LOG_MS = 10_000;
/** Unsent bytes past which we stop reading a peer until it reads (players' media backlog counts too). */
const MAX_REPLY_BACKLOG = 1024 * 1024;

interface Conn {
  readonly socket: net.Socket;
  readonly session: ServerSession;
  readonly out: SocketPlayOutput;
  /** When the connection opened, or its last publish/play ended: when the start clock began. */
  idleSince: number;
  lastMediaCount: number;
  lastMediaAt: number;
  lastWritten: number;
  lastWriteAt: number;
  /** Role seen at the last sweep, to restart the clocks when it changes. */
  lastRole: string;
}

/**
 * A connection's output as a class, not an object literal with closures: the fan-out reads
 * writableLength and writes through it for every player in every batch, and one shared shape keeps
 * those calls monomorphic (a literal's getter closure gives each connection its own hidden class).
 */
class SocketPlayOutput implements PlayOutput {
  readonly streamId = STREAM_ID;
  /** Bytes written to this connection (the idle-player check reads it). */
  written = 0;
  private closing: NodeJS.Timeout | undefined;

  constructor(
    private readonly socket: net.Socket,
    readonly chunkSize: number,
    private readonly counters: { bytesOut: number },
    private readonly onClosing: (reason: string) => void,
  ) {}

  get writableLength(): number {
    return this.socket.writableLength;
  }

  write(bytes: Buffer): boolean {
    if (this.socket.destroyed || this.closing) return false;
    this.counters.bytesOut += bytes.length;
    this.written += bytes.length;
    return this.socket.write(bytes);
  }

  writev(chunks: readonly Buffer[]): boolean {
    // One buffer needs no cork/uncork round.
    if (chunks.length === 1) return this.write(chunks[0] as Buffer);
    if (this.socket.destroyed || this.closing) return false;
    this.socket.cork();
    let ok = true;
    for (const b of chunks) {
      this.counters.bytesOut += b.length;
      this.written += b.length;
      ok = this.socket.write(b);
    }
    this.socket.uncork();
    return ok;
  }

  /** Ends our side after queued bytes flush; a peer that does not read is destroyed after a grace. */
  close(reason: string): void {
    const socket = this.socket;
    if (socket.destroyed || this.closing) return;
    this.onClosing(reason);
    socket.end();
    this.closing = setTimeout(() => socket.destroy(), CLOSE_GRACE_MS);
    this.closing.unref();
  }

  /** The socket closed: the grace timer has nothing left to do. */
  closed(): void {
    if (this.closing) clearTimeout(this.closing);
  }
}

/** What an RtmpServer is not given; the origin's defaults (origin/defaults.ts) take theirs from here. */
export const RTMP_SERVER_DEFAULTS = {
  chunkSize: DEFAULT_OUT_CHUNK_SIZE,
  maxMessageSize: DEFAULT_MAX_MESSAGE_SIZE,
  handshakeTimeoutMs: 10_000,
  startTimeoutMs: 15_000,
  /** A publisher sending no media for this long is dropped. */
  idleTimeoutMs: 30_000,
  playerIdleTimeoutMs: 60_000,
  maxConnections: 1000,
  maxConnectionsPerIp: 32,
} as const;

export class RtmpServer {
  private readonly server: net.Server;
  private readonly conns = new Set<Conn>();
  private readonly perIp = new Map<string, number>();
  private readonly log: Logger;
  private readonly app: RtmpApp;
  private readonly chunkSize: number;
  private readonly maxMessageSize: number;
  private readonly maxMessageSizeBeforePublish: number | undefined;
  private readonly handshakeTimeoutMs: number;
  private readonly startTimeoutMs: number;
  private readonly idleTimeoutMs: number;
  private readonly playerIdleTimeoutMs: number;
  private readonly maxConnections: number;
  private readonly maxConnectionsPerIp: number;
  private readonly publisherSlots: number;
  private sweepTimer: NodeJS.Timeout | undefined;
  private bytesIn = 0;
  private readonly counters = { bytesOut: 0 };
  private refused = 0;
  private refusedUnlogged = 0;
  private refusalLoggedAt = -Infinity;
  private dropped = 0;

  constructor(app: RtmpApp, opts: RtmpServerOptions = {}) {
    const d = RTMP_SERVER_DEFAULTS;
    this.chunkSize = opts.chunkSize ?? d.chunkSize;
    this.maxMessageSize = opts.maxMessageSize ?? d.maxMessageSize;
    this.maxMessageSizeBeforePublish = opts.maxMessageSizeBeforePublish;
    this.handshakeTimeoutMs = opts.handshakeTimeoutMs ?? d.handshakeTimeoutMs;
    this.startTimeoutMs = opts.startTimeoutMs ?? d.startTimeoutMs;
    this.idleTimeoutMs = opts.idleTimeoutMs ?? d.idleTimeoutMs;
    this.playerIdleTimeoutMs = opts.playerIdleTimeoutMs ?? d.playerIdleTimeoutMs;
    this.maxConnections = opts.maxConnections ?? d.maxConnections;
    this.maxConnectionsPerIp = opts.maxConnectionsPerIp ?? d.maxConnectionsPerIp;
    this.publisherSlots = Math.min(opts.publisherSlots ?? Math.floor(this.maxConnections / 10), this.maxConnections);
    this.log = opts.logger ?? createLogger('rtmp');
    this.app = this.reservingPublisherSlots(app);
    this.server = net.createServer((s) => {
      try {
        this.accept(s);
      } catch (err) {
        this.log.error({ err }, 'rtmp accept failed');
        s.destroy();
      }
    });
    this.server.on('error', (err) => this.log.error({ err }, 'rtmp server error'));
  }

  get connections(): number {
    return this.conns.size;
  }

  stats(): RtmpServerStats {
    let publishers = 0;
    let players = 0;
    for (const c of this.conns) {
      if (c.session.role === 'publisher') publishers++;
      else if (c.session.role === 'player') players++;
    }
    return {
      connections: this.conns.size,
      publishers,
      players,
      bytesIn: this.bytesIn,
      bytesOut: this.counters.bytesOut,
      refusedConnections: this.refused,
      droppedConnections: this.dropped,
    };
  }

  listen(port: number, host?: string): Promise<number> {
    return new Promise((resolve, reject) => {
      const onError = (err: Error): void => reject(err);
      this.server.once('error', onError);
      this.server.listen(port, host, () => {
        this.server.off('error', onError);
        // One timer for all connections: per-connection timers cost more than a periodic sweep.
        const every = Math.max(
          20,
          Math.min(1000, this.handshakeTimeoutMs / 4, this.startTimeoutMs / 4, this.idleTimeoutMs / 4, this.playerIdleTimeoutMs / 4),
        );
        this.sweepTimer = setInterval(() => this.sweep(), every);
        this.sweepTimer.unref();
        const addr = this.server.address();
        const bound = typeof addr === 'object' && addr ? addr.port : port;
        this.log.info({ port: bound, host }, 'rtmp server listening');
        resolve(bound);
      });
    });
  }

  /** Stops accepting, closes every connection (publishers end, players detach) and resolves when done. */
  async close(): Promise<void> {
    if (this.sweepTimer) clearInterval(this.sweepTimer);
    this.sweepTimer = undefined;
    const closed = new Promise<void>((resolve) => this.server.close(() => resolve()));
    for (const c of this.conns) c.socket.destroy();
    await closed;
  }

  /** Fewer free slots than the publisher reserve: only publishers may hold the slots in use beyond it. */
  private get reserveInUse(): boolean {
    return this.maxConnections - this.conns.size < this.publisherSlots;
  }

  /** The app, with plays refused when accepting one would eat into the publisher reserve. */
  private reservingPublisherSlots(app: RtmpApp): RtmpApp {
    return {
      publish: (req, control) => app.publish(req, control),
      play: (req, out): Promise<PlayResult> => {
        // This connection already counts in conns: accepting it as a player must leave the reserve free.
        if (this.reserveInUse) {
          this.refused++;
          return Promise.resolve({ ok: false, refusal: { code: 'NetStream.Play.Failed', description: 'server full: remaining slots are kept for publishers' } });
        }
        return app.play(req, out);
      },
    };
  }

  private sweep(): void {
    const now = Date.now();
    const reserveInUse = this.reserveInUse;
    for (const c of this.conns) {
      try {
        this.check(c, now, reserveInUse);
      } catch (err) {
        this.drop(c, 'internal error', err instanceof Error ? err : new Error(String(err)));
      }
    }
  }

  /** Applies the time rules of the header comment to one connection. */
  private check(c: Conn, now: number, reserveInUse: boolean): void {
    const s = c.session;
    if (!s.handshakeDone) {
      if (now - c.idleSince > this.handshakeTimeoutMs) this.drop(c, 'handshake timeout');
      return;
    }
    if (s.role !== c.lastRole) {
      c.lastRole = s.role;
      c.lastMediaAt = now;
      c.lastWriteAt = now;
      c.idleSince = now;
    }
    if (s.role === 'none') {
      const waited = now - c.idleSince;
      if (waited > this.startTimeoutMs) this.drop(c, 'no publish or play in time');
      // Deciding connections are the app's to answer (its hooks have their own timeouts).
      else if (reserveInUse && !s.deciding && waited > RESERVE_GRACE_MS) this.drop(c, 'no publish or play while the server is full');
    } else if (s.role === 'player') {
      if (c.out.written !== c.lastWritten) {
        c.lastWritten = c.out.written;
        c.lastWriteAt = now;
      } else if (now - c.lastWriteAt > this.playerIdleTimeoutMs) {
        this.drop(c, 'idle player');
      }
    } else if (s.mediaMessages !== c.lastMediaCount) {
      c.lastMediaCount = s.mediaMessages;
      c.lastMediaAt = now;
    } else if (now - c.lastMediaAt > this.idleTimeoutMs) {
      this.drop(c, 'idle publisher');
    }
  }

  private drop(c: Conn, reason: string, err?: Error): void {
    if (c.socket.destroyed) return;
    this.dropped++;
    this.log.warn(
      { conn: c.session.connectionId, remote: c.session.remoteAddress, reason, err: err ? clientText(err.message) : undefined },
      'rtmp connection dropped',
    );
    c.socket.destroy();
  }

  /** Closes a connection over a limit. Logged at most once per REFUSAL_LOG_MS: a flood must not flood the logs too. */
  private refuse(socket: net.Socket, remote: string, reason: string): void {
    socket.destroy();
    this.refused++;
    this.refusedUnlogged++;
    const now = Date.now();
    if (now - this.refusalLoggedAt < REFUSAL_LOG_MS) return;
    this.log.warn({ remote, reason, refused: this.refusedUnlogged }, 'rtmp connections refused');
    this.refusalLoggedAt = now;
    this.refusedUnlogged = 0;
  }

  private accept(socket: net.Socket): void {
    const remoteAddress = socket.remoteAddress;
    // A socket reset before we run has no address any more: it is gone, and must not count under one
    // shared key with others like it.
    if (!remoteAddress) {
      socket.destroy();
      return;
    }
    if (this.conns.size >= this.maxConnections) {
      this.refuse(socket, remoteAddress, 'limit reached');
      return;
    }
    const ipKey = limitKey(remoteAddress);
    const fromIp = this.perIp.get(ipKey) ?? 0;
    if (fromIp >= this.maxConnectionsPerIp) {
      this.refuse(socket, remoteAddress, 'per-address limit reached');
      return;
    }
    this.perIp.set(ipKey, fromIp + 1);
    // Given back on close, registered before anything below can throw, so a failed accept never leaks it.
    socket.once('close', () => {
      const left = (this.perIp.get(ipKey) ?? 1) - 1;
      if (left > 0) this.perIp.set(ipKey, left);
      else this.perIp.delete(ipKey);
    });
    socket.setNoDelay(true);
    const connectionId = randomUUID();
    const out = new SocketPlayOutput(socket, this.chunkSize, this.counters, (reason) => {
      this.log.debug({ conn: connectionId, reason }, 'rtmp connection closing');
    });
    const end = (reason: string): void => out.close(reason);
    const publisherControl: PublisherControl = { close: end };
    const session: ServerSession = new ServerSession({
      app: this.app,
      connectionId,
      remoteAddress,
      chunkSize: this.chunkSize,
      maxMessageSize: this.maxMessageSize,
      ...(this.maxMessageSizeBeforePublish !== undefined ? { maxMessageSizeBeforePublish: this.maxMessageSizeBeforePublish } : {}),
      logger: this.log,
      host: {
        send: (bytes) => {
          out.write(bytes);
          // A peer that does not read our replies (acks, pongs, command results) is not read either, so
          // its requests cannot grow our output buffer without bound; TCP then holds the peer back.
          if (socket.writableLength > MAX_REPLY_BACKLOG && !socket.isPaused()) {
            socket.pause();
            socket.once('drain', () => socket.resume());
          }
        },
        close: end,
        fail: (err) => this.drop(conn, 'error', err),
        playOutput: out,
        publisherControl,
      },
    });
    const now = Date.now();
    const conn: Conn = {
      socket,
      session,
      out,
      idleSince: now,
      lastMediaCount: 0,
      lastMediaAt: now,
      lastWritten: 0,
      lastWriteAt: now,
      lastRole: 'none',
    };
    this.conns.add(conn);

    socket.on('data', (data: Buffer) => {
      this.bytesIn += data.length;
      try {
        session.feed(data);
      } catch (err) {
        if (err instanceof RtmpProtocolError) this.drop(conn, err.code, err);
        else this.drop(conn, 'internal error', err instanceof Error ? err : new Error(String(err)));
      }
    });
    socket.on('error', (err) => this.log.debug({ conn: connectionId, err: err.message }, 'rtmp socket error'));
    socket.on('close', () => {
      out.closed();
      this.conns.delete(conn);
      try {
        session.close();
      } catch (err) {
        this.log.error({ conn: connectionId, err }, 'rtmp session close failed');
      }
    });
  }
}
