// Snapshots: GET /{app}/{stream}.jpg[?width=W], the stream's latest keyframe as a JPEG. The GOP cache's
// keyframe and its codec header go to one FFmpeg as Annex B (media/flv/keyframe-annexb.ts), which decodes
// that one picture and encodes it as JPEG. FFmpeg is the expensive part, so: concurrent requests for the
// same picture (stream, keyframe, width) share one decode; a picture is served again for reuseMs (edges
// keep it that long too: Cache-Control max-age=1); decodes are capped per stream and second and in all
// at once, and over a cap a client gets the latest picture of its width, or 429/503 when there is none.
import type { IncomingMessage, ServerResponse } from 'node:http';
import { Counter, type Registry } from 'prom-client';
import type { Hub } from '../hub/hub.js';
import type { Stream, StreamObserver } from '../hub/stream.js';
import { keyframeAnnexB, type AnnexBKeyframe } from '../media/flv/keyframe-annexb.js';
import { FfmpegMissingError, requireFfmpeg, spawnFfmpeg, type FfmpegProcess } from '../shared/ffmpeg.js';
import { LIVE_MAX_AGE, reply, type RouteHandler } from '../shared/http.js';
import type { Logger } from '../shared/log.js';
import { AGE_MS_HEADER, CONTENT_TYPE, SNAPSHOT_WIDTH_MAX, SNAPSHOT_WIDTH_MIN, SNAPSHOT_WIDTH_PARAM, parseSnapshotWidth, validNames } from '../shared/url-contract.js';
import { ORIGIN_DEFAULTS } from './defaults.js';

export interface SnapshotLimits {
  readonly reuseMs: number;
  readonly decodesPerS: number;
  readonly maxDecodes: number;
  readonly timeoutMs: number;
  readonly maxBytes: number;
  readonly cacheBytes: number;
}

const d = ORIGIN_DEFAULTS;
const SNAPSHOT_DEFAULTS: SnapshotLimits = {
  reuseMs: d.snapshotReuseMs,
  decodesPerS: d.snapshotDecodesPerS,
  maxDecodes: d.snapshotMaxDecodes,
  timeoutMs: d.snapshotTimeoutMs,
  maxBytes: d.snapshotMaxBytes,
  cacheBytes: d.snapshotCacheBytes,
};

/** FFmpeg's last words kept for the log when a decode fails. */
const STDERR_TAIL = 2048;

interface Picture {
  readonly jpeg: Buffer;
  /** The keyframe it was decoded from (OutPacket.seq: unique within the stream's life). */
  readonly seq: number;
  /** Date.now() when it was decoded. */
  readonly at: number;
}

export class Snapshots implements StreamObserver {
  private readonly limits: SnapshotLimits;
  private readonly decodes: Counter;
  /** The latest picture of each stream and width ('{app}/{stream}?{width}'), least recently served first. */
  private readonly pictures = new Map<string, Picture>();
  private pictureBytes = 0;
  /**
   * Decodes under way, by picture key: what concurrent requests join, even when a newer keyframe arrived
   * meanwhile (the picture under way is at most a decode's time older: well within reuseMs).
   */
  private readonly inflight = new Map<string, Promise<Picture>>();
  /** Start times of each stream's decodes within the last second (the per-stream rate). */
  private readonly starts = new Map<string, number[]>();
  private readonly running = new Set<FfmpegProcess>();

  constructor(
    private readonly hub: Hub,
    registry: Registry,
    private readonly log: Logger,
    limits: Partial<SnapshotLimits> = {},
  ) {
    this.limits = { ...SNAPSHOT_DEFAULTS, ...limits };
    this.decodes = new Counter({ name: 'livecdn_snapshot_decodes_total', help: 'FFmpeg runs that decoded a snapshot (JPEG) from a keyframe', registers: [registry] });
  }

  /** The route handler (app and stream are the route's groups); wrap it in guardPlay. */
  handler(): RouteHandler {
    return (req, res, params, url) => this.serve(req, res, params[0], params[1], url);
  }

