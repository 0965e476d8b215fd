// Seek-bar thumbnails of finished recordings: when a file ends (RecordingCatalogue.onEnded), one FFmpeg
// run over it decodes keyframes only (-skip_frame nokey), keeps one picture per interval (fps, 10 s; longer
// when a recording would need more than maxTiles), scales it to 160 px wide and tiles the lot into one
// sprite, {file}.thumbs.jpg; the WebVTT track {file}.thumbs.vtt maps each interval to its tile
// (media/thumbnail-track.ts). Both are served at
// THUMBS_ROUTE under the play-token rules of every media path. One job at a time (FFmpeg is the CPU the
// live streams need), a bounded queue; a failure is logged and leaves no file behind.
import { readFile, rename, rm, stat, writeFile } from 'node:fs/promises';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { jpegSize } from '../media/jpeg.js';
import { thumbnailLayout, thumbnailVtt, type ThumbnailLayout } from '../media/thumbnail-track.js';
import { playTokenOf } from '../hub/play-auth.js';
import { FfmpegMissingError, requireFfmpeg, runFfmpeg } from '../shared/ffmpeg.js';
import { IMMUTABLE, reply, type RouteHandler } from '../shared/http.js';
import type { Logger } from '../shared/log.js';
import { CONTENT_TYPE } from '../shared/url-contract.js';
import type { Recording, RecordingCatalogue } from './catalogue.js';

export interface ThumbnailOptions {
  /** A tile per this many ms (longer for recordings that would need more than maxTiles). */
  readonly intervalMs: number;
  readonly tileWidth: number;
  readonly columns: number;
  readonly maxTiles: number;
  /** Recordings waiting for their thumbnails at most; past it, new ones get none (logged). */
  readonly maxQueue: number;
  /** One FFmpeg run at most (it reads the whole file's keyframes). */
  readonly timeoutMs: number;
}

const THUMBNAIL_DEFAULTS: ThumbnailOptions = { intervalMs: 10_000, tileWidth: 160, columns: 10, maxTiles: 1000, maxQueue: 100, timeoutMs: 300_000 };

/** The sprite as the track names it: relative, beside thumbs.vtt (url-contract thumbsSpritePath). */
const SPRITE_URI = 'thumbs.jpg';
const SPRITE_SUFFIX = '.thumbs.jpg';
const TRACK_SUFFIX = '.thumbs.vtt';
/** A track with a viewer's token in it is that viewer's: not for shared caches. */
const PRIVATE_CACHE_CONTROL = 'private, max-age=3600';

export const thumbsSpriteFile = (r: Pick<Recording, 'file'>): string => r.file + SPRITE_SUFFIX;
export const thumbsTrackFile = (r: Pick<Recording, 'file'>): string => r.file + TRACK_SUFFIX;

export class Thumbnails {
  private readonly opts: ThumbnailOptions;
  private readonly queue: Recording[] = [];
  /** Recordings with thumbnails (made here, or found on disk by load()), by id. */
  private readonly made = new Set<string>();
  private running: Promise<void> | undefined;
  private readonly abort = new AbortController();
  private idleWaiters: (() => void)[] = [];

  constructor(
    private readonly catalogue: RecordingCatalogue,
    private readonly log: Logger,
    opts: Partial<ThumbnailOptions> = {},
  ) {
    this.opts = { ...THUMBNAIL_DEFAULTS, ...opts };
    catalogue.onEnded((r) => this.enqueue(r));
  }

  /** Whether the recording's thumbnails exist (what the recordings API lists): from memory, never the disk (the event loop serves the live streams). */
  has(r: Recording): boolean {
    return this.made.has(r.id);
  }

  /** Finds the thumbnails of the recordings the catalogue's scan listed (at start, after the scan). */
  async load(): Promise<void> {
    for (const r of this.catalogue.list()) {
      if (r.state === 'recording' || this.made.has(r.id)) continue;
      const found = await stat(thumbsTrackFile(r)).then(
        (st) => st.isFile(),
        () => false,
      );
      if (found) this.made.add(r.id);
    }
  }

  /** Queues a recording that ended; none for one queued already, with thumbnails, or past the queue's cap. */
  enqueue(r: Recording): void {
    if (this.abort.signal.aborted || this.queue.includes(r) || this.has(r)) return;
    if (this.queue.length >= this.opts.maxQueue) {
      this.log.warn({ id: r.id, queued: this.queue.length }, 'thumbnail queue full: recording left without thumbnails');
      return;
    }
    this.queue.push(r);
    this.running ??= this.drain();
  }

  /** Resolves once no job is queued or running (tests, shutdown). */
  idle(): Promise<void> {
    if (!this.running) return Promise.resolve();
    return new Promise((resolve) => this.idleWaiters.push(resolve));
  }

  /** Drops the queue and stops the running FFmpeg. */
  async close(): Promise<void> {
    this.queue.length = 0;
    this.abort.abort();
    await this.idle();
  }

