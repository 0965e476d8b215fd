// Viewers that time a failover: the publisher stamps every video frame with its send time (sei.ts), so a
// frame or segment is "new" when it carries a stamp at or after the failure, whatever the servers did to
// timestamps, sequence numbers or URIs on the way. An HTTP-FLV watcher records when each stamped frame
// arrives; an HLS watcher polls a media playlist and fetches every segment it has not seen, reading the
// stamps inside (TS or fMP4 alike: the SEI bytes are searched for, not demuxed).
import http from 'node:http';
import { parseVideoTagHeader } from '../../src/media/flv/tag-header.js';
import type { NaluLengthSize } from '../../src/media/h264/avcc.js';
import { unescapeRbsp } from '../../src/media/h264/rbsp.js';
import { parseMediaPlaylist } from '../../src/media/hls/playlist.js';
import { TagType } from '../../src/media/packet.js';
import { nalLengthSize, nowMs, readStamp, STAMP_UUID } from './sei.js';
import { getFlv } from './viewers.js';
import { sleep } from '../../test/helpers/wait.js';

/** Arrivals kept per watcher (a few minutes of 30 fps): a long run cannot grow without bound. */
const MAX_ARRIVALS = 10_000;
/** Escaped bytes read after a stamp's UUID: 8 for the float64, room for emulation-prevention bytes. */
const STAMP_WINDOW = 12;

export interface Arrival {
  /** Send time the publisher stamped into the frame (nowMs clock). */
  stamp: number;
  /** When it reached the viewer (nowMs clock). */
  at: number;
}

/** ms from `since` to the first arrival of a frame sent at or after `since`; undefined when none came. */
export function gapToFirstNew(arrivals: readonly Arrival[], since: number): number | undefined {
  let first: number | undefined;
  for (const a of arrivals) if (a.stamp >= since && (first === undefined || a.at < first)) first = a.at;
  return first === undefined ? undefined : first - since;
}

/**
 * Send stamps found anywhere in `bytes` (an MPEG-TS or fMP4 segment): each occurrence of the stamp UUID
 * followed by the float64, emulation-prevention bytes removed. A stamp split by a TS packet header is
 * missed (the others of the segment are found); implausible values (not finite, not positive) are dropped.
 */
export function stampsIn(bytes: Buffer): number[] {
  const out: number[] = [];
  for (let i = bytes.indexOf(STAMP_UUID); i >= 0; i = bytes.indexOf(STAMP_UUID, i + 1)) {
    const start = i + STAMP_UUID.length;
    if (start + 8 > bytes.length) break;
    const raw = unescapeRbsp(bytes.subarray(start, Math.min(bytes.length, start + STAMP_WINDOW)));
    if (raw.length < 8) continue;
    const t = raw.readDoubleBE(0);
    if (Number.isFinite(t) && t > 0) out.push(t);
  }
  return out;
}

/** An HTTP-FLV viewer recording each stamped video frame's arrival; reopens (as a page player does) if it is dropped. */
export class FlvStampWatch {
  private arrivals: Arrival[] = [];
  private lengthSize: NaluLengthSize = 4;
  private req: http.ClientRequest;
  private closed = false;
  /** Times the connection ended and was reopened. */
  reconnects = 0;
  lastEnd: string | undefined;

  constructor(
    private readonly url: string,
    private readonly reopenMs = 500,
  ) {
    this.req = this.open();
  }

  private open(): http.ClientRequest {
    let ended = false;
    return getFlv(
      this.url,
      (p) => {
        if (p.type !== TagType.Video) return;
        const at = nowMs();
        const h = parseVideoTagHeader(p.payload);
        if (h.kind === 'sequence-header') this.lengthSize = nalLengthSize(h.data);
        if (h.kind !== 'coded-frames') return;
        const stamp = readStamp(p.payload, this.lengthSize);
        if (stamp === undefined) return;
        if (this.arrivals.length >= MAX_ARRIVALS) this.arrivals.splice(0, MAX_ARRIVALS / 2);
        this.arrivals.push({ stamp, at });
      },
      (why) => {
        if (ended || this.closed) return;
        ended = true;
        this.lastEnd = why;
        this.reconnects++;
        setTimeout(() => {
          if (!this.closed) this.req = this.open();
        }, this.reopenMs);
      },
    );
  }

