// The socket adapter: one ServerSession per TCP connection, plus connection limits, timeouts and byte
// counters. A protocol error on one connection closes only that connection.
import net from 'node:net';
import { randomUUID } from 'node:crypto';
import { createLogger, type Logger } from '../shared/log.js';
import type { PlayOutput, PublisherControl, RtmpApp } from './app.js';
import { DEFAULT_MAX_MESSAGE_SIZE } from './chunk-reader.js';
import { RtmpProtocolError } from './errors.js';
import { DEFAULT_OUT_CHUNK_SIZE, STREAM_ID, ServerSession } from './session.js';

export interface RtmpServerOptions {
  /** Outgoing chunk size (default 60000). */
  chunkSize?: number;
  /** Largest incoming message (default 16 MiB); larger drops the connection. */
  maxMessageSize?: number;
  /** A connection must finish the handshake within this (default 10 s). */
  handshakeTimeoutMs?: number;
  /** A publisher that sends no media for this long is dropped (default 30 s), as is a connection that neither publishes nor plays. */
  idleTimeoutMs?: number;
  /** Further connections are refused (default 1000). */
  maxConnections?: number;
  logger?: Logger;
}

export interface RtmpServerStats {
  connections: number;
  publishers: number;
  players: number;
  bytesIn: number;
  bytesOut: number;
  /** Connections refused by maxConnections. */
  refusedConnections: number;
  /** Connections dropped for a protocol error, a handshake timeout or idleness. */
  droppedConnections: number;
}

/** Grace for a closing socket to flush (a refusal status) before it is destroyed. */
const CLOSE_GRACE_MS = 2000;

interface Conn {
  readonly socket: net.Socket;
  readonly session: ServerSession;
  readonly openedAt: number;
  lastMediaCount: number;
  lastMediaAt: number;
  /** Role seen at the last sweep, to restart the idle clock when it changes. */
  lastRole: string;
}

/**
 * A connection's output as a class, not an object literal with closures: the fan-out reads
 * writableLength and writes through it for every player in every batch, and one shared shape keeps
 * those calls monomorphic (a literal's getter closure gives each connection its own hidden class).
 */
class SocketPlayOutput implements PlayOutput {
  readonly streamId = STREAM_ID;
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

export class RtmpServer {
  private readonly server: net.Server;
  private readonly conns = new Set<Conn>();
  private readonly log: Logger;
  private readonly chunkSize: number;
  private readonly maxMessageSize: number;
  private readonly handshakeTimeoutMs: number;
  private readonly idleTimeoutMs: number;
  private readonly maxConnections: number;
  private sweepTimer: NodeJS.Timeout | undefined;
  private bytesIn = 0;
  private readonly counters = { bytesOut: 0 };
  private refused = 0;
  private dropped = 0;

  constructor(
    private readonly app: RtmpApp,
    opts: RtmpServerOptions = {},
  ) {
    this.chunkSize = opts.chunkSize ?? DEFAULT_OUT_CHUNK_SIZE;
    this.maxMessageSize = opts.maxMessageSize ?? DEFAULT_MAX_MESSAGE_SIZE;
    this.handshakeTimeoutMs = opts.handshakeTimeoutMs ?? 10_000;
    this.idleTimeoutMs = opts.idleTimeoutMs ?? 30_000;
    this.maxConnections = opts.maxConnections ?? 1000;
    this.log = opts.logger ?? createLogger('rtmp');
    this.server = net.createServer((s) => this.accept(s));
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
        const every = Math.max(20, Math.min(1000, this.handshakeTimeoutMs / 4, this.idleTimeoutMs / 4));
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

  private sweep(): void {
    const now = Date.now();
    for (const c of this.conns) {
      const s = c.session;
      if (!s.handshakeDone) {
        if (now - c.openedAt > this.handshakeTimeoutMs) this.drop(c, 'handshake timeout');
        continue;
      }
      if (s.role !== c.lastRole) {
        c.lastRole = s.role;
        c.lastMediaAt = now;
      }
      // Players only receive, so they are never idle; a connection that neither publishes nor plays
      // would otherwise hold a connection slot forever.
      if (s.role === 'player') continue;
      if (s.mediaMessages !== c.lastMediaCount) {
        c.lastMediaCount = s.mediaMessages;
        c.lastMediaAt = now;
      } else if (now - c.lastMediaAt > this.idleTimeoutMs) {
        this.drop(c, s.role === 'publisher' ? 'idle publisher' : 'idle connection');
      }
    }
  }

  private drop(c: Conn, reason: string, err?: Error): void {
    if (c.socket.destroyed) return;
    this.dropped++;
    this.log.warn(
      { conn: c.session.connectionId, remote: c.session.remoteAddress, reason, err: err?.message },
      'rtmp connection dropped',
    );
    c.socket.destroy();
  }

  private accept(socket: net.Socket): void {
    const remoteAddress = socket.remoteAddress ?? '';
    if (this.conns.size >= this.maxConnections) {
      this.refused++;
      this.log.warn({ remote: remoteAddress, max: this.maxConnections }, 'rtmp connection refused: limit reached');
      socket.destroy();
      return;
    }
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
      logger: this.log,
      host: {
        send: (bytes) => void out.write(bytes),
        close: end,
        fail: (err) => this.drop(conn, 'error', err),
        playOutput: out,
        publisherControl,
      },
    });
    const now = Date.now();
    const conn: Conn = { socket, session, openedAt: now, lastMediaCount: 0, lastMediaAt: now, lastRole: 'none' };
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
