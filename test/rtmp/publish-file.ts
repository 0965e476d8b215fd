// Publishes an FLV file over RTMP, optionally paced in real time and looped (tests).
import { open } from 'node:fs/promises';
import { FlvReader } from '../../src/media/flv/reader.js';
import { TagType, type MediaPacket } from '../../src/media/packet.js';
import { ms } from '../../src/media/time.js';
import { RtmpClient, type RtmpClientOptions } from './client.js';

export interface PublishFileOptions {
  /** Pace packets by their timestamps (as `ffmpeg -re`); otherwise send as fast as the socket takes them. */
  realtime: boolean;
  /** Start over at the end, with timestamps continuing. */
  loop?: boolean;
  signal?: AbortSignal;
  /** Called with each packet just before it is sent (e.g. to stamp send times). */
  onPacket?: (p: MediaPacket) => void;
  client?: RtmpClientOptions;
}

/** Stop reading the file while this many bytes wait in the socket. */
const HIGH_WATER = 1 << 20;

/**
 * Publishes `filePath` to `url` (`rtmp://host:port/app/stream[?query]`). Resolves when the file (or the
 * loop, on abort) is done and the connection closed; rejects on a refusal (RtmpStatusError) or I/O error.
 */
export async function publishFlvFile(url: string, filePath: string, opts: PublishFileOptions): Promise<void> {
  const { appUrl, stream } = splitStreamUrl(url);
  const client = await RtmpClient.connect(appUrl, opts.client);
  const signal = opts.signal;
  try {
    await client.publish(stream);
    const started = performance.now();
    let offset = 0; // added to timestamps on each loop so they keep growing
    let last = 0;
    do {
      let first: number | undefined;
      let maxTs = 0;
      for await (const p of readFlvPackets(filePath)) {
        if (signal?.aborted || client.isClosed) return;
        first ??= p.timestamp;
        const ts = p.timestamp - first + offset;
        maxTs = Math.max(maxTs, ts);
        const packet: MediaPacket = { type: p.type, timestamp: ms(ts), payload: p.payload };
        // Metadata and sequence headers are sent once: again on a loop they would only confuse players.
        if (offset > 0 && (p.type === TagType.Script || isSequenceHeader(p))) continue;
        if (opts.realtime) {
          const due = started + ts - performance.now();
          if (due > 1) await sleep(due, signal);
        }
        if (signal?.aborted || client.isClosed) return;
        opts.onPacket?.(packet);
        client.send(packet);
        last = ts;
        if (client.writableLength > HIGH_WATER) await drained(client, signal);
      }
      offset = Math.max(maxTs, last) + 40;
    } while (opts.loop && !signal?.aborted && !client.isClosed);
  } finally {
    client.close();
  }
}

/** Splits `rtmp://h/app/stream?q` into the connect URL and the stream name with its query. */
export function splitStreamUrl(url: string): { appUrl: string; stream: string } {
  const q = url.indexOf('?');
  const base = q < 0 ? url : url.slice(0, q);
  const query = q < 0 ? '' : url.slice(q);
  const slash = base.lastIndexOf('/');
  if (slash < 'rtmp://'.length) throw new Error(`no stream name in ${url}`);
  return { appUrl: base.slice(0, slash), stream: base.slice(slash + 1) + query };
}

function isSequenceHeader(p: MediaPacket): boolean {
  if (p.type === TagType.Video) return (p.payload[0]! & 0x0f) === 7 && p.payload[1] === 0;
  if (p.type === TagType.Audio) return p.payload[0]! >> 4 === 10 && p.payload[1] === 0;
  return false;
}

async function* readFlvPackets(filePath: string): AsyncGenerator<MediaPacket> {
  const fh = await open(filePath, 'r');
  try {
    const reader = new FlvReader();
    for await (const chunk of fh.createReadStream({ highWaterMark: 256 * 1024 })) {
      for (const p of reader.push(chunk as Buffer)) yield p;
    }
  } finally {
    await fh.close();
  }
}

function sleep(msDelay: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    const t = setTimeout(done, msDelay);
    function done(): void {
      clearTimeout(t);
      signal?.removeEventListener('abort', done);
      resolve();
    }
    signal?.addEventListener('abort', done, { once: true });
  });
}

function drained(client: RtmpClient, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    const done = (): void => {
      client.off('drain', done);
      client.off('close', done);
      signal?.removeEventListener('abort', done);
      resolve();
    };
    client.on('drain', done);
    client.on('close', done);
    signal?.addEventListener('abort', done, { once: true });
  });
}
