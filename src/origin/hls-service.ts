// HLS in-process: a hub observer that feeds each stream's normalized packets to its playlist's segmenter,
// keeps the playlist through a republish grace period, ends it (EXT-X-ENDLIST) when the grace runs out
// and removes it a while later. Serves the playlist (with LL-HLS blocking reloads and delta updates),
// MPEG-TS or fMP4 segments, init segments and LL-HLS parts (a preload-hinted part streams as it grows).
//
// Held requests (hls-holds.ts) are bounded per stream and in all, and each for hold time = holdTargets x
// TARGETDURATION. A blocking reload that times out gets 503, never the current playlist: its URL names a
// playlist version that an edge may cache (max-age below), and an older playlist must not stand for it.
//
// ABR (renditions): a rung stream's playlist follows its source's segments (hls-playlist.ts); the
// source's /{app}/{stream}.m3u8 is the multivariant playlist (hls-multivariant.ts) and its media
// playlist moves to /{app}/{stream}_source.m3u8; with LL-HLS every playlist of a ladder reports its
// siblings (EXT-X-RENDITION-REPORT). A request for a rung playlist that does not exist yet tells the
// renditions (on demand: the ladder starts) and waits, bounded, for its first segment.
import { performance } from 'node:perf_hooks';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Logger } from '../shared/log.js';
import type { RungStat, StreamHlsInfo } from '../shared/cluster.js';
import type { RenditionReport } from '../media/hls/playlist.js';
import { NO_RENDITIONS } from '../hub/renditions.js';
import type { RenditionInfo, Renditions } from '../hub/renditions.js';
import { ladderStats, multivariantText, variantUriOf } from './hls-multivariant.js';
import type { RenditionState } from './hls-multivariant.js';
import type { PlaylistLeader, StoredSegment } from './hls-playlist.js';
import type { OutPacket, TagHeader } from '../hub/out-packet.js';
import type { Stream, StreamObserver } from '../hub/stream.js';
import { HlsViewers } from '../hub/hls-viewers.js';
import { HlsPlaylist } from './hls-playlist.js';
import type { HlsFormat, HlsInit } from '../media/hls/segmenter.js';
import { HoldBudget, StreamHolds } from './hls-holds.js';
import type { HoldOutcome } from './hls-holds.js';
import { blockingVerdict, comparePositions, parseDirectives } from './hls-directives.js';
import type { DeliveryDirectives, PartPosition } from './hls-directives.js';
import { IMMUTABLE, LIVE_MAX_AGE, reply, type RouteHandler } from '../shared/http.js';
import { CONTENT_TYPE, SOURCE_RUNG, renditionParts, streamKey, validNames } from '../shared/url-contract.js';
import { playTokenOf, withPlayTokens, type PlaylistViewer } from '../hub/play-auth.js';

export interface HlsOptions {
  /** Target segment duration, ms (--hls-segment). */
  readonly segmentMs: number;
  /** Segments in the live window (--hls-window). */
  readonly window: number;
  /** A republish within this keeps the playlist (--hls-grace), ms. */
  readonly graceMs: number;
  /** An ended playlist answers 404 after this, ms. */
  readonly removeAfterMs: number;
  /** Container (--hls-format); default 'ts'. */
  readonly format?: HlsFormat | 'auto';
  /** LL-HLS part target, ms (--hls-part); 0 or absent: LL-HLS off. */
  readonly partTargetMs?: number;
  /** A held request waits at most this many TARGETDURATIONs. */
  readonly holdTargets: number;
  /** Held requests (blocking reloads, preload-hint parts) per stream and in all. */
  readonly maxHeldPerStream: number;
  readonly maxHeld: number;
  /** Called with the ms from the arrival of a segment's closing keyframe to its listing. */
  readonly onSegmentListed?: (latencyMs: number) => void;
  /** How long a request for a rung playlist not listed yet waits for its first segment, ms. */
  readonly renditionWaitMs: number;
  /** keys.play when play tokens are on: signs each variant's own token in a multivariant playlist. */
  readonly playKey?: Buffer;
}

/**
 * Told of each playlist's life and of every object it makes (the DVR store, dvr-store.ts). Called inside
 * the media path: a listener must not throw and must not block.
 */
