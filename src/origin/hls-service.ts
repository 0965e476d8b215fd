// HLS in-process: a hub observer that feeds each stream's normalized packets to its playlist's segmenter,
// keeps the playlist through a republish grace period, ends it (EXT-X-ENDLIST) when the grace runs out
// and removes it a while later. Serves /{app}/{stream}.m3u8 and /{app}/{stream}/{seq}.ts.
import { performance } from 'node:perf_hooks';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Logger } from '../shared/log.js';
import type { OutPacket, TagHeader } from '../hub/out-packet.js';
import type { Stream, StreamObserver } from '../hub/stream.js';
import { HlsViewers } from '../hub/hls-viewers.js';
import { HlsPlaylist } from './hls-playlist.js';
import { reply, type RouteHandler } from '../shared/http.js';
import { CONTENT_TYPE, streamKey, validNames } from '../shared/url-contract.js';
import { playTokenOf, withPlayToken } from '../hub/play-auth.js';

export interface HlsOptions {
  /** Target segment duration, ms (--hls-segment). */
  readonly segmentMs: number;
  /** Segments in the live window (--hls-window). */
  readonly window: number;
  /** A republish within this keeps the playlist (--hls-grace), ms. */
  readonly graceMs: number;
  /** An ended playlist answers 404 after this, ms. */
  readonly removeAfterMs: number;
  /** Called with the ms from the arrival of a segment's closing keyframe to its listing. */
  readonly onSegmentListed?: (latencyMs: number) => void;
}

interface Entry {
  playlist: HlsPlaylist;
  graceTimer?: NodeJS.Timeout;
  removeTimer?: NodeJS.Timeout;
}

/** A viewer that fetched a playlist within this window counts as watching. */
const VIEWER_WINDOW_MS = 10_000;

export class HlsService implements StreamObserver {
  private readonly entries = new Map<string, Entry>();
  /** Per stream, the addresses that fetched its playlist lately: pruned on insert and capped. */
  private readonly fetchers = new Map<string, HlsViewers>();
  /** Playlist and segment body bytes served since start (egress for /metrics and heartbeats). */
  bytesOut = 0;

  constructor(
    private readonly opts: HlsOptions,
    private readonly log: Logger,
  ) {}

  onPublish(stream: Stream, republish: boolean): void {
    const e = this.entries.get(stream.key);
    if (republish && e && !e.playlist.ended) {
      clearTimeout(e.graceTimer);
      e.graceTimer = undefined;
      e.playlist.continueAfterRepublish();
      this.log.info({ stream: stream.key }, 'hls playlist continues after republish');
      return;
    }
    if (e) this.drop(stream.key);
    this.entries.set(stream.key, {
      playlist: new HlsPlaylist({
        stream: stream.name,
        targetDurationMs: this.opts.segmentMs,
        window: this.opts.window,
        retainExtra: this.opts.window,
        // Wall-clock seconds: a later playlist for the same key never reuses a segment URL that a CDN
        // may still hold as immutable, even across restarts.
        firstSequence: Math.floor(Date.now() / 1000),
      }),
    });
  }

  onPacket(stream: Stream, p: OutPacket, header: TagHeader | undefined): void {
    const e = this.entries.get(stream.key);
    if (!e || e.playlist.ended) return;
    if (e.playlist.push(p.packet, header) > 0) this.opts.onSegmentListed?.(performance.now() - p.arrivedAt);
  }

  onUnpublish(stream: Stream): void {
    const e = this.entries.get(stream.key);
    if (!e || e.playlist.ended) return;
    e.graceTimer = setTimeout(() => this.end(stream.key), this.opts.graceMs);
    e.graceTimer.unref();
  }

  /** Ends every playlist now (shutdown): the last segments are flushed and ENDLIST appended. */
  endAll(): void {
    for (const key of this.entries.keys()) this.end(key);
  }

  /** Stops every timer (after endAll, on shutdown). */
  close(): void {
    for (const e of this.entries.values()) {
      clearTimeout(e.graceTimer);
      clearTimeout(e.removeTimer);
    }
  }

  playlist(app: string, stream: string): HlsPlaylist | undefined {
    return this.entries.get(streamKey(app, stream))?.playlist;
  }

  /** Distinct addresses that fetched the playlist in the last ~10 s. */
  viewers(app: string, stream: string, now = Date.now()): number {
    return this.fetchers.get(streamKey(app, stream))?.count(now) ?? 0;
  }

  playlistHandler(): RouteHandler {
    return (req: IncomingMessage, res: ServerResponse, [app, name], url) => {
      if (!app || !name || !validNames(app, name)) return reply(res, 400, 'invalid app or stream name');
      const text = this.playlist(app, name)?.text;
      if (text === undefined) return reply(res, 404, `playlist ${streamKey(app, name)} not found`);
      this.countFetcher(streamKey(app, name), req.socket.remoteAddress ?? '');
      // The request's play token goes on every segment URI, so the player sends it with each segment.
      const token = playTokenOf(url.searchParams);
      const body = Buffer.from(token === undefined ? text : withPlayToken(text, token));
      res.writeHead(200, {
        'Content-Type': CONTENT_TYPE.playlist,
        'Content-Length': body.length,
        // Short, so CDNs and players see new segments within a second.
        'Cache-Control': 'public, max-age=1',
      });
      if (req.method !== 'HEAD') this.bytesOut += body.length;
      res.end(req.method === 'HEAD' ? undefined : body);
    };
  }

  segmentHandler(): RouteHandler {
    return (req: IncomingMessage, res: ServerResponse, [app, name, seq]) => {
      if (!app || !name || !validNames(app, name)) return reply(res, 400, 'invalid app or stream name');
      const seg = this.playlist(app, name)?.segment(Number(seq));
      if (!seg) return reply(res, 404, 'segment not found');
      res.writeHead(200, {
        'Content-Type': CONTENT_TYPE.segment,
        'Content-Length': seg.data.length,
        // A segment URL never changes content (sequences only grow, see firstSequence).
        'Cache-Control': 'public, max-age=3600, immutable',
      });
      if (req.method !== 'HEAD') this.bytesOut += seg.data.length;
      res.end(req.method === 'HEAD' ? undefined : seg.data);
    };
  }

  private end(key: string): void {
    const e = this.entries.get(key);
    if (!e || e.playlist.ended) return;
    clearTimeout(e.graceTimer);
    e.graceTimer = undefined;
    e.playlist.end();
    this.log.info({ stream: key }, 'hls playlist ended');
    e.removeTimer = setTimeout(() => {
      if (this.entries.get(key) === e) this.drop(key);
    }, this.opts.removeAfterMs);
    e.removeTimer.unref();
  }

  private drop(key: string): void {
    const e = this.entries.get(key);
    if (!e) return;
    clearTimeout(e.graceTimer);
    clearTimeout(e.removeTimer);
    this.entries.delete(key);
    this.fetchers.delete(key);
  }

  private countFetcher(key: string, addr: string): void {
    let m = this.fetchers.get(key);
    if (!m) {
      m = new HlsViewers(VIEWER_WINDOW_MS);
      this.fetchers.set(key, m);
    }
    m.touch(addr);
  }
}
