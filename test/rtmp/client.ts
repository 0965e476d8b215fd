// An RTMP client that publishes or plays one stream, for tests (the edge pulls over HTTP-FLV, and the
// benchmarks drive bench/lib/rtmp-mini.ts).
import net from 'node:net';
import { EventEmitter } from 'node:events';
import { decodeAmf0Value, encodeAmf0, isAmfObject, AmfError, type Amf0Value } from '../../src/media/amf/amf0.js';
import { TagType, type MediaPacket } from '../../src/media/packet.js';
import { ms } from '../../src/media/time.js';
import { ChunkReader, DEFAULT_MAX_MESSAGE_SIZE, type RtmpMessage } from '../../src/rtmp/chunk-reader.js';
import { Csid, encodeMessage, type OutgoingMessage } from '../../src/rtmp/chunk-writer.js';
import { splitAggregate } from '../../src/rtmp/aggregate.js';
import { RtmpProtocolError } from '../../src/rtmp/errors.js';
import { ClientHandshake } from '../../src/rtmp/handshake.js';
import {
  MessageType,
  UserControlEvent,
  acknowledgement,
  commandMessage,
  parseCommand,
  parseU32,
  parseUserControl,
  pingResponse,
  setBufferLength,
  setChunkSize,
  stripSetDataFrame,
  windowAckSize,
} from '../../src/rtmp/messages.js';

export interface RtmpClientOptions {
  /** Connect + handshake + each command must answer within this (default 10 s). */
  timeoutMs?: number;
  /** Our outgoing chunk size (default 4096, as OBS and FFmpeg). */
  chunkSize?: number;
  maxMessageSize?: number;
  /** Buffer length announced to the server when playing (ms, default 1000). */
  bufferMs?: number;
}

/** A refusal or failure status from the server (onStatus level "error", or a connect _error). */
export class RtmpStatusError extends Error {
  override readonly name = 'RtmpStatusError';
  constructor(
    readonly code: string,
    description: string,
  ) {
    super(`${code}: ${description}`);
  }
}

interface Pending {
  resolve(values: Amf0Value[]): void;
  reject(err: Error): void;
}

interface StatusWaiter {
  success: string;
  resolve(): void;
  reject(err: Error): void;
}

const obj = (v: Amf0Value | undefined): Record<string, Amf0Value> =>
  isAmfObject(v) ? v : {};
const str = (v: Amf0Value | undefined): string => (typeof v === 'string' ? v : '');

/**
 * Events: 'close' (once, with an optional Error), 'error' (Error; the connection then closes),
 * 'status' (the info object of every onStatus), 'drain' (the socket drained).
 */
export class RtmpClient extends EventEmitter {
  private readonly reader: ChunkReader;
  private readonly chunkSize: number;
  private readonly timeoutMs: number;
  private readonly bufferMs: number;
  private readonly handshake = new ClientHandshake();
  private nextTx = 1;
  private readonly pending = new Map<number, Pending>();
  private status: StatusWaiter | undefined;
  private streamId = 0;
  private onPacket: ((p: MediaPacket) => void) | undefined;
  private closed = false;
  private peerWindow = 0;
  private received = 0;
  private lastAck = 0;
  private onHandshake: ((err?: Error) => void) | undefined;

  private constructor(
    private readonly socket: net.Socket,
    private readonly app: string,
    private readonly tcUrl: string,
    opts: RtmpClientOptions,
  ) {
    super();
    this.chunkSize = opts.chunkSize ?? 4096;
    this.timeoutMs = opts.timeoutMs ?? 10_000;
    this.bufferMs = opts.bufferMs ?? 1000;
    this.reader = new ChunkReader({ maxMessageSize: opts.maxMessageSize ?? DEFAULT_MAX_MESSAGE_SIZE });
    socket.setNoDelay(true);
    socket.on('data', (d: Buffer) => this.onData(d));
    socket.on('drain', () => this.emit('drain'));
    socket.on('error', (err) => this.fail(err));
    socket.on('close', () => this.finish());
  }

  /** Connects to `rtmp://host[:port]/app[?query]`, handshakes and sends `connect`. */
  static async connect(url: string, opts: RtmpClientOptions = {}): Promise<RtmpClient> {
    const u = new URL(url);
    if (u.protocol !== 'rtmp:') throw new Error(`not an rtmp:// URL: ${url}`);
    const app = decodeURIComponent(u.pathname.replace(/^\/+/, '').replace(/\/+$/, ''));
    const port = u.port ? Number(u.port) : 1935;
    const host = u.hostname.replace(/^\[|\]$/g, '');
    const socket = net.connect({ host, port });
    const client = new RtmpClient(socket, app, url, opts);
    try {
      await client.withTimeout(
        new Promise<void>((resolve, reject) => {
          client.onHandshake = (err) => (err ? reject(err) : resolve());
          socket.once('connect', () => socket.write(client.handshake.start()));
          client.once('close', (err?: Error) => reject(err ?? new Error('connection closed during handshake')));
        }),
        'handshake',
      );
      client.sendMessages(setChunkSize(client.chunkSize));
      await client.call(0, 'connect', {
        app,
        type: 'nonprivate',
        flashVer: 'FMLE/3.0 (compatible; livecdn)',
        tcUrl: url,
        fpad: false,
        capabilities: 15,
        audioCodecs: 4071,
        videoCodecs: 252,
        videoFunction: 1,
        objectEncoding: 0,
      });
      return client;
    } catch (err) {
      client.close();
      throw err;
    }
  }