export interface HlsObjectListener {
  /** A new playlist for app/stream (a publish that does not continue one). */
  onPlaylist(app: string, stream: string, targetDurationMs: number): void;
  onInit(key: string, init: HlsInit): void;
  /** A segment (or an ABR gap) as the live playlist lists it. */
  onSegment(key: string, segment: StoredSegment): void;
  /** EXT-X-ENDLIST. */
  onEnd(key: string): void;
  /** The playlist is gone: removed after its end, or replaced by a new publish. */
  onRemove(key: string): void;
}

/** What a held request waits for: a playlist listing msn (part), or a part opening. */
type HoldTarget = { readonly kind: 'playlist'; readonly msn: number; readonly part: number | undefined } | ({ readonly kind: 'part' } & PartPosition);

interface Entry {
  playlist: HlsPlaylist;
  holds: StreamHolds<HoldTarget>;
  graceTimer?: NodeJS.Timeout;
  removeTimer?: NodeJS.Timeout;
}

/** A viewer that fetched a playlist within this window counts as watching. */
const VIEWER_WINDOW_MS = 10_000;
/** A blocking reload's answer names its playlist version: cacheable for about the playlist's span (RFC 8216bis 6.2.5.2 suggests 6 target durations). */
const BLOCKING_MAX_AGE_TARGETS = 6;
const NO_DIRECTIVES: DeliveryDirectives = { skip: false };

/**
 * A playlist's text as `viewer` gets it: the request's play token goes on every URI (segments, parts,
 * maps, hints), so the player sends it with each; each variant of a multivariant playlist gets a token of
 * its own (withPlayTokens). Returns the body bytes sent (0 for HEAD), the caller's egress.
 */
export function sendPlaylistText(req: IncomingMessage, res: ServerResponse, text: string, viewer: PlaylistViewer, cacheControl: string): number {
  const body = Buffer.from(viewer.token === undefined ? text : withPlayTokens(text, viewer));
  res.writeHead(200, { 'Content-Type': CONTENT_TYPE.playlist, 'Content-Length': body.length, 'Cache-Control': cacheControl });
  const head = req.method === 'HEAD';
  res.end(head ? undefined : body);
  return head ? 0 : body.length;
}

const holdKey = (t: HoldTarget): string => (t.kind === 'playlist' ? `p${t.msn}.${t.part ?? ''}` : `h${t.sequence}.${t.index}`);

export class HlsService implements StreamObserver {
  private readonly entries = new Map<string, Entry>();
  /** Per stream, the addresses that fetched its playlist lately: pruned on insert and capped. */
  private readonly fetchers = new Map<string, HlsViewers>();
  private readonly budget: HoldBudget;
  /** Requests waiting for a rendition's first segment, per stream key (in the hold budget). */
  private readonly appearing = new Map<string, StreamHolds<'listed'>>();
  /** ABR ladders: none until useRenditions. */
  private renditions: Renditions = NO_RENDITIONS;
  /** The DVR store, when there is one. */
  private objects: HlsObjectListener | undefined;
  /** Playlist and segment body bytes served since start (egress for /metrics and heartbeats). */
  bytesOut = 0;

  constructor(
    private readonly opts: HlsOptions,
    private readonly log: Logger,
  ) {
    if (opts.format === 'ts' && (opts.partTargetMs ?? 0) > 0) throw new Error('hls: LL-HLS parts need fMP4 (format fmp4 or auto)');
    this.budget = new HoldBudget({ perStream: opts.maxHeldPerStream, total: opts.maxHeld });
  }

  /** The ladders to serve (a transcode service made after this service); streams published later follow it. */
  useRenditions(renditions: Renditions): void {
    this.renditions = renditions;
  }

  /** Streams published later tell `listener` of their playlists and objects. */
  useObjectListener(listener: HlsObjectListener): void {
    this.objects = listener;
  }

  /** Requests held now (blocking reloads waiting, preload-hint parts waiting or streaming). */
  get held(): number {
    return this.budget.held;
  }

