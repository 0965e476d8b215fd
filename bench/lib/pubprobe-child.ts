// The publisher + probe process: publishes the test stream(s) in real time with SEI send-time stamps,
// runs a few fully parsing probe viewers that turn stamps into delays, and polls HLS playlists.
// Kept apart from the load generator so that the N counting viewers do not delay the stamps' readers.
import http from 'node:http';
import { serve } from './ipc.js';
import { loadMedia, RealtimePublisher } from './publisher.js';
import type { Media } from './publisher.js';
import { openProbe } from './viewers.js';
import type { Protocol, StampProbe } from './viewers.js';
import { nowMs } from './sei.js';
import { sleep } from '../../test/helpers/wait.js';

export interface PublishArgs {
  file: string;
  durationMs: number;
  urls: string[];
  /** Stamp only the first publisher's frames (the one the probes watch). */
  stampFirstOnly: boolean;
  /** Gap between publisher starts, so 50 streams do not put their keyframes on the same instant. */
  staggerMs: number;
  /** Emit a 'frame' event ([publisher index, video frame number in the clip, send time]) per video frame. */
  logFrames?: boolean;
}

export interface PubSnapshot {
  at: number;
  /** FLV-equivalent bytes sent, per publisher. */
  flvBytes: number[];
  closed: string[];
  maxLagMs: number;
  probes: { bytes: number; videoFrames: number; ended: string | undefined }[];
  /** Delay samples (ms) of all probes since the previous snapshot. */
  delays: number[];
}

export interface HlsResult {
  /** Listing latency per new segment (ms): first poll that sees it minus the closing keyframe's send time. */
  latencies: number[];
  polls: number;
  errors: number;
  lastError: string | undefined;
}

let media: Media | undefined;
let publishers: RealtimePublisher[] = [];
let probes: StampProbe[] = [];
const keyframes: number[] = [];

let hls: { stop: boolean; result: HlsResult; done: Promise<void> } | undefined;

const emit = serve({
  publish: async (a: unknown) => {
    const o = a as PublishArgs;
    media ??= loadMedia(o.file, o.durationMs);
    const m = media;
    for (let i = 0; i < o.urls.length; i++) {
      const url = o.urls[i] ?? '';
      const first = publishers.length === 0;
      const index = publishers.length;
      const p = new RealtimePublisher(url, m, {
        onVideo: o.logFrames ? (n, t) => emit('frame', [index, n, t]) : undefined,
        stamp: first || !o.stampFirstOnly,
        onKeyframe: first
          ? (t) => {
              keyframes.push(t);
              if (keyframes.length > 200) keyframes.splice(0, 100);
              emit('kf', t);
            }
          : undefined,
      });
      await p.start();
      publishers.push(p);
      if (o.staggerMs > 0 && i < o.urls.length - 1) await sleep(o.staggerMs);
    }
    return publishers.length;
  },
  probes: (a: unknown) => {
    const o = a as { proto: Protocol; url: string; count: number };
    for (let i = 0; i < o.count; i++) probes.push(openProbe(o.proto, o.url));
    return probes.length;
  },
  snapshot: (): PubSnapshot => {
    const delays: number[] = [];
    for (const p of probes) delays.push(...p.take());
    return {
      at: nowMs(),
      flvBytes: publishers.map((p) => p.flvBytes),
      closed: publishers.filter((p) => p.closed).map((p) => p.closed?.message ?? ''),
      maxLagMs: publishers.reduce((m, p) => Math.max(m, p.maxLagMs), 0),
      probes: probes.map((p) => ({ bytes: p.bytes, videoFrames: p.videoFrames, ended: p.ended })),
      delays,
    };
  },
  closeProbes: async () => {
    for (const p of probes) p.close();
    probes = [];
    await sleep(100);
    return null;
  },
  stopAll: async () => {
    for (const p of probes) p.close();
    for (const p of publishers) p.stop();
    probes = [];
    publishers = [];
    keyframes.length = 0;
    await sleep(200);
    return null;
  },
  hlsStart: (a: unknown) => {
    const o = a as { url: string; intervalMs: number };
    const result: HlsResult = { latencies: [], polls: 0, errors: 0, lastError: undefined };
    const state = { stop: false, result, done: Promise.resolve() };
    state.done = pollPlaylist(o.url, o.intervalMs, state);
    hls = state;
    return null;
  },
  hlsStop: async (): Promise<HlsResult | null> => {
    if (!hls) return null;
    hls.stop = true;
    await hls.done;
    const r = hls.result;
    hls = undefined;
    return r;
  },
});

const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });

function get(url: string): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = http.get(url, { agent }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (d: string) => (body += d));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
      res.on('error', reject);
    });
    req.on('error', reject);
  });
}

/** Last media sequence number listed in a media playlist, or -1. */
export function lastSequence(playlist: string): number {
  const m = /#EXT-X-MEDIA-SEQUENCE:(\d+)/.exec(playlist);
  const first = m ? Number(m[1]) : 0;
  const count = playlist.split('\n').filter((l) => l.length > 0 && !l.startsWith('#')).length;
  return count === 0 ? -1 : first + count - 1;
}

async function pollPlaylist(url: string, intervalMs: number, state: { stop: boolean; result: HlsResult }): Promise<void> {
  let last = -1;
  let primed = false;
  let prevSent = nowMs();
  while (!state.stop) {
    const sent = nowMs();
    try {
      const r = await get(url);
      state.result.polls++;
      if (r.status === 200) {
        const seq = lastSequence(r.body);
        if (primed && seq > last) {
          // The segment was closed by the newest keyframe sent before this poll went out.
          const kf = [...keyframes].reverse().find((t) => t <= sent);
          // Listed somewhere between the previous poll and this one: take the middle of that interval.
          if (kf !== undefined && seq === last + 1) state.result.latencies.push((Math.max(prevSent, kf) + sent) / 2 - kf);
        }
        if (seq >= 0) {
          last = seq;
          primed = true;
        }
      } else {
        state.result.errors++;
        state.result.lastError = `HTTP ${r.status}`;
      }
    } catch (e) {
      state.result.errors++;
      state.result.lastError = e instanceof Error ? e.message : String(e);
    }
    prevSent = sent;
    await sleep(intervalMs);
  }
}