  /** Bytes queued in the socket (for pacing and backpressure). */
  get writableLength(): number {
    return this.socket.writableLength;
  }

  get isClosed(): boolean {
    return this.closed;
  }

  /** Announces and starts publishing `stream` (which may carry `?token=...`); rejects with RtmpStatusError. */
  async publish(stream: string): Promise<void> {
    this.sendMessages(
      commandMessage(0, 'releaseStream', this.nextTx++, null, stream),
      commandMessage(0, 'FCPublish', this.nextTx++, null, stream),
    );
    await this.createStream();
    await this.awaitStatus('NetStream.Publish.Start', () =>
      this.sendMessages(commandMessage(this.streamId, 'publish', this.nextTx++, null, stream, 'live')),
    );
  }

  /** Sends one media packet; Script packets (onMetaData) are wrapped in @setDataFrame. */
  send(packet: MediaPacket): void {
    if (this.closed) return;
    let msg: OutgoingMessage;
    if (packet.type === TagType.Script) {
      msg = {
        csid: Csid.Data,
        timestamp: packet.timestamp,
        typeId: MessageType.DataAmf0,
        streamId: this.streamId,
        payload: Buffer.concat([encodeAmf0('@setDataFrame'), packet.payload]),
      };
    } else {
      msg = {
        csid: packet.type === TagType.Audio ? Csid.Audio : Csid.Video,
        timestamp: packet.timestamp,
        typeId: packet.type,
        streamId: this.streamId,
        payload: packet.payload,
      };
    }
    this.socket.write(encodeMessage(msg, this.chunkSize));
  }

  /** Sends one message of any type on the publish stream, as is (hostile-publisher tests craft data messages). */
  sendMessage(typeId: number, payload: Buffer, timestamp = 0): void {
    if (this.closed) return;
    this.sendMessages({ csid: Csid.Data, timestamp, typeId, streamId: this.streamId, payload });
  }

  /** Plays `stream`; media (and onMetaData as Script packets) go to `onPacket`. Rejects with RtmpStatusError. */
  async play(stream: string, onPacket: (p: MediaPacket) => void): Promise<void> {
    await this.createStream();
    this.onPacket = onPacket;
    await this.awaitStatus('NetStream.Play.Start', () =>
      this.sendMessages(
        commandMessage(this.streamId, 'play', this.nextTx++, null, stream, -2000),
        setBufferLength(this.streamId, this.bufferMs),
      ),
    );
  }

  /** Closes the connection (FCUnpublish/deleteStream first when a stream exists). */
  close(): void {
    if (this.closed) return;
    if (this.streamId && !this.socket.destroyed) {
      this.sendMessages(commandMessage(0, 'deleteStream', 0, null, this.streamId));
    }
    this.socket.end();
    setTimeout(() => this.socket.destroy(), 2000).unref();
    this.finish();
  }

  // ------------------------------------------------------------------ internals

  private async createStream(): Promise<void> {
    const [, id] = await this.call(0, 'createStream', null);
    if (typeof id !== 'number') throw new RtmpProtocolError('bad-command', 'createStream answered without a stream id');
    this.streamId = id;
  }

  private sendMessages(...msgs: OutgoingMessage[]): void {
    if (this.closed || this.socket.destroyed) return;
    this.socket.write(Buffer.concat(msgs.map((m) => encodeMessage(m, this.chunkSize))));
  }

  private call(streamId: number, name: string, ...args: Amf0Value[]): Promise<Amf0Value[]> {
    const tx = this.nextTx++;
    const p = new Promise<Amf0Value[]>((resolve, reject) => this.pending.set(tx, { resolve, reject }));
    this.sendMessages(commandMessage(streamId, name, tx, ...args));
    return this.withTimeout(p, name);
  }

  private awaitStatus(success: string, send: () => void): Promise<void> {
    const p = new Promise<void>((resolve, reject) => {
      this.status = { success, resolve, reject };
    });
    send();
    return this.withTimeout(p, success);
  }

