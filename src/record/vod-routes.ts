// The origin's routes for recordings played back: the VOD playlist, its segments and init segment
// (play tokens and on_play as on every media route: guardPlay, and the playlist lists its URIs with the
// viewer's token), and the MP4 clip (admin bearer, clip.ts). A recording still being written has no VOD
// yet (409); its DVR is the live stream's. Each request costs bounded reads of one file, and at most
// `maxConcurrent` run at once (503 past that): a client asking for many segments cannot queue unbounded
// remuxes.
import { open } from 'node:fs/promises';
import type { FileHandle } from 'node:fs/promises';
import type { ServerResponse } from 'node:http';
import { guardPlay, playTokenOf, withPlayTokens } from '../hub/play-auth.js';
import type { PlayDecisions } from '../hub/play-auth.js';
import { MediaFormatError } from '../media/error.js';
import { HttpError, IMMUTABLE } from '../shared/http.js';
import type { Route, RouteHandler } from '../shared/http.js';
import type { ClusterKeys } from '../shared/keys.js';
import type { Logger } from '../shared/log.js';
import { CONTENT_TYPE, RECORDING_CLIP_ROUTE, VOD_INIT_ROUTE, VOD_PLAYLIST_ROUTE, VOD_SEGMENT_ROUTE } from '../shared/url-contract.js';
import type { Recording, RecordingCatalogue } from './catalogue.js';
import { clipHandler } from './clip.js';
import { FlvIndexCache } from './flv-scan.js';
import type { FlvIndex } from './flv-scan.js';
import { planVod, remuxSegment, vodInitSegment, vodPlaylistText } from './vod.js';
import type { VodPlan } from './vod.js';

const VOD_DEFAULTS = {
  /** Playlist, segment and init requests being answered at once. */
  maxConcurrent: 16,
  /** Clips being made at once. */
  maxClips: 2,
  /** Recording indexes kept (flv-scan.ts). */
  indexCacheEntries: 64,
} as const;

export interface VodRoutesOptions {
  readonly recordings: Pick<RecordingCatalogue, 'atRoute'>;
  /** The HLS target segment duration, ms (the origin's --hls-segment). */
  readonly targetMs: number;
  /** keys.play when play tokens are on. */
  readonly playKey?: Buffer | undefined;
  readonly decisions?: PlayDecisions;
  /** The cluster's keys: the clip route takes the admin bearer (open without keys: --insecure). */
  readonly keys: ClusterKeys | undefined;
  readonly log: Logger;
  readonly maxConcurrent?: number;
  readonly maxClips?: number;
}

/** A recording's playlist is derived from its index: made once per index (the index is cached per file version). */
interface Derived {
  readonly plan: VodPlan;
  readonly playlist: string;
}

/** What every recording request shares: the lookup, the index, the plan and the file. */
export class RecordingFiles {
  private readonly indexes: FlvIndexCache;
  private readonly derived = new WeakMap<FlvIndex, Derived>();

  constructor(
    private readonly o: Pick<VodRoutesOptions, 'recordings' | 'targetMs'>,
    indexEntries: number = VOD_DEFAULTS.indexCacheEntries,
  ) {
    this.indexes = new FlvIndexCache(indexEntries);
  }

  /** The finished recording at route params [app, stream, rec]; throws the 400, 404 or 409. */
  finished(params: readonly string[]): Recording {
    const r = this.o.recordings.atRoute(params);
    if (r === 'invalid') throw new HttpError(400, 'bad_request', 'invalid recording id');
    if (!r) throw new HttpError(404, 'not_found', 'no such recording');
    if (r.state === 'recording') throw new HttpError(409, 'recording', 'the recording is still being written');
    return r;
  }

  /** The recording's index; a missing file is a 404, bytes that are not FLV a 500 without detail. */
  async index(r: Recording): Promise<FlvIndex> {
    try {
      return await this.indexes.get(r.file);
    } catch (e) {
      throw fileError(e);
    }
  }

  async open(r: Recording): Promise<FileHandle> {
    try {
      return await open(r.file, 'r');
    } catch (e) {
      throw fileError(e);
    }
  }