  /** Arrivals recorded so far (oldest may have been dropped past MAX_ARRIVALS). */
  recorded(): readonly Arrival[] {
    return this.arrivals;
  }

  close(): void {
    this.closed = true;
    this.req.destroy();
  }
}

export interface HlsNewSegment {
  /** When the first segment carrying a stamp >= since had been fetched (nowMs clock). */
  at: number;
  /** Its media sequence number, and the last one listed before `since`. */
  sequence: number;
  sequenceBefore: number;
  /** An EXT-X-DISCONTINUITY stood between the segments before `since` and it. */
  discontinuity: boolean;
}

/**
 * Polls a media playlist every `everyMs` over a kept-alive connection and fetches each segment it lists
 * that it has not fetched before; `waitNew(since)` resolves with the first segment carrying media sent at
 * or after `since`.
 */
export class HlsStampWatch {
  private readonly agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
  private readonly base: URL;
  /** Segment URIs fetched or skipped, with the newest stamp each held (bounded by the playlist window). */
  private seen = new Map<string, number>();
  private lastSequence = -1;
  private stopped = false;
  private loop: Promise<void>;
  private found: { since: number; result: HlsNewSegment | undefined; sequenceBefore: number; discontinuity: boolean } | undefined;
  errors = 0;
  lastError: string | undefined;
  /** nowMs of the last poll that read a playlist listing segments. */
  lastOkAt = 0;

  constructor(
    url: string,
    private readonly everyMs = 100,
  ) {
    this.base = new URL(url);
    this.loop = this.run();
  }

  /** Starts looking for the first segment with media sent at or after `since`. */
  mark(since: number): void {
    this.found = { since, result: undefined, sequenceBefore: this.lastSequence, discontinuity: false };
  }

  async waitNew(timeoutMs: number): Promise<HlsNewSegment | undefined> {
    const deadline = Date.now() + timeoutMs;
    while (!this.found?.result && Date.now() < deadline && !this.stopped) await sleep(20);
    return this.found?.result;
  }

  private async run(): Promise<void> {
    let primed = false;
    while (!this.stopped) {
      const t0 = Date.now();
      try {
        const r = await this.get(this.base.pathname + this.base.search);
        if (r.status !== 200) throw new Error(`playlist: HTTP ${r.status}`);
        const p = parseMediaPlaylist(r.body.toString('utf8'));
        const next = new Map<string, number>();
        for (const [i, s] of p.segments.entries()) {
          const seq = p.mediaSequence + i;
          const f = this.found;
          if (f && !f.result && s.discontinuity && seq > f.sequenceBefore) f.discontinuity = true;
          let newest = this.seen.get(s.uri);
          if (newest === undefined) {
            // The first poll's segments count as old: only what appears later is fetched.
            if (primed) {
              const u = new URL(s.uri, this.base);
              const seg = await this.get(u.pathname + u.search);
              if (seg.status !== 200) throw new Error(`segment ${s.uri}: HTTP ${seg.status}`);
              newest = Math.max(0, ...stampsIn(seg.body));
            } else newest = 0;
          }
          next.set(s.uri, newest);
          if (f && !f.result && newest >= f.since) f.result = { at: nowMs(), sequence: seq, sequenceBefore: f.sequenceBefore, discontinuity: f.discontinuity };
          // While a search is on, sequenceBefore stays what it was at mark().
          if (!f || f.result) this.lastSequence = Math.max(this.lastSequence, seq);
        }
        this.seen = next;
        primed = true;
        if (p.segments.length > 0) this.lastOkAt = nowMs();
      } catch (e) {
        this.errors++;
        this.lastError = e instanceof Error ? e.message : String(e);
      }
      await sleep(Math.max(0, this.everyMs - (Date.now() - t0)));
    }
  }

  private get(path: string): Promise<{ status: number; body: Buffer }> {
    return new Promise((resolve, reject) => {
      const req = http.get({ host: this.base.hostname, port: this.base.port, path, agent: this.agent, timeout: 5000 }, (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (d: Buffer) => chunks.push(d));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks) }));
        res.on('error', reject);
      });
      req.on('timeout', () => req.destroy(new Error('timeout')));
      req.on('error', reject);
    });
  }

  async close(): Promise<void> {
    this.stopped = true;
    await this.loop;
    this.agent.destroy();
  }
}