  onUnpublish(stream: Stream): void {
    this.starts.delete(stream.key);
    const prefix = `${stream.key}?`;
    for (const [key, p] of this.pictures) {
      if (!key.startsWith(prefix)) continue;
      this.pictures.delete(key);
      this.pictureBytes -= p.jpeg.length;
    }
  }

  /** Stops the decodes under way (their requests get a 502). */
  async close(): Promise<void> {
    await Promise.all([...this.running].map((p) => p.stop(500)));
  }

  private async serve(req: IncomingMessage, res: ServerResponse, app: string | undefined, name: string | undefined, url: URL): Promise<void> {
    if (!validNames(app, name)) return reply(res, 400, 'invalid app or stream name');
    const widths = url.searchParams.getAll(SNAPSHOT_WIDTH_PARAM);
    const width = widths.length > 1 ? null : parseSnapshotWidth(widths[0] ?? null);
    if (width === null) return reply(res, 400, `${SNAPSHOT_WIDTH_PARAM} must be one integer in ${SNAPSHOT_WIDTH_MIN}..${SNAPSHOT_WIDTH_MAX}`);
    const stream = this.hub.get(app as string, name as string);
    if (!stream?.live) return reply(res, 404, 'stream not live');
    const kf = stream.keyframe();
    if (!kf) return reply(res, 404, 'no video keyframe yet');
    const key = `${stream.key}?${width ?? ''}`;
    const now = Date.now();
    const latest = this.pictures.get(key);
    // The same keyframe decodes to the same picture; a newer one is worth a decode only past reuseMs.
    if (latest && (latest.seq === kf.key.seq || now - latest.at < this.limits.reuseMs)) return this.send(req, res, key, latest);
    let job = this.inflight.get(key);
    if (!job) {
      const refusal = this.admission(stream.key, now);
      if (refusal) {
        if (latest) return this.send(req, res, key, latest);
        return reply(res, refusal, refusal === 429 ? 'snapshot rate exceeded' : 'snapshot decoders busy', { 'Retry-After': '1' });
      }
      const pic = keyframeAnnexB(kf.header.packet, kf.key.packet);
      if (!pic.ok) {
        return pic.reason === 'unsupported' ? reply(res, 501, `no snapshots of ${pic.codec ?? 'this'} video`) : reply(res, 502, 'keyframe does not parse');
      }
      this.starts.get(stream.key)?.push(now);
      job = this.startJob(stream, key, kf.key.seq, pic.keyframe, width);
    }
    let picture: Picture;
    try {
      picture = await job;
    } catch (err) {
      if (err instanceof FfmpegMissingError) return reply(res, 503, 'snapshots need FFmpeg');
      return reply(res, 502, 'snapshot decode failed');
    }
    this.send(req, res, key, picture);
  }

  /** undefined when a new decode may start (the caller records its start), else the status refusing it. */
  private admission(stream: string, now: number): 429 | 503 | undefined {
    const recent = (this.starts.get(stream) ?? []).filter((t) => now - t < 1000);
    this.starts.set(stream, recent);
    if (recent.length >= this.limits.decodesPerS) return 429;
    if (this.running.size >= this.limits.maxDecodes) return 503;
    return undefined;
  }

  private startJob(stream: Stream, key: string, seq: number, pic: AnnexBKeyframe, width: number | undefined): Promise<Picture> {
    const job = (async (): Promise<Picture> => {
      await requireFfmpeg();
      const jpeg = await this.decode(pic, width);
      return { jpeg, seq, at: Date.now() };
    })();
    this.inflight.set(key, job);
    job.then(
      (picture) => {
        this.inflight.delete(key);
        // A stream that ended meanwhile keeps nothing.
        if (stream.live) this.keep(key, picture);
      },
      (err: unknown) => {
        this.inflight.delete(key);
        if (!(err instanceof FfmpegMissingError)) this.log.warn({ stream: stream.key, width, err: err instanceof Error ? err.message : String(err) }, 'snapshot decode failed');
      },
    );
    return job;
  }

