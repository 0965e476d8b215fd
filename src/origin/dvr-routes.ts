// The DVR over HTTP: GET /{app}/{stream}/dvr.m3u8[?start=ISO8601] (dvr-playlist.ts, rendered by the
// store once per change; `Cache-Control: public, max-age=1` as the live playlist), and the segment and
// init segment routes falling back to the DVR's files once an object has left the memory window: the
// same URLs, immutable either way. Play tokens as on every playlist: guardPlay in front, the viewer's
// token on every URI.
import { open } from 'node:fs/promises';
import { pipeline } from 'node:stream';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { IMMUTABLE, LIVE_MAX_AGE, reply, type RouteHandler } from '../shared/http.js';
import { CONTENT_TYPE, DVR_START_PARAM, parseDvrStart, streamKey, validNames } from '../shared/url-contract.js';
import { playTokenOf } from '../hub/play-auth.js';
import { sendPlaylistText, type HlsService } from './hls-service.js';
import type { DvrFile, DvrStore } from './dvr-store.js';

export function dvrPlaylistHandler(store: DvrStore, playKey: Buffer | undefined): RouteHandler {
  return (req, res, [app, stream], url) => {
    if (!app || !stream || !validNames(app, stream)) return reply(res, 400, 'invalid app or stream name');
    const starts = url.searchParams.getAll(DVR_START_PARAM);
    if (starts.length > 1) return reply(res, 400, `${DVR_START_PARAM} given more than once`);
    const start = starts[0];
    const startMs = start === undefined ? undefined : parseDvrStart(start);
    if (start !== undefined && startMs === undefined) return reply(res, 400, `${DVR_START_PARAM} must be an ISO 8601 date-time, e.g. 2026-11-30T09:00:00Z`);
    const text = store.stream(app, stream)?.playlist(startMs);
    if (text === undefined) return reply(res, 404, `dvr playlist ${streamKey(app, stream)} not found`);
    store.bytesOut += sendPlaylistText(req, res, text, { app, stream, token: playTokenOf(url.searchParams), key: playKey }, LIVE_MAX_AGE);
  };
}

/** The object a segment or init route serves: an MPEG-TS or fMP4 segment, or an init segment. */
export type DvrObject = 'ts' | 'fmp4' | 'init';

const CONTENT_TYPES: Readonly<Record<DvrObject, string>> = { ts: CONTENT_TYPE.segment, fmp4: CONTENT_TYPE.fmp4, init: CONTENT_TYPE.init };

/**
 * `memory` (the HLS service's route for `what`, params app, stream, number) while the object is in the
 * memory window, else the DVR's file when it has one, else `memory` again (its 404).
 */
export function withDvrFallback(memory: RouteHandler, hls: HlsService, store: DvrStore, what: DvrObject): RouteHandler {
  return (req, res, params, url) => {
    const [app, name, id] = params;
    if (!app || !name || !validNames(app, name)) return memory(req, res, params, url);
    const n = Number(id);
    const pl = hls.playlist(app, name);
    if (what === 'init' ? pl?.init(n) : pl?.segment(n)) return memory(req, res, params, url);
    const s = store.stream(app, name);
    const file = what === 'init' ? s?.init(n) : s?.segment(n, what);
    if (!file) return memory(req, res, params, url);
    return sendFile(req, res, file, CONTENT_TYPES[what], store);
  };
}

async function sendFile(req: IncomingMessage, res: ServerResponse, file: DvrFile, contentType: string, store: DvrStore): Promise<void> {
  let fh;
  try {
    fh = await open(file.path, 'r');
  } catch {
    // Pruned between the lookup and the open.
    return reply(res, 404, 'segment not found');
  }
  res.writeHead(200, { 'Content-Type': contentType, 'Content-Length': file.bytes, 'Cache-Control': IMMUTABLE });
  if (req.method === 'HEAD') {
    await fh.close().catch(() => undefined);
    return void res.end();
  }
  store.bytesOut += file.bytes;
  pipeline(fh.createReadStream(), res, (err) => {
    if (err) res.destroy();
  });
}
