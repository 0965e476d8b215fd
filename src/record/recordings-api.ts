// The recordings API on the origin (admin bearer): the list and one entry, the FLV file with HTTP Range
// (one range), DELETE of a finished recording, and POST/DELETE /api/streams/{app}/{stream}/record to
// start or stop recording a live stream.
import { createReadStream } from 'node:fs';
import { stat } from 'node:fs/promises';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Hub } from '../hub/hub.js';
import { hasAdminBearer } from '../shared/admin-auth.js';
import { reply } from '../shared/http.js';
import type { RouteHandler } from '../shared/http.js';
import type { ClusterKeys } from '../shared/keys.js';
import type { Logger } from '../shared/log.js';
import {
  CONTENT_TYPE,
  isValidName,
  recordingFilePath,
  streamKey,
  thumbsSpritePath,
  thumbsVttPath,
  validNames,
  vodPlaylistPath,
} from '../shared/url-contract.js';
import type { Recording, RecordingCatalogue } from './catalogue.js';
import type { Recorder } from './recorder.js';

export interface RecordingsApiOptions {
  readonly catalogue: RecordingCatalogue;
  readonly recorder: Recorder;
  readonly hub: Hub;
  readonly keys: ClusterKeys | undefined;
  /** Whether a recording has thumbnails (the thumbnail maker knows); none when unset. */
  readonly hasThumbs?: (r: Recording) => boolean;
  readonly log: Logger;
}

/** A recording as the API shows it. */
function recordingJson(r: Recording, hasThumbs?: (r: Recording) => boolean): object {
  return {
    id: r.id,
    app: r.app,
    stream: r.stream,
    name: r.name,
    startedAt: new Date(r.startedAt).toISOString(),
    endedAt: r.endedAt !== undefined ? new Date(r.endedAt).toISOString() : null,
    durationMs: r.durationMs,
    bytes: r.bytes,
    state: r.state,
    ...(r.error !== undefined ? { error: r.error } : {}),
    session: r.session,
    part: r.part,
    vod: vodPlaylistPath(r.app, r.stream, r.name),
    file: recordingFilePath(r.app, r.stream, r.name),
    ...(hasThumbs?.(r) ? { thumbs: { sprite: thumbsSpritePath(r.app, r.stream, r.name), vtt: thumbsVttPath(r.app, r.stream, r.name) } } : {}),
  };
}

/**
 * The byte range a Range header asks of a `size`-byte body: undefined to send it all (no header, not a
 * bytes range, or several ranges: one is served, so the whole body is the answer), 'unsatisfiable' for 416.
 */
export function parseByteRange(header: string | undefined, size: number): { start: number; end: number } | 'unsatisfiable' | undefined {
  if (header === undefined) return undefined;
  const m = /^bytes=(\d{0,15})-(\d{0,15})$/.exec(header.trim());
  if (!m) return undefined;
  const [, a = '', b = ''] = m;
  if (a === '' && b === '') return undefined;
  if (a === '') {
    const n = Number(b);
    if (n === 0 || size === 0) return 'unsatisfiable';
    return { start: Math.max(0, size - n), end: size - 1 };
  }
  const start = Number(a);
  const end = b === '' ? size - 1 : Math.min(Number(b), size - 1);
  if (start >= size || (b !== '' && Number(b) < start)) return 'unsatisfiable';
  return { start, end };
}

/** Whether the request carries the admin bearer (every recordings route but the media ones); else the 401 is sent. */
export function admitAdmin(req: IncomingMessage, res: ServerResponse, keys: ClusterKeys | undefined): boolean {
  if (hasAdminBearer(req.headers.authorization, keys)) return true;
  reply(res, 401, 'bad or missing bearer token', { 'WWW-Authenticate': 'Bearer' });
  return false;
}

export class RecordingsApi {
  constructor(private readonly o: RecordingsApiOptions) {}

  /** The recording at route params [app, stream, name], or a 400/404 reply and undefined. */
  private find(res: ServerResponse, params: readonly string[]): Recording | undefined {
    const r = this.o.catalogue.atRoute(params);
    if (r === 'invalid') return void reply(res, 400, 'invalid recording id');
    if (!r) reply(res, 404, 'no such recording');
    return r;
  }