  private withTimeout<T>(p: Promise<T>, what: string): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      const t = setTimeout(() => reject(new Error(`rtmp ${what}: no answer within ${this.timeoutMs} ms`)), this.timeoutMs);
      p.then(
        (v) => {
          clearTimeout(t);
          resolve(v);
        },
        (e: unknown) => {
          clearTimeout(t);
          reject(e instanceof Error ? e : new Error(String(e)));
        },
      );
    });
  }

  private onData(d: Buffer): void {
    try {
      if (!this.handshake.done) {
        const step = this.handshake.feed(d);
        if (step.output) this.socket.write(step.output);
        if (!step.done) return;
        this.onHandshake?.();
        this.onHandshake = undefined;
        if (!step.rest || step.rest.length === 0) return;
        d = step.rest;
      }
      this.received += d.length;
      if (this.peerWindow > 0 && this.received - this.lastAck >= this.peerWindow) {
        this.lastAck = this.received;
        this.sendMessages(acknowledgement(this.received % 2 ** 32));
      }
      for (const m of this.reader.feed(d)) this.handle(m);
    } catch (err) {
      this.fail(err instanceof Error ? err : new Error(String(err)));
    }
  }

  private handle(m: RtmpMessage): void {
    switch (m.typeId) {
      case MessageType.Audio:
      case MessageType.Video:
        if (m.payload.length > 0) this.onPacket?.({ type: m.typeId, timestamp: ms(m.timestamp), payload: m.payload });
        return;
      case MessageType.DataAmf0:
      case MessageType.DataAmf3:
        return this.data(m);
      case MessageType.CommandAmf0:
      case MessageType.CommandAmf3:
        return this.command(m);
      case MessageType.Aggregate:
        return this.aggregate(m);
      case MessageType.WindowAckSize:
        this.peerWindow = parseU32(m.payload, 'Window Acknowledgement Size');
        return;
      case MessageType.SetPeerBandwidth:
        // Answer with our window, as librtmp does, so the server may track our acknowledgements.
        this.sendMessages(windowAckSize(parseU32(m.payload, 'Set Peer Bandwidth')));
        return;
      case MessageType.UserControl: {
        const uc = parseUserControl(m.payload);
        if (uc.event === UserControlEvent.PingRequest) this.sendMessages(pingResponse(uc.value));
        return;
      }
      default:
        return;
    }
  }

  private data(m: RtmpMessage): void {
    if (!this.onPacket) return;
    const rest = stripSetDataFrame(m.typeId, m.payload);
    try {
      if (decodeAmf0Value(rest, 0).value !== 'onMetaData') return;
      this.onPacket({ type: TagType.Script, timestamp: ms(m.timestamp), payload: rest });
    } catch (e) {
      if (e instanceof AmfError) throw new RtmpProtocolError('bad-command', `malformed AMF in data: ${e.message}`);
      throw e;
    }
  }

  private aggregate(m: RtmpMessage): void {
    for (const t of splitAggregate(m.timestamp, m.payload)) {
      if (t.payload.length > 0) this.onPacket?.({ type: t.type, timestamp: ms(t.timestamp), payload: t.payload });
    }
  }

  private command(m: RtmpMessage): void {
    const cmd = parseCommand(m.typeId, m.payload);
    if (cmd.name === '_result' || cmd.name === '_error') {
      const p = this.pending.get(cmd.transactionId);
      if (!p) return;
      this.pending.delete(cmd.transactionId);
      if (cmd.name === '_result') p.resolve([cmd.object, ...cmd.args]);
      else {
        const info = obj(cmd.args[0]);
        p.reject(new RtmpStatusError(str(info.code) || 'NetConnection.Call.Failed', str(info.description)));
      }
      return;
    }
    if (cmd.name === 'onStatus') {
      const info = obj(cmd.args[0]);
      this.emit('status', info);
      const code = str(info.code);
      const w = this.status;
      if (!w) return;
      if (info.level === 'error') {
        this.status = undefined;
        w.reject(new RtmpStatusError(code, str(info.description)));
      } else if (code === w.success) {
        this.status = undefined;
        w.resolve();
      }
    }
    // onBWDone, onFCPublish, ...: nothing to do
  }

  private fail(err: Error): void {
    if (this.closed) return;
    // Without a listener 'error' would throw out of a socket callback; 'close' still carries it.
    if (this.listenerCount('error') > 0) this.emit('error', err);
    this.socket.destroy();
    this.finish(err);
  }

  private finish(err?: Error): void {
    if (this.closed) return;
    this.closed = true;
    const e = err ?? new Error('rtmp connection closed');
    this.onHandshake?.(e);
    this.onHandshake = undefined;
    for (const p of this.pending.values()) p.reject(e);
    this.pending.clear();
    this.status?.reject(e);
    this.status = undefined;
    this.emit('close', err);
  }
}
