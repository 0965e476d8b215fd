// The URL contract: every path that names a stream is built and parsed here, so the origin, the edge,
// the signal's play URLs, the player pages, the tests and the nginx template (checked against this file
// by test/edge/nginx-template.test.ts) cannot drift apart. Pure and free of node: imports on purpose:
// the player pages bundle it for the browser (scripts/build-player.mjs).
//
//   rtmp://HOST:1935/{app}/{stream}     publish and RTMP play (publish may carry ?token=…)
//   /api/play/{app}/{stream}            signal: where to play (edge URLs)
//   /api/streams/{app}/{stream}         origin: DELETE drops a live stream (signal's revoke)
//   /{app}/{stream}.flv                 HTTP-FLV live                                  video/x-flv
//   /{app}/{stream}.m3u8                HLS media playlist                             application/vnd.apple.mpegurl
//                                       (LL-HLS: ?_HLS_msn=&_HLS_part=&_HLS_skip=, see LLHLS_PARAMS;
//                                       with a transcoding ladder the multivariant playlist, below)
//   /{app}/{stream}/{seq}.ts            HLS segment, MPEG-TS                           video/mp2t
//   /{app}/{stream}/init-{id}.mp4       fMP4 init segment of the segments from {id} on video/mp4
//                                       (a new name when the codecs change, because stream objects
//                                       are cached as immutable)
//   /{app}/{stream}/{seq}.m4s           HLS segment, fMP4                              video/iso.segment
//   /{app}/{stream}/{seq}.{part}.m4s    LL-HLS part {part} (0..) of segment {seq}      video/iso.segment
// A playlist lists stream objects relative to itself: `{stream}/{seq}.ts`, `{stream}/init-{id}.mp4`, …
//
// app and stream match NAME_PATTERN; anything else is refused (RTMP) or a 400 (HTTP), never a file
// path. Any safe file name under /{app}/{stream}/ is a stream object: the edge and nginx cache it as
// immutable, except a nested .m3u8, which is a playlist (short-lived, never served stale).
//
// A transcoding ladder (issue 11) adds no object type: each rung is a hub stream of its own,
// {stream}_{rung} (renditionStream), with the ordinary .flv, .m3u8, segments and parts. With a ladder,
// /{app}/{stream}.m3u8 is the multivariant playlist and /{app}/{stream}_source.m3u8 the source's media
// playlist (its segment URIs stay {stream}/…).
//
// Reserved for the next object types (not served yet); each plugs in here first:
//   /{app}/{stream}/rec-{startS}.mp4    a finished recording (immutable)              video/mp4
//   /{app}/{stream}.jpg                 the latest snapshot: a live object like the playlist, so it
//                                       needs a kind of its own in parsePath (LIVE_EXTENSIONS), a
//                                       freshness policy at the edge and an nginx location
// The stream-object shapes already pass parsePath and the nginx template unchanged; the origin serves
// each one once it gets a route (a builder here, a *_ROUTE pattern, a CONTENT_TYPE entry).

/** app and stream names. Anything else is refused, never used as a path. */
export const NAME_PATTERN = /^[A-Za-z0-9_-]{1,64}$/;

export const isValidName = (s: string): boolean => NAME_PATTERN.test(s);

/** A ladder rung's name ('720p', 'low'): short, lower case, so that {stream}_{rung} stays a valid name. */
export const RUNG_NAME = /^[a-z0-9]{1,16}$/;
/** The rung that is the source itself, passed through: its media playlist is /{app}/{stream}_source.m3u8. */
export const SOURCE_RUNG = 'source';
/** The hub stream of a rung of `stream` (the source rung too: `{stream}_source` names its media playlist). */
export const renditionStream = (stream: string, rung: string): string => `${stream}_${rung}`;
/** A rendition's media playlist as the multivariant playlist /{app}/{stream}.m3u8 lists it: relative, `{name}.m3u8`. */
export const variantUri = (name: string): string => `${name}.m3u8`;
/** The source stream and rung a name would be the rendition of ({stream}_{rung}, RUNG_NAME), whether or not such a ladder exists. */
export function renditionParts(name: string): { stream: string; rung: string } | undefined {
  const i = name.lastIndexOf('_');
  const rung = name.slice(i + 1);
  return i > 0 && RUNG_NAME.test(rung) ? { stream: name.slice(0, i), rung } : undefined;
}