  /** GET /api/recordings[?app=&stream=] */
  list(): RouteHandler {
    return (req, res, _params, url) => {
      if (!admitAdmin(req, res, this.o.keys)) return;
      const app = url.searchParams.get('app') ?? undefined;
      const stream = url.searchParams.get('stream') ?? undefined;
      if ((app !== undefined && !isValidName(app)) || (stream !== undefined && !isValidName(stream))) return reply(res, 400, 'invalid app or stream name');
      const list = this.o.catalogue.list({ ...(app !== undefined ? { app } : {}), ...(stream !== undefined ? { stream } : {}) });
      reply(res, 200, { recordings: list.map((r) => recordingJson(r, this.o.hasThumbs)) });
    };
  }

  /** GET /api/recordings/{app}/{stream}/{rec} */
  entry(): RouteHandler {
    return (req, res, params) => {
      if (!admitAdmin(req, res, this.o.keys)) return;
      const r = this.find(res, params);
      if (r) reply(res, 200, recordingJson(r, this.o.hasThumbs));
    };
  }

  /** DELETE /api/recordings/{app}/{stream}/{rec}: 409 while it is being written. */
  remove(): RouteHandler {
    return async (req, res, params) => {
      if (!admitAdmin(req, res, this.o.keys)) return;
      const r = this.find(res, params);
      if (!r) return;
      if (r.state === 'recording') return reply(res, 409, { error: 'recording', message: 'the recording is being written; stop it first' });
      if (!(await this.o.catalogue.remove(r.app, r.stream, r.name))) return reply(res, 404, 'no such recording');
      reply(res, 200, { deleted: r.id });
    };
  }

  /** GET|HEAD /api/recordings/{app}/{stream}/{rec}.flv, with one Range. */
  file(): RouteHandler {
    return async (req, res, params) => {
      if (!admitAdmin(req, res, this.o.keys)) return;
      const r = this.find(res, params);
      if (!r) return;
      let size: number;
      try {
        size = (await stat(r.file)).size;
      } catch {
        return reply(res, 404, 'recording file missing');
      }
      const range = parseByteRange(typeof req.headers.range === 'string' ? req.headers.range : undefined, size);
      const common = { 'Content-Type': CONTENT_TYPE.flv, 'Accept-Ranges': 'bytes', 'Cache-Control': 'no-store' };
      if (range === 'unsatisfiable') return reply(res, 416, 'range not satisfiable', { 'Content-Range': `bytes */${size}` });
      const { start, end } = range ?? { start: 0, end: size - 1 };
      const length = Math.max(0, end - start + 1);
      res.writeHead(range ? 206 : 200, {
        ...common,
        'Content-Length': String(length),
        ...(range ? { 'Content-Range': `bytes ${start}-${end}/${size}` } : {}),
        'Content-Disposition': `attachment; filename="${r.stream}-${r.name}.flv"`,
      });
      if (req.method === 'HEAD' || length === 0) return void res.end();
      const body = createReadStream(r.file, { start, end });
      body.on('error', (err) => {
        this.o.log.warn({ id: r.id, err: String(err) }, 'recording file read failed');
        res.destroy();
      });
      res.on('close', () => body.destroy());
      body.pipe(res);
    };
  }

  /** POST (start) and DELETE (stop) /api/streams/{app}/{stream}/record. */
  control(): RouteHandler {
    return (req, res, [app, stream]) => {
      if (!admitAdmin(req, res, this.o.keys)) return;
      if (!app || !stream || !validNames(app, stream)) return reply(res, 400, 'invalid app or stream name');
      const key = streamKey(app, stream);
      if (req.method === 'DELETE') {
        const r = this.o.recorder.current(key);
        if (!this.o.recorder.stop(key)) return reply(res, 404, `stream ${key} is not being recorded`);
        return reply(res, 200, { stopped: key, ...(r ? { id: r.id } : {}) });
      }
      const live = this.o.hub.get(app, stream);
      if (!live) return reply(res, 404, `stream ${key} is not live`);
      const outcome = this.o.recorder.start(live);
      reply(res, outcome === 'started' ? 201 : 200, { recording: key, started: outcome === 'started' });
    };
  }
}
