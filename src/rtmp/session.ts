// Server side of one RTMP connection as a state machine fed bytes: handshake, chunk stream, protocol
// control, and the NetConnection/NetStream commands of publishers and players. No I/O and no timers:
// bytes go out through the host, and the app (origin hub or edge) is reached through RtmpApp.
import type { Logger } from 'pino';
import { isAmfObject, type Amf0Value } from '../media/amf/amf0.js';
import { MAX_SCRIPT_DATA_BYTES, encodeMetadata } from '../media/flv/script.js';
import { TagType, type MediaPacket } from '../media/packet.js';
import { ms } from '../media/time.js';
import { isValidName } from '../shared/url-contract.js';
import type { PlayOutput, PublisherControl, PublishSink, Refusal, RtmpApp, RtmpStreamRequest } from './app.js';
import { ChunkReader, DEFAULT_MAX_MESSAGE_SIZE, type RtmpMessage } from './chunk-reader.js';
import { encodeMessage, type OutgoingMessage } from './chunk-writer.js';
import { splitAggregate } from './aggregate.js';
import { clientText } from './client-text.js';
import { RtmpProtocolError } from './errors.js';
import { ServerHandshake } from './handshake.js';
import {
  MessageType,
  UserControlEvent,
  acknowledgement,
  commandMessage,
  dataMessage,
  decodeAmfPayload,
  onStatus,
  parseCommand,
  parseU32,
  parseUserControl,
  pingResponse,
  setChunkSize,
  setPeerBandwidth,
  streamBegin,
  stripSetDataFrame,
  streamEof,
  windowAckSize,
  type Command,
} from './messages.js';

/** Every NetStream is id 1, so chunked media bytes are identical for all players and can be shared. */
export const STREAM_ID = 1;
export const DEFAULT_OUT_CHUNK_SIZE = 60000;
export const WINDOW_ACK_SIZE = 5_000_000;
const FMS_VERSION = 'FMS/3,0,1,123';
const CAPABILITIES = 31;
/**
 * Messages held while the app decides on publish/play (it normally answers within milliseconds, and
 * clients wait for the answer before they send media).
 */
const MAX_QUEUED_MESSAGES = 1000;
/**
 * Largest message before a publish is accepted. Commands are a few hundred bytes; only a publisher's
 * media needs the full --max-message-size, and an unauthenticated peer must not make us hold that much.
 */
export const DEFAULT_MAX_MESSAGE_SIZE_BEFORE_PUBLISH = 64 * 1024;

/** What the session needs from its connection (the socket adapter in server.ts, or a test). */
export interface SessionHost {
  /** Queue bytes for the peer, in order. */
  send(bytes: Buffer): void;
  /** Close the connection after what was sent is flushed. The host calls `session.close()` once closed. */
  close(reason: string): void;
  /** An error on an asynchronous path (feed() throws its errors instead). */
  fail(err: Error): void;
  /** Handed to the app for play: the same socket, for pre-chunked media. */
  readonly playOutput: PlayOutput;
  /** Handed to the app for publish. */
  readonly publisherControl: PublisherControl;
}

export interface ServerSessionOptions {
  readonly app: RtmpApp;
  readonly host: SessionHost;
  readonly connectionId: string;
  readonly remoteAddress: string;
  /** Our outgoing chunk size (default 60000). */
  readonly chunkSize?: number;
  /** Largest message once a publish is accepted (default 16 MiB). */
  readonly maxMessageSize?: number;
  /** Largest message until then, and for players (default 64 KiB). */
  readonly maxMessageSizeBeforePublish?: number;
  readonly logger?: Logger;
}

export type SessionRole = 'none' | 'publisher' | 'player';

export class ServerSession {
  private readonly app: RtmpApp;
  private readonly host: SessionHost;
  private readonly log: Logger | undefined;
  private readonly handshake = new ServerHandshake();
  private readonly reader: ChunkReader;
  private readonly outChunkSize: number;
  private readonly maxMessageSize: number;
  private readonly maxQueued: number;
  private chunkSize = 128;