/** Both names of an app/stream pair are valid (absent parts, as from a loose route match, are not). */
export const validNames = (app: string | undefined, stream: string | undefined): boolean =>
  app !== undefined && stream !== undefined && isValidName(app) && isValidName(stream);

/** The one key of a stream in maps, logs, metrics labels, the registry and the player's ?stream=. */
export const streamKey = (app: string, stream: string): string => `${app}/${stream}`;

/** `app/stream` split and validated; undefined when it does not match. Surrounding blanks are ignored. */
export function parseStreamKey(key: string): { app: string; stream: string } | undefined {
  const [app, stream, ...rest] = key.trim().split('/');
  return rest.length === 0 && app !== undefined && stream !== undefined && validNames(app, stream) ? { app, stream } : undefined;
}

export const flvPath = (app: string, stream: string): string => `/${app}/${stream}.flv`;
export const playlistPath = (app: string, stream: string): string => `/${app}/${stream}.m3u8`;
/** A segment's URI as the playlist lists it: relative to /{app}/{stream}.m3u8. */
export const segmentUri = (stream: string, sequence: number): string => `${stream}/${sequence}.ts`;
export const segmentPath = (app: string, stream: string, sequence: number): string => `/${app}/${segmentUri(stream, sequence)}`;
/** An fMP4 init segment's URI (relative, as segmentUri); `id` is the sequence of the first segment using it. */
export const initUri = (stream: string, id: number): string => `${stream}/init-${id}.mp4`;
export const initPath = (app: string, stream: string, id: number): string => `/${app}/${initUri(stream, id)}`;
/** An fMP4 segment's URI (relative, as segmentUri). */
export const fmp4SegmentUri = (stream: string, sequence: number): string => `${stream}/${sequence}.m4s`;
export const fmp4SegmentPath = (app: string, stream: string, sequence: number): string => `/${app}/${fmp4SegmentUri(stream, sequence)}`;
/** An LL-HLS part's URI (relative, as segmentUri): part `part` (0..) of segment `sequence`. */
export const partUri = (stream: string, sequence: number, part: number): string => `${stream}/${sequence}.${part}.m4s`;
export const partPath = (app: string, stream: string, sequence: number, part: number): string => `/${app}/${partUri(stream, sequence, part)}`;

/**
 * The LL-HLS delivery directives a playlist request may carry (RFC 8216bis 6.2.5), in the one order an
 * edge's cache key lists them: a blocking or delta playlist is a different object per combination.
 */
export const LLHLS_PARAMS = ['_HLS_msn', '_HLS_part', '_HLS_skip'] as const;
/** _HLS_msn: media sequence numbers are wall-clock seconds and up; 15 digits stay exact in a double. */
export const LLHLS_MSN = /^\d{1,15}$/;
/** _HLS_part: a part index within one segment, as many digits as a part's URI may have (PART_ROUTE). */
export const LLHLS_PART = /^\d{1,4}$/;
/** The path of an RTMP URL (rtmp://HOST:PORT + this). */
export const rtmpPath = (app: string, stream: string): string => `/${app}/${stream}`;

// The control plane's per-stream routes that other parts call: the player asks the signal where to
// play, the signal asks each origin to drop a revoked stream.
export const playApiPath = (app: string, stream: string): string => `/api/play/${app}/${stream}`;
/** The signal's route for playApiPath (express syntax). */
export const PLAY_API_ROUTE = '/api/play/:app/:stream';
export const streamApiPath = (app: string, stream: string): string => `/api/streams/${app}/${stream}`;

