// Viewers for the load generator. Counters only count bytes (no parsing, a shared read buffer, no
// allocation per read); probes parse the stream fully to read the SEI send-time stamps.
import net from 'node:net';
import http from 'node:http';
import { FlvReader } from '../../src/media/flv/reader.js';
import { parseVideoTagHeader } from '../../src/media/flv/tag-header.js';
import type { NaluLengthSize } from '../../src/media/h264/avcc.js';
import { TagType } from '../../src/media/packet.js';
import type { MediaPacket } from '../../src/media/packet.js';
import { MiniRtmpClient, MsgType } from './rtmp-mini.js';
import { nalLengthSize, nowMs, readStamp } from './sei.js';
import { sleep } from '../../test/helpers/wait.js';
import { HlsCounter } from './hls-viewer.js';

export type Protocol = 'flv' | 'rtmp';
/** What the load generator opens: the stream protocols, or HLS viewers (bench/lib/hls-viewer.ts). */
export type CounterProtocol = Protocol | 'hls';

export interface Viewer {
  /** Bytes received so far (headers included). */
  readonly bytes: number;
  /** HTTP requests made so far, for viewers that make more than one (HLS). */
  readonly requests?: number;
  /** Why it ended, if it did. */
  readonly ended: string | undefined;
  close(): void;
}

const sharedReadBuffer = Buffer.allocUnsafe(256 * 1024);

/** HTTP-FLV viewer on a plain socket with a hand-written GET: the cheapest possible client. */
export class HttpFlvCounter implements Viewer {
  bytes = 0;
  ended: string | undefined;
  private checked = false;
  private readonly socket: net.Socket;

  constructor(url: string) {
    const u = new URL(url);
    this.socket = net.connect({
      host: u.hostname,
      port: Number(u.port || 80),
      noDelay: true,
      onread: {
        buffer: sharedReadBuffer,
        callback: (n: number, buf: Uint8Array): boolean => {
          if (!this.checked) {
            this.checked = true;
            const head = Buffer.from(buf.subarray(0, Math.min(n, 12))).toString('latin1');
            if (!/^HTTP\/1\.[01] 200/.test(head)) this.end(`bad response: ${head}`);
          }
          this.bytes += n;
          return true;
        },
      },
    });
    this.socket.on('connect', () => {
      this.socket.write(`GET ${u.pathname}${u.search} HTTP/1.1\r\nHost: ${u.host}\r\nUser-Agent: livecdn-bench\r\nAccept: */*\r\n\r\n`);
    });
    this.socket.on('error', (e) => this.end(e.message));
    this.socket.on('close', () => this.end('closed'));
  }

  private end(why: string): void {
    this.ended ??= why;
    this.socket.destroy();
  }

  close(): void {
    this.ended ??= 'closed by us';
    this.socket.destroy();
  }
}

/** Connects `client` and starts playing; a failure is recorded through `setEnded` and closes it. */
function startPlaying(client: MiniRtmpClient, setEnded: (why: string) => void): void {
  client
    .connect()
    .then(() => client.play())
    .catch((e: unknown) => {
      setEnded(e instanceof Error ? e.message : String(e));
      client.close();
    });
}

export class RtmpCounter implements Viewer {
  ended: string | undefined;
  private readonly client: MiniRtmpClient;

  constructor(url: string) {
    this.client = new MiniRtmpClient(url, { mode: 'count', onClose: (e) => (this.ended ??= e?.message ?? 'closed') });
    startPlaying(this.client, (why) => (this.ended ??= why));
  }

  get bytes(): number {
    return this.client.bytes;
  }

  close(): void {
    this.ended ??= 'closed by us';
    this.client.close();
  }
}

/** Common part of the probes: turns video payloads into delay samples. */
abstract class StampProbe implements Viewer {
  abstract readonly bytes: number;
  ended: string | undefined;
  /** Arrival minus send time (ms) of every stamped video frame since the last take(). */
  private samples: number[] = [];
  private lengthSize: NaluLengthSize = 4;
  videoFrames = 0;