  derive(r: Recording, index: FlvIndex): Derived {
    let d = this.derived.get(index);
    if (!d) {
      const plan = planVod(index, this.o.targetMs);
      if (plan.segments.length === 0) throw new HttpError(404, 'empty', 'the recording holds no playable media');
      d = { plan, playlist: vodPlaylistText(plan, r.name, r.startedAt, this.o.targetMs, index.video !== undefined) };
      this.derived.set(index, d);
    }
    return d;
  }
}

function fileError(e: unknown): unknown {
  if ((e as NodeJS.ErrnoException).code === 'ENOENT') return new HttpError(404, 'not_found', 'the recording file is gone');
  if (e instanceof MediaFormatError) return new HttpError(500, 'unreadable', 'the recording file is not readable FLV');
  return e;
}

/** Runs `fn` within a cap of concurrent requests; past it, 503 with Retry-After (a player or edge tries again). */
export class Concurrency {
  private active = 0;
  constructor(
    readonly max: number,
    private readonly retryAfterS: number,
  ) {}

  async run<T>(res: ServerResponse, fn: () => Promise<T>): Promise<T> {
    if (this.active >= this.max) {
      res.setHeader('Retry-After', String(this.retryAfterS));
      throw new HttpError(503, 'busy', 'too many requests for recordings at once; retry shortly');
    }
    this.active++;
    try {
      return await fn();
    } finally {
      this.active--;
    }
  }
}

function sendMedia(res: ServerResponse, method: string | undefined, contentType: string, body: Buffer | string): void {
  const bytes = typeof body === 'string' ? Buffer.from(body, 'utf8') : body;
  res.writeHead(200, { 'Content-Type': contentType, 'Content-Length': String(bytes.length), 'Cache-Control': IMMUTABLE });
  res.end(method === 'HEAD' ? undefined : bytes);
}

/** The routes, in the order the origin mounts them. */
export function vodRoutes(o: VodRoutesOptions): Route[] {
  const files = new RecordingFiles(o);
  const media = new Concurrency(o.maxConcurrent ?? VOD_DEFAULTS.maxConcurrent, 1);
  const guarded = (h: RouteHandler): RouteHandler => guardPlay(h, o.playKey, o.decisions);

  const playlist: RouteHandler = (req, res, params, url) =>
    media.run(res, async () => {
      const r = files.finished(params);
      const { playlist: text } = files.derive(r, await files.index(r));
      const body = withPlayTokens(text, { app: r.app, stream: r.stream, token: playTokenOf(url.searchParams), key: o.playKey });
      sendMedia(res, req.method, CONTENT_TYPE.playlist, body);
    });

  const segment: RouteHandler = (req, res, params) =>
    media.run(res, async () => {
      const r = files.finished(params);
      const index = await files.index(r);
      const { plan } = files.derive(r, index);
      const n = Number(params[3]);
      const ext = params[4];
      if ((ext === 'ts') !== (plan.format === 'ts') || !(n < plan.segments.length)) throw new HttpError(404, 'not_found', 'no such segment');
      const fh = await files.open(r);
      try {
        const data = await remuxSegment(fh, index, plan, n);
        sendMedia(res, req.method, plan.format === 'ts' ? CONTENT_TYPE.segment : CONTENT_TYPE.fmp4, data);
      } finally {
        await fh.close();
      }
    });

  const init: RouteHandler = (req, res, params) =>
    media.run(res, async () => {
      const r = files.finished(params);
      const index = await files.index(r);
      if (files.derive(r, index).plan.format !== 'fmp4') throw new HttpError(404, 'not_found', 'this recording is served as MPEG-TS: no init segment');
      sendMedia(res, req.method, CONTENT_TYPE.init, vodInitSegment(index));
    });

  return [
    { methods: ['GET', 'HEAD'], pattern: VOD_PLAYLIST_ROUTE, handler: guarded(playlist) },
    { methods: ['GET', 'HEAD'], pattern: VOD_SEGMENT_ROUTE, handler: guarded(segment) },
    { methods: ['GET', 'HEAD'], pattern: VOD_INIT_ROUTE, handler: guarded(init) },
    { methods: ['GET'], pattern: RECORDING_CLIP_ROUTE, handler: clipHandler(files, new Concurrency(o.maxClips ?? VOD_DEFAULTS.maxClips, 5), o.keys, o.log) },
  ];
}