export const CONTENT_TYPE = {
  flv: 'video/x-flv',
  playlist: 'application/vnd.apple.mpegurl',
  segment: 'video/mp2t',
  /** fMP4 init segment. */
  init: 'video/mp4',
  /** fMP4 segment and LL-HLS part. */
  fmp4: 'video/iso.segment',
} as const;

// The origin's routes. Path segments are captured loosely and validated after (validNames), so a bad
// name is a clear 400 rather than a 404.
export const FLV_ROUTE = /^\/([^/]+)\/([^/]+)\.flv$/;
export const PLAYLIST_ROUTE = /^\/([^/]+)\/([^/]+)\.m3u8$/;
/** Captures app, stream and the sequence number. */
export const SEGMENT_ROUTE = /^\/([^/]+)\/([^/]+)\/(\d{1,15})\.ts$/;
/** Captures app, stream and the init segment's id. */
export const INIT_ROUTE = /^\/([^/]+)\/([^/]+)\/init-(\d{1,15})\.mp4$/;
/** Captures app, stream and the sequence number. */
export const FMP4_SEGMENT_ROUTE = /^\/([^/]+)\/([^/]+)\/(\d{1,15})\.m4s$/;
/** Captures app, stream, the sequence number and the part index. */
export const PART_ROUTE = /^\/([^/]+)\/([^/]+)\/(\d{1,15})\.(\d{1,4})\.m4s$/;
export const STREAM_API_ROUTE = /^\/api\/streams\/([^/]+)\/([^/]+)$/;

export type StreamPath =
  | { kind: 'flv'; app: string; stream: string; path: string }
  | { kind: 'playlist'; app: string; stream: string; path: string }
  | { kind: 'segment'; app: string; stream: string; path: string }
  | { kind: 'invalid'; reason: string }
  | { kind: 'other' };

/** Extensions of the live objects at /{app}/{stream}.{ext}. */
const LIVE_EXTENSIONS = /^(.*)\.(flv|m3u8)$/;
/** File names under /{app}/{stream}/: conservative on purpose, no "..", no empty parts. */
const STREAM_OBJECT_PART = /^[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}$/;

/**
 * Classifies a request path (no query string): a live object, a stream object ('segment', or
 * 'playlist' for a nested .m3u8), 'invalid' for a path shaped like /{app}/… that breaks the contract,
 * 'other' for a single-segment path. Names are validated before anything else, so a bad name never
 * reaches a cache key, the upstream or a file path.
 */
export function parsePath(pathname: string): StreamPath {
  if (!pathname.startsWith('/')) return { kind: 'invalid', reason: 'path must start with /' };
  const parts = pathname.slice(1).split('/');
  if (parts.length < 2) return { kind: 'other' };
  let app = parts[0] ?? '';
  try {
    app = decodeURIComponent(app);
  } catch {
    return { kind: 'invalid', reason: 'bad percent-encoding' };
  }
  if (!isValidName(app)) return { kind: 'invalid', reason: 'invalid app name' };
  if (parts.length === 2) {
    const m = LIVE_EXTENSIONS.exec(parts[1] ?? '');
    if (!m) return { kind: 'invalid', reason: 'expected {stream}.flv or {stream}.m3u8' };
    const stream = m[1] ?? '';
    if (!isValidName(stream)) return { kind: 'invalid', reason: 'invalid stream name' };
    return { kind: m[2] === 'flv' ? 'flv' : 'playlist', app, stream, path: pathname };
  }
  const stream = parts[1] ?? '';
  if (!isValidName(stream)) return { kind: 'invalid', reason: 'invalid stream name' };
  if (parts.slice(2).some((p) => !STREAM_OBJECT_PART.test(p))) return { kind: 'invalid', reason: 'invalid segment path' };
  // Nested playlists (renditions) are playlists too: they get playlist freshness and prefetch.
  return { kind: pathname.endsWith('.m3u8') ? 'playlist' : 'segment', app, stream, path: pathname };
}