  onPublish(stream: Stream, republish: boolean): void {
    const e = this.entries.get(stream.key);
    if (republish && e && !e.playlist.ended) {
      clearTimeout(e.graceTimer);
      e.graceTimer = undefined;
      e.playlist.continueAfterRepublish();
      this.wake(e);
      this.log.info({ stream: stream.key }, 'hls playlist continues after republish');
      return;
    }
    if (e) this.drop(stream.key);
    const onError = (err: unknown): void => this.log.warn({ stream: stream.key, err }, 'hls held request failed');
    const rung = this.renditions.sourceOf(stream.app, stream.name);
    const lowLatency = (this.opts.partTargetMs ?? 0) > 0;
    const objects = this.objects;
    objects?.onPlaylist(stream.app, stream.name, this.opts.segmentMs);
    this.entries.set(stream.key, {
      playlist: new HlsPlaylist({
        stream: stream.name,
        targetDurationMs: this.opts.segmentMs,
        window: this.opts.window,
        retainExtra: this.opts.window,
        // Wall-clock seconds: a later playlist for the same key never reuses a segment URL that a CDN
        // may still hold as immutable, even across restarts. A rung takes its source's numbers instead,
        // which grow slower than the clock: it must accept any of them.
        firstSequence: rung ? 0 : Math.floor(Date.now() / 1000),
        format: this.opts.format ?? 'ts',
        partTargetMs: this.opts.partTargetMs ?? 0,
        onError,
        ...(rung ? { follow: this.leader(stream.app, rung.source) } : {}),
        ...(lowLatency && this.renditions !== NO_RENDITIONS ? { reports: () => this.reports(stream.app, stream.name) } : {}),
        ...(objects ? { onInit: (init: HlsInit) => objects.onInit(stream.key, init), onSegment: (s: StoredSegment) => objects.onSegment(stream.key, s) } : {}),
      }),
      holds: new StreamHolds<HoldTarget>(this.budget, holdKey, onError),
    });
  }