  private connected = false;
  private appName = '';
  private tcUrlQuery: Record<string, string> = {};
  private closed = false;

  role: SessionRole = 'none';
  /** The stream being published or played. */
  streamName: string | undefined;
  private sink: PublishSink | undefined;
  private detach: (() => void) | undefined;

  // Messages arriving while the app decides on publish/play wait here, in order.
  private blocked = false;
  private queue: RtmpMessage[] = [];
  private queuedBytes = 0;

  private peerWindow = 0;
  private received = 0;
  private lastAck = 0;
  /** Audio/video messages received as publisher (the server's idle check reads it). */
  mediaMessages = 0;
  readonly connectionId: string;
  readonly remoteAddress: string;

  constructor(opts: ServerSessionOptions) {
    this.app = opts.app;
    this.host = opts.host;
    this.log = opts.logger;
    this.connectionId = opts.connectionId;
    this.remoteAddress = opts.remoteAddress;
    this.outChunkSize = opts.chunkSize ?? DEFAULT_OUT_CHUNK_SIZE;
    this.maxMessageSize = opts.maxMessageSize ?? DEFAULT_MAX_MESSAGE_SIZE;
    const before = Math.min(this.maxMessageSize, opts.maxMessageSizeBeforePublish ?? DEFAULT_MAX_MESSAGE_SIZE_BEFORE_PUBLISH);
    this.reader = new ChunkReader({ maxMessageSize: before });
    // The queue only fills before a publish or play is accepted, so the small cap bounds it too.
    this.maxQueued = 2 * before;
  }

  get handshakeDone(): boolean {
    return this.handshake.done;
  }

  /** A publish or play waits for the app's answer. */
  get deciding(): boolean {
    return this.blocked;
  }

  get isClosed(): boolean {
    return this.closed;
  }

  /** Feeds bytes from the peer. Throws RtmpProtocolError on bad input; the caller drops the connection. */
  feed(data: Buffer): void {
    if (this.closed) return;
    if (!this.handshake.done) {
      const step = this.handshake.feed(data);
      if (step.output) this.host.send(step.output);
      if (!step.done || !step.rest || step.rest.length === 0) return;
      data = step.rest;
    }
    this.countReceived(data.length);
    for (const msg of this.reader.feed(data)) {
      if (this.closed) return;
      if (this.blocked) {
        this.queue.push(msg);
        this.queuedBytes += msg.payload.length;
        if (this.queuedBytes > this.maxQueued || this.queue.length > MAX_QUEUED_MESSAGES)
          throw new RtmpProtocolError('buffered-too-much', 'too much data while the app decides on publish/play');
      } else {
        this.handle(msg);
      }
    }
  }

