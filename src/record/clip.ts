// GET /api/recordings/{app}/{stream}/{rec}/clip?from=S&to=S (admin): an MP4 of a finished recording
// between two times, in seconds from its start, widened to whole GOPs (from the keyframe at or before
// `from` to the keyframe at or after `to`, or the end). Made by our own fMP4 writer (vod.ts writeClip:
// ftyp + moov, then a fragment per GOP, times from 0), so every codec the VOD serves is clipped the
// same way and nothing is spawned; it is streamed as made, one GOP in memory at a time. `to` past the
// end is the end; `from` at or past it, `to` <= `from`, or values that are not one plain non-negative
// number each are a 400. At most a few clips are made at once (503 past that).
import type { IncomingMessage, ServerResponse } from 'node:http';
import { HttpError } from '../shared/http.js';
import type { RouteHandler } from '../shared/http.js';
import type { ClusterKeys } from '../shared/keys.js';
import type { Logger } from '../shared/log.js';
import { CONTENT_TYPE } from '../shared/url-contract.js';
import { admitAdmin } from './recordings-api.js';
import type { Concurrency, RecordingFiles } from './vod-routes.js';
import { clipBounds, writeClip } from './vod.js';

/** Seconds: digits, an optional fraction to the µs; nothing a client could make huge or odd. */
const SECONDS = /^\d{1,9}(?:\.\d{1,6})?$/;

function seconds(url: URL, name: string): number {
  const all = url.searchParams.getAll(name);
  const v = all.length === 1 ? all[0] : undefined;
  if (v === undefined || !SECONDS.test(v)) throw new HttpError(400, 'bad_request', `${name} must be a number of seconds (e.g. ${name}=12.5)`);
  return Number(v);
}

/** The client went away: the clip stops, nothing to answer. */
class ClientGone extends Error {}

/** Resolves at the response's next 'drain' or 'close', leaving no listener behind (a clip waits once per GOP). */
function drainOrClose(res: ServerResponse): Promise<void> {
  return new Promise((resolve) => {
    const done = (): void => {
      res.off('drain', done);
      res.off('close', done);
      resolve();
    };
    res.on('drain', done);
    res.on('close', done);
  });
}

/** Writes with backpressure; rejects with ClientGone once the response is closed. */
function writer(res: ServerResponse): (chunk: Buffer) => Promise<void> {
  return async (chunk) => {
    if (res.destroyed) throw new ClientGone();
    if (!res.write(chunk)) {
      await drainOrClose(res);
      if (res.destroyed) throw new ClientGone();
    }
  };
}

export function clipHandler(files: RecordingFiles, clips: Concurrency, keys: ClusterKeys | undefined, log: Logger): RouteHandler {
  return async (req: IncomingMessage, res: ServerResponse, params, url) => {
    if (!admitAdmin(req, res, keys)) return;
    const r = files.finished(params);
    const from = seconds(url, 'from');
    const to = seconds(url, 'to');
    if (to <= from) throw new HttpError(400, 'bad_request', 'to must be after from');
    try {
      await clips.run(res, async () => {
        const index = await files.index(r);
        if (from * 1000 >= index.endMs || index.sync.length === 0) throw new HttpError(400, 'bad_request', `from is past the end of the recording (${(index.endMs / 1000).toFixed(3)} s)`);
        const b = clipBounds(index, from * 1000, to * 1000);
        const fh = await files.open(r);
        try {
          res.writeHead(200, {
            'Content-Type': CONTENT_TYPE.mp4,
            'Cache-Control': 'no-store',
            'Content-Disposition': `attachment; filename="${r.stream}-${r.name}-${Math.round(b.startMs)}-${Math.round(b.endMs)}.mp4"`,
            // Where the clip really starts and ends (keyframes), ms on the recording's timeline.
            'X-Clip-Start-Ms': String(Math.round(b.startMs)),
            'X-Clip-End-Ms': String(Math.round(b.endMs)),
          });
          await writeClip(fh, index, b.first, b.last, writer(res));
          res.end();
        } finally {
          await fh.close();
        }
      });
    } catch (e) {
      if (e instanceof ClientGone) return;
      if (res.headersSent) log.warn({ id: r.id, err: String(e) }, 'clip failed midway');
      throw e;
    }
  };
}