  protected onVideo(payload: Buffer): void {
    const t = nowMs();
    let h;
    try {
      h = parseVideoTagHeader(payload);
    } catch {
      return;
    }
    if (h.codec !== 'h264') return;
    if (h.kind === 'sequence-header') {
      this.lengthSize = nalLengthSize(h.data);
      return;
    }
    if (h.kind !== 'coded-frames') return;
    this.videoFrames++;
    const stamp = readStamp(payload, this.lengthSize);
    if (stamp !== undefined) this.samples.push(t - stamp);
  }

  take(): number[] {
    const s = this.samples;
    this.samples = [];
    return s;
  }

  abstract close(): void;
}

/**
 * GETs an HTTP-FLV stream and hands each of its tags to `onPacket` as it arrives (`onBytes` gets each
 * chunk's size); `onEnd` is told why it ended: a status other than 200, a parse error, the connection.
 */
export function getFlv(url: string, onPacket: (p: MediaPacket) => void, onEnd: (why: string) => void, onBytes: (n: number) => void = () => {}): http.ClientRequest {
  const reader = new FlvReader();
  const req = http.get(url, { agent: false }, (res) => {
    if (res.statusCode !== 200) {
      onEnd(`HTTP ${res.statusCode ?? 0}`);
      res.destroy();
      return;
    }
    res.on('data', (d: Buffer) => {
      onBytes(d.length);
      try {
        for (const p of reader.push(d)) onPacket(p);
      } catch (e) {
        onEnd(`FLV parse error: ${e instanceof Error ? e.message : String(e)}`);
        res.destroy();
      }
    });
    res.on('close', () => onEnd('closed'));
  });
  req.on('error', (e) => onEnd(e.message));
  return req;
}

export class HttpFlvProbe extends StampProbe {
  bytes = 0;
  private readonly req: http.ClientRequest;

  constructor(url: string) {
    super();
    this.req = getFlv(
      url,
      (p) => {
        if (p.type === TagType.Video) this.onVideo(p.payload);
      },
      (why) => (this.ended ??= why),
      (n) => (this.bytes += n),
    );
  }

  close(): void {
    this.ended ??= 'closed by us';
    this.req.destroy();
  }
}

export class RtmpProbe extends StampProbe {
  private readonly client: MiniRtmpClient;

  constructor(url: string) {
    super();
    this.client = new MiniRtmpClient(url, {
      mode: 'parse',
      onMessage: (m) => {
        if (m.type === MsgType.Video) this.onVideo(m.payload);
      },
      onClose: (e) => (this.ended ??= e?.message ?? 'closed'),
    });
    startPlaying(this.client, (why) => (this.ended ??= why));
  }

  get bytes(): number {
    return this.client.bytes;
  }

  close(): void {
    this.ended ??= 'closed by us';
    this.client.close();
  }
}

export function openCounter(proto: CounterProtocol, url: string): Viewer {
  if (proto === 'hls') return new HlsCounter(url);
  return proto === 'flv' ? new HttpFlvCounter(url) : new RtmpCounter(url);
}

/**
 * Opens `count` counters into `into`, `batch` at a time with a `stepMs` pause after each batch: servers
 * get a ramp, not a SYN flood. `into` fills as they open, so a concurrent reader sees the ramp.
 */
export async function openCounters(proto: CounterProtocol, url: string, count: number, batch: number, stepMs: number, into: Viewer[] = []): Promise<Viewer[]> {
  for (let i = 0; i < count; i += batch) {
    for (let k = i; k < Math.min(count, i + batch); k++) into.push(openCounter(proto, url));
    await sleep(stepMs);
  }
  return into;
}

export function openProbe(proto: Protocol, url: string): StampProbe {
  return proto === 'flv' ? new HttpFlvProbe(url) : new RtmpProbe(url);
}

export type { StampProbe };