  /** The connection is gone: end the publisher or player. Idempotent. */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.queue = [];
    this.endRole();
  }

  // ------------------------------------------------------------------ plumbing

  private send(...msgs: OutgoingMessage[]): void {
    if (this.closed) return;
    const bufs = msgs.map((m) => encodeMessage(m, this.chunkSize));
    this.host.send(bufs.length === 1 ? bufs[0]! : Buffer.concat(bufs));
  }

  private countReceived(n: number): void {
    this.received += n;
    if (this.peerWindow > 0 && this.received - this.lastAck >= this.peerWindow) {
      this.lastAck = this.received;
      this.send(acknowledgement(this.received % 2 ** 32));
    }
  }

  private block(op: Promise<void>): void {
    this.blocked = true;
    op.then(
      () => this.unblock(),
      (err: unknown) => this.host.fail(err instanceof Error ? err : new Error(String(err))),
    );
  }

  private unblock(): void {
    this.blocked = false;
    try {
      while (!this.blocked && !this.closed && this.queue.length > 0) {
        const msg = this.queue.shift()!;
        this.queuedBytes -= msg.payload.length;
        this.handle(msg);
      }
    } catch (err) {
      this.host.fail(err instanceof Error ? err : new Error(String(err)));
    }
  }

  private endRole(): void {
    const sink = this.sink;
    const detach = this.detach;
    this.sink = undefined;
    this.detach = undefined;
    this.role = 'none';
    sink?.onEnd();
    detach?.();
  }

  // ------------------------------------------------------------------ messages

  private handle(msg: RtmpMessage): void {
    switch (msg.typeId) {
      case MessageType.Audio:
      case MessageType.Video:
        return this.media(msg.typeId === MessageType.Audio ? TagType.Audio : TagType.Video, msg.timestamp, msg.payload);
      case MessageType.DataAmf0:
      case MessageType.DataAmf3:
        return this.data(msg);
      case MessageType.CommandAmf0:
      case MessageType.CommandAmf3:
        return this.command(parseCommand(msg.typeId, msg.payload), msg.streamId);
      case MessageType.Aggregate:
        return this.aggregate(msg);
      case MessageType.WindowAckSize:
        this.peerWindow = parseU32(msg.payload, 'Window Acknowledgement Size');
        return;
      case MessageType.UserControl: {
        const uc = parseUserControl(msg.payload);
        if (uc.event === UserControlEvent.PingRequest) this.send(pingResponse(uc.value));
        return;
      }
      // Set Chunk Size and Abort were applied by the chunk reader; Ack and Set Peer Bandwidth need nothing.
      default:
        return;
    }
  }

  private media(type: TagType, timestamp: number, payload: Buffer): void {
    if (!this.sink || payload.length === 0) return; // an empty tag carries nothing downstream can use
    this.mediaMessages++;
    const packet: MediaPacket = { type, timestamp: ms(timestamp), payload };
    this.sink.onPacket(packet);
  }

  /** Aggregate message: FLV tags back to back, timestamps relative to the first one. */
  private aggregate(msg: RtmpMessage): void {
    for (const t of splitAggregate(msg.timestamp, msg.payload)) this.media(t.type, t.timestamp, t.payload);
  }

  private data(msg: RtmpMessage): void {
    if (!this.sink) return;
    const amf3 = msg.typeId === MessageType.DataAmf3;
    // Every joiner gets the metadata again: a large one is dropped before it costs a decode.
    if (msg.payload.length > MAX_SCRIPT_DATA_BYTES) {
      this.log?.warn({ conn: this.connectionId, bytes: msg.payload.length }, `data message over ${MAX_SCRIPT_DATA_BYTES} bytes dropped`);
      return;
    }
    // Keep 'onMetaData' + object.
    const rest = stripSetDataFrame(msg.typeId, msg.payload);
    const values = decodeAmfPayload(MessageType.DataAmf0, rest);
    if (values[0] !== 'onMetaData') return; // onCuePoint, onTextData...: not carried for now
    const obj = values[1];
    // AMF3 bodies are re-encoded so downstream FLV consumers only ever see AMF0, within the same cap.
    const payload = amf3 ? encodeMetadata(obj) : rest;
    if (!payload) {
      this.log?.warn({ conn: this.connectionId }, `AMF3 onMetaData over ${MAX_SCRIPT_DATA_BYTES} bytes as AMF0 dropped`);
      return;
    }
    this.sink.onPacket({ type: TagType.Script, timestamp: ms(msg.timestamp), payload });
  }

  // ------------------------------------------------------------------ commands

  private command(cmd: Command, streamId: number): void {
    this.log?.debug({ conn: this.connectionId, command: clientText(cmd.name), tx: cmd.transactionId }, 'rtmp command');
    if (cmd.name !== 'connect' && !this.connected) {
      throw new RtmpProtocolError('bad-command', `${clientText(cmd.name)} before connect`);
    }
    const str = (v: Amf0Value | undefined): string => (typeof v === 'string' ? v : '');
    switch (cmd.name) {
      case 'connect':
        return this.connect(cmd);
      case 'createStream':
        return this.send(commandMessage(0, '_result', cmd.transactionId, null, STREAM_ID));
      case 'releaseStream':
        return this.send(commandMessage(0, '_result', cmd.transactionId, null, undefined));
      case 'FCPublish':
        return this.send(
          commandMessage(0, 'onFCPublish', 0, null, { code: 'NetStream.Publish.Start', description: clientText(str(cmd.args[0])) }),
          commandMessage(0, '_result', cmd.transactionId, null, undefined),
        );
      case 'FCSubscribe':
        return this.send(
          commandMessage(0, 'onFCSubscribe', 0, null, { code: 'NetStream.Play.Start', description: clientText(str(cmd.args[0])) }),
        );
      case 'getStreamLength':
        return this.send(commandMessage(0, '_result', cmd.transactionId, null, 0));
      case '_checkbw':
        return this.send(commandMessage(0, '_result', cmd.transactionId, null, undefined));
      case 'publish':
        return this.publish(cmd, str(cmd.args[0]));
      case 'play':
        return this.play(cmd, str(cmd.args[0]));
      case 'FCUnpublish':
      case 'deleteStream':
      case 'closeStream':
        if (this.role === 'player') this.send(streamEof(STREAM_ID));
        this.endRole();
        if (cmd.name === 'FCUnpublish' && cmd.transactionId > 0)
          this.send(commandMessage(0, '_result', cmd.transactionId, null, undefined));
        return;
      // Replies to our own calls, and stream controls that live playback does not need.
      case '_result':
      case '_error':
      case 'onStatus':
      case 'onBWDone':
      case 'pause':
      case 'seek':
      case 'receiveAudio':
      case 'receiveVideo':
      case 'FCUnsubscribe':
        return;
      default:
        this.log?.debug({ conn: this.connectionId, command: clientText(cmd.name), streamId }, 'unknown rtmp command ignored');
        if (cmd.transactionId > 0)
          this.send(
            commandMessage(0, '_error', cmd.transactionId, null, {
              level: 'error',
              code: 'NetConnection.Call.Failed',
              description: `unknown command ${clientText(cmd.name)}`,
            }),
          );
    }
  }

  private connect(cmd: Command): void {
    if (this.connected) throw new RtmpProtocolError('bad-command', 'second connect on one connection');
    const obj = isAmfObject(cmd.object) ? cmd.object : {};
    const rawApp = typeof obj.app === 'string' ? obj.app : '';
    // Some clients put the query into the app ("live?token=..."), and some add a trailing slash.
    const [appPart = '', appQuery = ''] = splitOnce(rawApp, '?');
    const app = appPart.replace(/\/+$/, '');
    const tcUrl = typeof obj.tcUrl === 'string' ? obj.tcUrl : '';
    this.tcUrlQuery = { ...parseQuery(queryOfUrl(tcUrl)), ...parseQuery(appQuery) };
    const objectEncoding = typeof obj.objectEncoding === 'number' ? obj.objectEncoding : 0;
    if (!isValidName(app)) {
      this.log?.info({ conn: this.connectionId, app: clientText(rawApp), tcUrl: clientText(tcUrl) }, 'rtmp connect rejected: invalid app name');
      this.send(
        commandMessage(0, '_error', cmd.transactionId, null, {
          level: 'error',
          code: 'NetConnection.Connect.Rejected',
          description: `invalid app name "${clientText(rawApp)}"`,
        }),
      );
      this.host.close('invalid app name');
      return;
    }
    this.appName = app;
    this.connected = true;
    this.send(windowAckSize(WINDOW_ACK_SIZE), setPeerBandwidth(WINDOW_ACK_SIZE), setChunkSize(this.outChunkSize));
    this.chunkSize = this.outChunkSize;
    this.send(
      commandMessage(
        0,
        '_result',
        cmd.transactionId,
        { fmsVer: FMS_VERSION, capabilities: CAPABILITIES },
        {
          level: 'status',
          code: 'NetConnection.Connect.Success',
          description: 'Connection succeeded.',
          objectEncoding,
        },
      ),
      commandMessage(0, 'onBWDone', 0, null),
    );
  }

  private request(nameWithQuery: string): { req: RtmpStreamRequest; valid: boolean } {
    const [stream = '', q = ''] = splitOnce(nameWithQuery, '?');
    const req: RtmpStreamRequest = {
      app: this.appName,
      stream,
      query: { ...this.tcUrlQuery, ...parseQuery(q) },
      remoteAddress: this.remoteAddress,
      connectionId: this.connectionId,
    };
    return { req, valid: isValidName(stream) };
  }

  private refuse(kind: 'publish' | 'play', refusal: Refusal): void {
    const stream = clientText(this.streamName ?? '');
    this.log?.info({ conn: this.connectionId, app: this.appName, stream, code: refusal.code }, `rtmp ${kind} refused`);
    // The app's description may quote what the client sent.
    this.send(onStatus(STREAM_ID, { level: 'error', code: refusal.code, description: clientText(refusal.description) }));
    this.host.close(`${kind} refused: ${refusal.code}`);
  }

  private publish(_cmd: Command, name: string): void {
    if (this.role !== 'none') {
      this.send(onStatus(STREAM_ID, { level: 'error', code: 'NetStream.Publish.BadConnection', description: 'already active' }));
      return;
    }
    const { req, valid } = this.request(name);
    this.streamName = req.stream;
    if (!valid) return this.refuse('publish', { code: 'NetStream.Publish.BadName', description: `invalid stream name "${clientText(name)}"` });
    this.block(
      this.app.publish(req, this.host.publisherControl).then((res) => {
        if (!res.ok) return this.refuse('publish', res.refusal);
        if (this.closed) return res.sink.onEnd();
        this.role = 'publisher';
        this.sink = res.sink;
        // Only now may the peer send messages up to the full cap (a keyframe can be megabytes).
        this.reader.setLimits(this.maxMessageSize);
        this.log?.info({ conn: this.connectionId, app: req.app, stream: req.stream }, 'rtmp publish started');
        this.send(
          onStatus(STREAM_ID, {
            level: 'status',
            code: 'NetStream.Publish.Start',
            description: `${req.stream} is now published.`,
            details: req.stream,
          }),
        );
      }),
    );
  }

  private play(_cmd: Command, name: string): void {
    if (this.role !== 'none') {
      this.send(onStatus(STREAM_ID, { level: 'error', code: 'NetStream.Play.Failed', description: 'already active' }));
      return;
    }
    const { req, valid } = this.request(name);
    this.streamName = req.stream;
    if (!valid)
      return this.refuse('play', { code: 'NetStream.Play.StreamNotFound', description: `invalid stream name "${clientText(name)}"` });
    this.block(
      this.app.play(req, this.host.playOutput).then((res) => {
        if (!res.ok) return this.refuse('play', res.refusal);
        if (this.closed) return res.detach();
        this.role = 'player';
        this.detach = res.detach;
        this.log?.info({ conn: this.connectionId, app: req.app, stream: req.stream }, 'rtmp play started');
        this.send(
          streamBegin(STREAM_ID),
          onStatus(STREAM_ID, { level: 'status', code: 'NetStream.Play.Reset', description: `Playing and resetting ${req.stream}.`, details: req.stream }),
          onStatus(STREAM_ID, { level: 'status', code: 'NetStream.Play.Start', description: `Started playing ${req.stream}.`, details: req.stream }),
          dataMessage(STREAM_ID, '|RtmpSampleAccess', true, true),
          dataMessage(STREAM_ID, 'onStatus', { code: 'NetStream.Data.Start' }),
        );
        res.start();
      }),
    );
  }
}

function splitOnce(s: string, sep: string): [string, string] {
  const i = s.indexOf(sep);
  return i < 0 ? [s, ''] : [s.slice(0, i), s.slice(i + 1)];
}

function queryOfUrl(url: string): string {
  const i = url.indexOf('?');
  return i < 0 ? '' : url.slice(i + 1);
}

function parseQuery(q: string): Record<string, string> {
  const out: Record<string, string> = {};
  if (!q) return out;
  for (const [k, v] of new URLSearchParams(q)) {
    Object.defineProperty(out, k, { value: v, enumerable: true, writable: true, configurable: true });
  }
  return out;
}