  /** THUMBS_ROUTE's handler (app, stream, rec, jpg|vtt); wrap it in guardPlay. */
  handler(): RouteHandler {
    return (req, res, params, url) => this.serve(req, res, params, url);
  }

  private async drain(): Promise<void> {
    for (let r = this.queue.shift(); r; r = this.queue.shift()) {
      try {
        await this.make(r);
      } catch (err) {
        // make() cleans up after itself; the live streams and other recordings carry on.
        this.log.warn({ id: r.id, err: err instanceof Error ? err.message : String(err) }, 'thumbnails failed');
      }
    }
    this.running = undefined;
    const waiters = this.idleWaiters;
    this.idleWaiters = [];
    for (const w of waiters) w();
  }

  private async make(r: Recording): Promise<void> {
    if (r.durationMs <= 0) return;
    try {
      await requireFfmpeg();
    } catch (err) {
      if (err instanceof FfmpegMissingError) return this.log.warn({ id: r.id }, 'thumbnails need FFmpeg');
      throw err;
    }
    const layout = thumbnailLayout(r.durationMs, this.opts);
    const sprite = thumbsSpriteFile(r);
    const track = thumbsTrackFile(r);
    const tmpSprite = `${sprite}.tmp`;
    const tmpTrack = `${track}.tmp`;
    const started = Date.now();
    try {
      const result = await runFfmpeg(spriteArgs(r.file, layout, this.opts.tileWidth, tmpSprite), { timeoutMs: this.opts.timeoutMs, signal: this.abort.signal });
      if (result.code !== 0) throw new Error(`ffmpeg exited ${result.code}: ${result.stderr.trim().slice(-500)}`);
      const size = jpegSize(await readFile(tmpSprite));
      if (!size || size.width % layout.columns !== 0 || size.height % layout.rows !== 0) throw new Error(`unexpected sprite ${size ? `${size.width}x${size.height}` : 'bytes'}`);
      const tileWidth = size.width / layout.columns;
      const tileHeight = size.height / layout.rows;
      await writeFile(tmpTrack, thumbnailVtt(layout, r.durationMs, tileWidth, tileHeight, SPRITE_URI));
      // The track last: it is what says the thumbnails exist (has()).
      await rename(tmpSprite, sprite);
      await rename(tmpTrack, track);
    } finally {
      await Promise.all([rm(tmpSprite, { force: true }), rm(tmpTrack, { force: true })]);
    }
    // Deleted meanwhile (retention, DELETE): its thumbnails go too.
    if (this.catalogue.get(r.app, r.stream, r.name) !== r) {
      await Promise.all([rm(sprite, { force: true }), rm(track, { force: true })]);
      return;
    }
    this.made.add(r.id);
    this.log.info({ id: r.id, tiles: layout.count, intervalS: layout.intervalS, ms: Date.now() - started }, 'thumbnails made');
  }

  private async serve(req: IncomingMessage, res: ServerResponse, params: readonly string[], url: URL): Promise<void> {
    const ext = params[3];
    const r = this.catalogue.atRoute(params);
    if (r === 'invalid') return reply(res, 400, 'invalid recording path');
    if (!r || !this.has(r)) return reply(res, 404, 'no thumbnails');
    let body: Buffer;
    try {
      body = await readFile(ext === 'vtt' ? thumbsTrackFile(r) : thumbsSpriteFile(r));
    } catch {
      // Deleted between the check and the read.
      return reply(res, 404, 'no thumbnails');
    }
    const token = playTokenOf(url.searchParams);
    // The track names the sprite relatively; a player resolves it without the track's query, so a
    // viewer's play token is carried over into it (the sprite needs one too when play tokens are on).
    const withToken = ext === 'vtt' && token !== undefined;
    if (withToken) body = Buffer.from(body.toString('utf8').replaceAll(`${SPRITE_URI}#`, `${SPRITE_URI}?token=${token}#`));
    res.writeHead(200, {
      'Content-Type': ext === 'vtt' ? CONTENT_TYPE.vtt : CONTENT_TYPE.jpeg,
      'Content-Length': body.length,
      'Cache-Control': withToken ? PRIVATE_CACHE_CONTROL : IMMUTABLE,
    });
    res.end(req.method === 'HEAD' ? undefined : body);
  }
}

/** One FFmpeg run: keyframes only, one per interval, scaled, tiled into one JPEG. */
function spriteArgs(file: string, layout: ThumbnailLayout, tileWidth: number, out: string): string[] {
  // round=up: tile k is the last keyframe at or before k × interval (the fps filter keeps the last frame
  // of each slot; rounded to the nearest, tile 0 would be a frame from up to half an interval later).
  const filter = `fps=fps=1/${layout.intervalS}:round=up,scale=${tileWidth}:-2,tile=${layout.columns}x${layout.rows}`;
  return ['-hide_banner', '-loglevel', 'error', '-nostdin', '-skip_frame', 'nokey', '-i', file, '-an', '-sn', '-dn', '-vf', filter, '-frames:v', '1', '-q:v', '5', '-f', 'image2', '-y', out];
}
