// Test helpers: a tiny in-memory RtmpApp that relays each publisher to its players (metadata, sequence
// headers and the GOP from the last keyframe for late joiners), and child-process helpers for ffmpeg.
import { spawn, type ChildProcess } from 'node:child_process';
import net from 'node:net';
import { TagType, type MediaPacket } from '../media/packet.js';
import type { PlayOutput, PlayResult, PublishResult, RtmpApp, RtmpStreamRequest } from './app.js';
import { Csid, encodeMessage } from './chunk-writer.js';
import { ClientHandshake } from './handshake.js';

interface RelayStream {
  meta?: MediaPacket;
  avcHeader?: MediaPacket;
  aacHeader?: MediaPacket;
  gop: MediaPacket[];
  players: Set<PlayOutput>;
}

export const isKeyframe = (p: MediaPacket): boolean => p.type === TagType.Video && p.payload[0]! >> 4 === 1;
const isAvcHeader = (p: MediaPacket): boolean => p.type === TagType.Video && (p.payload[0]! & 0x0f) === 7 && p.payload[1] === 0;
const isAacHeader = (p: MediaPacket): boolean => p.type === TagType.Audio && p.payload[0]! >> 4 === 10 && p.payload[1] === 0;

export class RelayApp implements RtmpApp {
  readonly streams = new Map<string, RelayStream>();
  readonly publishes: RtmpStreamRequest[] = [];
  packetsIn = 0;

  async publish(req: RtmpStreamRequest): Promise<PublishResult> {
    const key = `${req.app}/${req.stream}`;
    if (this.streams.has(key))
      return { ok: false, refusal: { code: 'NetStream.Publish.BadName', description: 'already publishing' } };
    if (req.query.token === 'bad') return { ok: false, refusal: { code: 'NetStream.Publish.Unauthorized', description: 'bad token' } };
    this.publishes.push(req);
    const s: RelayStream = { gop: [], players: new Set() };
    this.streams.set(key, s);
    return {
      ok: true,
      sink: {
        onPacket: (p) => {
          this.packetsIn++;
          if (p.type === TagType.Script) s.meta = p;
          else if (isAvcHeader(p)) s.avcHeader = p;
          else if (isAacHeader(p)) s.aacHeader = p;
          else {
            if (isKeyframe(p)) s.gop = [];
            s.gop.push(p);
          }
          for (const out of s.players) out.write(chunk(p, out));
        },
        onEnd: () => {
          this.streams.delete(key);
          for (const out of s.players) out.close('publisher gone');
        },
      },
    };
  }

  async play(req: RtmpStreamRequest, out: PlayOutput): Promise<PlayResult> {
    const s = this.streams.get(`${req.app}/${req.stream}`);
    if (!s) return { ok: false, refusal: { code: 'NetStream.Play.StreamNotFound', description: 'no such stream' } };
    return {
      ok: true,
      start: () => {
        const first = [s.meta, s.avcHeader, s.aacHeader].filter((p): p is MediaPacket => p !== undefined);
        out.writev([...first, ...s.gop].map((p) => chunk(p, out)));
        s.players.add(out);
      },
      detach: () => s.players.delete(out),
    };
  }
}

function chunk(p: MediaPacket, out: PlayOutput): Buffer {
  const csid = p.type === TagType.Audio ? Csid.Audio : p.type === TagType.Video ? Csid.Video : Csid.Data;
  return encodeMessage({ csid, timestamp: p.timestamp, typeId: p.type, streamId: out.streamId, payload: p.payload }, out.chunkSize);
}

export const FFMPEG = process.env.FFMPEG_PATH ?? 'ffmpeg';

export interface Child {
  readonly proc: ChildProcess;
  stderr: string;
  readonly exited: Promise<number | null>;
  kill(): void;
}

export function run(cmd: string, args: string[]): Child {
  const proc = spawn(cmd, args, { stdio: ['ignore', 'ignore', 'pipe'] });
  const child: Child = {
    proc,
    stderr: '',
    exited: new Promise((resolve) => proc.on('exit', (code) => resolve(code))),
    kill: () => {
      if (proc.exitCode === null && proc.signalCode === null) proc.kill('SIGKILL');
    },
  };
  proc.stderr?.on('data', (d: Buffer) => {
    child.stderr = (child.stderr + d.toString()).slice(-20000);
  });
  return child;
}

export async function waitFor(cond: () => boolean, timeoutMs: number, what: string): Promise<void> {
  const start = Date.now();
  while (!cond()) {
    if (Date.now() - start > timeoutMs) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

/** A raw TCP connection that has completed the RTMP handshake, for sending hand-made chunks. */
export async function rawRtmpConnection(port: number, opts: { host?: string; localAddress?: string } = {}): Promise<net.Socket> {
  const s = net.connect({ host: opts.host ?? '127.0.0.1', port, ...(opts.localAddress ? { localAddress: opts.localAddress } : {}) });
  const hs = new ClientHandshake();
  await new Promise<void>((resolve, reject) => {
    const onClose = (): void => reject(new Error('closed during the handshake'));
    s.once('error', reject);
    s.once('close', onClose);
    s.once('connect', () => s.write(hs.start()));
    const onData = (d: Buffer): void => {
      const step = hs.feed(d);
      if (step.output) s.write(step.output);
      if (step.done) {
        s.off('data', onData);
        s.off('close', onClose);
        s.off('error', reject);
        resolve();
      }
    };
    s.on('data', onData);
  });
  // Later errors (a reset when the server drops us) are what the tests provoke.
  s.on('error', () => undefined);
  return s;
}

/** Whether `s` closes within `ms` (what it receives meanwhile is discarded). */
export const closedWithin = (s: net.Socket, ms: number): Promise<boolean> =>
  new Promise((resolve) => {
    if (s.destroyed) return resolve(true);
    const t = setTimeout(() => resolve(false), ms);
    s.resume();
    s.once('close', () => {
      clearTimeout(t);
      resolve(true);
    });
  });