  /** One FFmpeg: Annex B in, one JPEG out, bounded in time and bytes. Rejects with why: a timeout, an oversized JPEG, or FFmpeg's exit and last words. */
  private decode(pic: AnnexBKeyframe, width: number | undefined): Promise<Buffer> {
    const args = ['-hide_banner', '-loglevel', 'error', '-f', pic.format, '-i', 'pipe:0', '-frames:v', '1'];
    if (width !== undefined) args.push('-vf', `scale=${width}:-2`);
    args.push('-f', 'image2', '-c:v', 'mjpeg', '-q:v', '3', 'pipe:1');
    const p = spawnFfmpeg(args, { stdio: ['pipe', 'pipe', 'pipe'] });
    this.decodes.inc();
    this.running.add(p);
    const out: Buffer[] = [];
    let outBytes = 0;
    let stderr = '';
    let failure: string | undefined;
    const fail = (why: string): void => {
      failure ??= why;
      void p.stop(200);
    };
    const timer = setTimeout(() => fail(`timed out after ${this.limits.timeoutMs} ms`), this.limits.timeoutMs);
    p.child.stdout?.on('data', (b: Buffer) => {
      outBytes += b.length;
      if (outBytes > this.limits.maxBytes) return fail(`JPEG over ${this.limits.maxBytes} bytes`);
      out.push(b);
    });
    p.child.stderr?.on('data', (b: Buffer) => {
      stderr = (stderr + b.toString()).slice(-STDERR_TAIL);
    });
    // FFmpeg may exit before reading all of its input (a bad frame): EPIPE is its exit status's business.
    p.child.stdin?.on('error', () => undefined);
    p.child.stdin?.end(pic.data);
    return new Promise<Buffer>((resolve, reject) => {
      const done = (code: number | null): void => {
        clearTimeout(timer);
        this.running.delete(p);
        const jpeg = Buffer.concat(out);
        if (failure === undefined && code === 0 && jpeg.length > 2 && jpeg[0] === 0xff && jpeg[1] === 0xd8) return resolve(jpeg);
        reject(new Error(failure ?? `ffmpeg exited ${code}: ${stderr.trim() || 'no JPEG'}`));
      };
      // 'close': exited and its pipes drained; a binary that does not start only emits 'error'.
      p.child.once('close', done);
      p.child.once('error', () => done(-1));
    });
  }

  /** Keeps the stream's latest picture of that width, within the byte budget (least recently served go first). */
  private keep(key: string, picture: Picture): void {
    const old = this.pictures.get(key);
    if (old && old.at >= picture.at) return;
    if (old) this.pictureBytes -= old.jpeg.length;
    this.pictures.delete(key);
    this.pictures.set(key, picture);
    this.pictureBytes += picture.jpeg.length;
    for (const [k, p] of this.pictures) {
      if (this.pictureBytes <= this.limits.cacheBytes) break;
      this.pictures.delete(k);
      this.pictureBytes -= p.jpeg.length;
    }
  }

  private send(req: IncomingMessage, res: ServerResponse, key: string, picture: Picture): void {
    // Most recently served last: what the byte budget drops last.
    if (this.pictures.get(key) === picture) {
      this.pictures.delete(key);
      this.pictures.set(key, picture);
    }
    res.writeHead(200, {
      'Content-Type': CONTENT_TYPE.jpeg,
      'Content-Length': picture.jpeg.length,
      'Cache-Control': LIVE_MAX_AGE,
      // How old the picture is already: an edge keeps it only for the rest of the second (freshness.ts).
      [AGE_MS_HEADER]: String(Math.max(0, Date.now() - picture.at)),
    });
    res.end(req.method === 'HEAD' ? undefined : picture.jpeg);
  }
}