  onPacket(stream: Stream, p: OutPacket, header: TagHeader | undefined): void {
    const e = this.entries.get(stream.key);
    if (!e || e.playlist.ended) return;
    const version = e.playlist.version;
    if (e.playlist.push(p.packet, header) > 0) this.opts.onSegmentListed?.(performance.now() - p.arrivedAt);
    if (e.playlist.version !== version) {
      this.wake(e);
      if (e.playlist.position) this.appearing.get(stream.key)?.wake(() => true);
    }
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

  /** Stops every timer and answers every held request (after endAll, on shutdown). */
  close(): void {
    for (const e of this.entries.values()) {
      clearTimeout(e.graceTimer);
      clearTimeout(e.removeTimer);
      e.holds.cancelAll();
    }
    for (const h of this.appearing.values()) h.cancelAll();
  }

  playlist(app: string, stream: string): HlsPlaylist | undefined {
    return this.entries.get(streamKey(app, stream))?.playlist;
  }

  /** The stream's HLS for /api/streams and heartbeats; undefined until its container is chosen. */
  info(app: string, stream: string): StreamHlsInfo | undefined {
    const pl = this.playlist(app, stream);
    const format = pl?.segmenter.format;
    return pl && format && { format, partTargetS: pl.partTargetS ?? null, codecs: pl.codecs() ?? null };
  }

  /** A source's ladder as served (multivariant figures) for /api/streams and heartbeats; undefined without one. */
  ladder(app: string, stream: string): RungStat[] | undefined {
    const ladder = this.renditions.ladderOf(app, stream);
    return ladder && ladderStats(stream, ladder, (name) => this.renditionState(app, name));
  }

  /** Distinct addresses that fetched the playlist in the last ~10 s. */
  viewers(app: string, stream: string, now = Date.now()): number {
    return this.fetchers.get(streamKey(app, stream))?.count(now) ?? 0;
  }

  playlistHandler(): RouteHandler {
    return (req: IncomingMessage, res: ServerResponse, [app, requested], url) => {
      if (!app || !requested || !validNames(app, requested)) return reply(res, 400, 'invalid app or stream name');
      const ladder = this.renditions.ladderOf(app, requested);
      // The play token (checked by guardPlay for app/requested) goes on the playlist's URIs.
      const viewer: PlaylistViewer = { app, stream: requested, token: playTokenOf(url.searchParams), key: this.opts.playKey };
      if (ladder) return this.sendMultivariant(req, res, app, requested, ladder, viewer);
      const name = this.mediaStreamOf(app, requested);
      // On demand, a rung's first viewer starts the ladder; its playlist comes with the first segment.
      const coming = this.renditions.demand(app, name);
      const e = this.entries.get(streamKey(app, name));
      const pl = e?.playlist;
      if (!e || !pl?.position) {
        if (coming) return this.awaitRendition(req, res, app, requested, name, url);
        return reply(res, 404, `playlist ${streamKey(app, requested)} not found`);
      }
      this.countFetcher(streamKey(app, name), req.socket.remoteAddress ?? '');
      // Without LL-HLS the directives mean nothing here (no CAN-BLOCK-RELOAD) and are ignored.
      const parsed = pl.lowLatency ? parseDirectives(url.searchParams) : { ok: true as const, directives: NO_DIRECTIVES };
      if (!parsed.ok) return reply(res, 400, parsed.reason);
      const { msn, part, skip } = parsed.directives;
      if (msn === undefined || pl.ended) return this.sendPlaylist(req, res, pl, viewer, skip, msn !== undefined);
      const verdict = blockingVerdict(pl.position, msn, part);
      if (typeof verdict === 'object') return reply(res, 400, verdict.bad);
      if (verdict === 'ready') return this.sendPlaylist(req, res, pl, viewer, skip, true);
      this.hold(res, e, { kind: 'playlist', msn, part }, (outcome) => {
        if (outcome === 'timeout') return reply(res, 503, `the playlist did not reach _HLS_msn=${msn}${part !== undefined ? ` _HLS_part=${part}` : ''} in time`);
        if (outcome === 'cancelled' && !pl.ended) return reply(res, 404, `playlist ${streamKey(app, requested)} not found`);
        this.sendPlaylist(req, res, pl, viewer, skip, true);
      });
    };
  }

  /** MPEG-TS segments (.ts). */
  segmentHandler(): RouteHandler {
    return this.objectHandler('segment', CONTENT_TYPE.segment, (pl, [seq]) => {
      const s = pl.segment(Number(seq));
      return s?.format === 'ts' ? s.data : undefined;
    });
  }

  /** fMP4 segments (.m4s): with LL-HLS, the concatenation of the segment's parts. */
  fmp4SegmentHandler(): RouteHandler {
    return this.objectHandler('segment', CONTENT_TYPE.fmp4, (pl, [seq]) => {
      const s = pl.segment(Number(seq));
      return s?.format === 'fmp4' ? s.data : undefined;
    });
  }

  initHandler(): RouteHandler {
    return this.objectHandler('init segment', CONTENT_TYPE.init, (pl, [id]) => pl.init(Number(id)));
  }

  /**
   * LL-HLS parts: a complete part at once; the open part, or the hinted part once it opens, streamed
   * (chunked) as its fragments are written, ending when it completes. Any other part: 404.
   */
  partHandler(): RouteHandler {
    return (req: IncomingMessage, res: ServerResponse, [app, name, seq, index]) => {
      if (!app || !name || !validNames(app, name)) return reply(res, 400, 'invalid app or stream name');
      const e = this.entries.get(streamKey(app, name));
      if (!e) return reply(res, 404, 'part not found');
      this.servePart(req, res, e, { sequence: Number(seq), index: Number(index) }, true);
    };
  }

  private servePart(req: IncomingMessage, res: ServerResponse, e: Entry, at: PartPosition, mayWait: boolean): void {
    const pl = e.playlist;
    const done = pl.parts.get(at.sequence, at.index);
    if (done) return this.sendObject(req, res, CONTENT_TYPE.fmp4, done.data);
    const open = pl.parts.openPosition;
    if (open && comparePositions(open, at) === 0) return this.streamPart(req, res, e, at);
    const hint = pl.hint;
    if (mayWait && hint && comparePositions(hint, at) === 0) {
      return this.hold(res, e, { kind: 'part', ...at }, (outcome) => {
        if (outcome === 'timeout') return reply(res, 503, 'the part did not start in time');
        this.servePart(req, res, e, at, false);
      });
    }
    reply(res, 404, 'part not found');
  }

  private streamPart(req: IncomingMessage, res: ServerResponse, e: Entry, at: PartPosition): void {
    const release = e.holds.take();
    if (!release) return reply(res, 503, 'too many held requests', { 'Retry-After': '1' });
    res.writeHead(200, { 'Content-Type': CONTENT_TYPE.fmp4, 'Cache-Control': IMMUTABLE });
    if (req.method === 'HEAD') {
      release();
      return void res.end();
    }
    // A part that stops growing (the publisher stalls) is given up after the hold time, as a held request is.
    const timer = setTimeout(() => res.destroy(), this.holdMs(e));
    timer.unref();
    const detach = e.playlist.parts.read(at.sequence, at.index, {
      chunk: (bytes) => {
        this.bytesOut += bytes.length;
        res.write(bytes);
      },
      end: (complete) => {
        detach?.();
        release();
        clearTimeout(timer);
        // An abandoned part: cut the connection, so the client never takes what came for the part.
        if (complete) res.end();
        else res.destroy();
      },
    });
    res.once('close', () => {
      clearTimeout(timer);
      detach?.();
      release();
    });
  }

  private holdMs(e: Entry): number {
    return this.opts.holdTargets * e.playlist.targetDurationS * 1000;
  }

  /** Holds a request for `target` within the budget (503 past it) and the hold time; `answer` runs once unless the client left. */
  private hold(res: ServerResponse, e: Entry, target: HoldTarget, answer: (outcome: HoldOutcome) => void): void {
    const release = e.holds.take();
    if (!release) return reply(res, 503, 'too many held requests', { 'Retry-After': '1' });
    const cancel = e.holds.wait(target, this.holdMs(e), (outcome) => {
      res.off('close', onClose);
      release();
      answer(outcome);
    });
    const onClose = (): void => {
      cancel();
      release();
    };
    res.once('close', onClose);
  }

  /** After a change: answers the held requests that it satisfies. */
  private wake(e: Entry): void {
    const pl = e.playlist;
    e.holds.wake((t) => {
      if (pl.ended) return true;
      if (t.kind === 'playlist') return pl.position !== undefined && blockingVerdict(pl.position, t.msn, t.part) !== 'wait';
      const open = pl.parts.openPosition;
      const last = pl.parts.last;
      // Open or complete now, or passed over (a later part exists, or its segment closed without it).
      return (open !== undefined && comparePositions(open, t) >= 0) || (last !== undefined && comparePositions(last, t) >= 0) || pl.segment(t.sequence) !== undefined;
    });
  }

  private sendPlaylist(req: IncomingMessage, res: ServerResponse, pl: HlsPlaylist, viewer: PlaylistViewer, skip: boolean, blocking: boolean): void {
    const text = (skip ? pl.deltaText : undefined) ?? pl.text;
    if (text === undefined) return reply(res, 404, 'playlist not found');
    // A plain playlist changes with every segment (or part): short, so CDNs and players see new ones
    // within a second. A blocking reload's URL names its version.
    this.sendText(req, res, text, viewer, blocking ? `public, max-age=${BLOCKING_MAX_AGE_TARGETS * pl.targetDurationS}` : LIVE_MAX_AGE);
  }

  private sendText(req: IncomingMessage, res: ServerResponse, text: string, viewer: PlaylistViewer, cacheControl: string): void {
    this.bytesOut += sendPlaylistText(req, res, text, viewer, cacheControl);
  }

  /** /{app}/{stream}.m3u8 of a source with a ladder; the source's own fetchers count as its viewers. */
  private sendMultivariant(req: IncomingMessage, res: ServerResponse, app: string, source: string, ladder: readonly RenditionInfo[], viewer: PlaylistViewer): void {
    const text = multivariantText(source, ladder, (name) => this.renditionState(app, name));
    if (text === undefined) return reply(res, 404, `playlist ${streamKey(app, source)} not found`);
    this.countFetcher(streamKey(app, source), req.socket.remoteAddress ?? '');
    // Measured rates and the renditions that are up change with each segment.
    this.sendText(req, res, text, viewer, LIVE_MAX_AGE);
  }

  /** The hub stream whose media playlist `name` is: {stream}_source is the source's, when it has a ladder. */
  private mediaStreamOf(app: string, name: string): string {
    const parts = renditionParts(name);
    return parts?.rung === SOURCE_RUNG && this.renditions.ladderOf(app, parts.stream) ? parts.stream : name;
  }

  /** What the multivariant playlist and the API say of one rendition's playlist now. */
  private renditionState(app: string, name: string): RenditionState | undefined {
    const pl = this.playlist(app, name);
    if (!pl) return undefined;
    return { listed: pl.position !== undefined, bandwidth: pl.bandwidth(), codecs: pl.codecs(), video: pl.segmenter.codecs().video };
  }

  /** A rung follows its source's playlist, whichever one the source has when asked (a new publish replaces it). */
  private leader(app: string, source: string): PlaylistLeader {
    const key = streamKey(app, source);
    return {
      boundaryAt: (at, toleranceMs) => this.entries.get(key)?.playlist.segmenter.boundaryAt(at, toleranceMs),
      durationS: (sequence) => this.entries.get(key)?.playlist.segment(sequence)?.durationS,
      programDateTime: (sequence) => this.entries.get(key)?.playlist.segment(sequence)?.programDateTime,
    };
  }

  /** LL-HLS: the last segment and part of each sibling in name's ladder (EXT-X-RENDITION-REPORT). */
  private reports(app: string, name: string): RenditionReport[] {
    const source = this.renditions.sourceOf(app, name)?.source ?? name;
    const ladder = this.renditions.ladderOf(app, source);
    if (!ladder) return [];
    const out: RenditionReport[] = [];
    for (const info of ladder) {
      if (info.stream === name) continue;
      const pos = this.playlist(app, info.stream)?.position;
      if (!pos) continue;
      const uri = variantUriOf(source, info);
      // With parts, LAST-MSN/LAST-PART name the last part (of a complete or the open segment), RFC 8216bis 4.4.5.4.
      out.push(pos.lastPart ? { uri, lastMsn: pos.lastPart.sequence, lastPart: pos.lastPart.index } : { uri, lastMsn: pos.lastSegment });
    }
    return out;
  }

  /** Holds a request for rendition `name` (requested as `requested`) until its playlist lists a segment; then answers it. */
  private awaitRendition(req: IncomingMessage, res: ServerResponse, app: string, requested: string, name: string, url: URL): void {
    const key = streamKey(app, name);
    let holds = this.appearing.get(key);
    if (!holds) {
      holds = new StreamHolds<'listed'>(this.budget, () => 'listed', (err) => this.log.warn({ stream: key, err }, 'hls rendition wait failed'));
      this.appearing.set(key, holds);
    }
    const h = holds;
    const release = h.take();
    if (!release) return reply(res, 503, 'too many held requests', { 'Retry-After': '1' });
    const done = (): void => {
      release();
      if (h.held === 0 && h.waiting === 0 && this.appearing.get(key) === h) this.appearing.delete(key);
    };
    const cancel = h.wait('listed', this.opts.renditionWaitMs, (outcome) => {
      res.off('close', onClose);
      done();
      if (outcome === 'ready') return this.playlistHandler()(req, res, [app, requested], url);
      reply(res, 503, `rendition ${key} did not start in time`, { 'Retry-After': '2' });
    });
    const onClose = (): void => {
      cancel();
      done();
    };
    res.once('close', onClose);
  }

  private objectHandler(what: string, contentType: string, find: (pl: HlsPlaylist, rest: readonly string[]) => Buffer | undefined): RouteHandler {
    return (req: IncomingMessage, res: ServerResponse, [app, name, ...rest]) => {
      if (!app || !name || !validNames(app, name)) return reply(res, 400, 'invalid app or stream name');
      const pl = this.playlist(app, name);
      const data = pl && find(pl, rest);
      if (!data) return reply(res, 404, `${what} not found`);
      this.sendObject(req, res, contentType, data);
    };
  }

  private sendObject(req: IncomingMessage, res: ServerResponse, contentType: string, data: Buffer): void {
    res.writeHead(200, { 'Content-Type': contentType, 'Content-Length': data.length, 'Cache-Control': IMMUTABLE });
    if (req.method !== 'HEAD') this.bytesOut += data.length;
    res.end(req.method === 'HEAD' ? undefined : data);
  }

  private end(key: string): void {
    const e = this.entries.get(key);
    if (!e || e.playlist.ended) return;
    clearTimeout(e.graceTimer);
    e.graceTimer = undefined;
    e.playlist.end();
    this.objects?.onEnd(key);
    this.wake(e);
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
    e.holds.cancelAll();
    this.objects?.onRemove(key);
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
