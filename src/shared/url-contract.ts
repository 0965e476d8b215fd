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
// Recording, DVR and snapshots (issue 12):
//   /{app}/{stream}.jpg                 the latest keyframe as JPEG (?width=): a live object with a
//                                       kind of its own in parsePath ('snapshot'); edges keep it 1 s    image/jpeg
//   /{app}/{stream}/dvr.m3u8            the time-shift (DVR) playlist: the live stream's segments kept on
//                                       disk for --dvr-window, EXT-X-PROGRAM-DATE-TIME on each, ?start=ISO8601
//                                       starts it at a wall-clock time; it lists the live segment URIs
//                                       ({seq}.ts / {seq}.m4s / init-{id}.mp4, relative), served from memory
//                                       or, once out of the live window, from disk: immutable either way
//   /{app}/{stream}/rec/{rec}.m3u8      a finished recording as a VOD playlist (rec: RECORDING_NAME)
//   /{app}/{stream}/rec/{rec}/{n}.ts    its segments (n: 0..; .m4s and init.mp4 for HEVC/AV1), remuxed
//                                       from the recorded FLV on request; thumbs.jpg (sprite) and
//                                       thumbs.vtt (WebVTT seek previews) beside them
//   /api/recordings                     origin, admin: the recordings (?app=&stream=); on the signal,
//                                       every origin's merged, with URLs on the origin holding each
//   /api/recordings/{app}/{stream}/{rec}        GET the entry, DELETE it
//   /api/recordings/{app}/{stream}/{rec}.flv    the file (HTTP Range)
//   /api/recordings/{app}/{stream}/{rec}/clip   ?from=&to= (seconds into the recording): an MP4 clip
//   /api/streams/{app}/{stream}/record          POST starts recording a live stream, DELETE stops it
// A recording's id is {app}/{stream}/{rec}; on disk it is {root}/{app}/{stream}/{YYYY-MM-DD}/{HHMMSS}[-N].flv
// (UTC), rec = {YYYYMMDD}-{HHMMSS}[-N].

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

/** A path of this contract on a node's base URL (http://host:port, with or without trailing slashes). */
export const joinUrl = (base: string, path: string): string => base.replace(/\/+$/, '') + path;

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

/**
 * Response header of an HTTP-FLV answer (origin and edge): the id of the hub publication it carries, new
 * for each publish (an edge's relay keeps one across its upstream reconnects). A relay that reconnects
 * compares it with the previous one: the same id means the upstream replays frames already forwarded,
 * another id a new publication whose frames are all new. Absent (an older or foreign upstream): unknown.
 */
export const PUBLICATION_HEADER = 'x-livecdn-publication';
/** What a relay accepts as a publication id (hub/stream.ts writes 16 hex digits); anything else counts as absent. */
export const PUBLICATION_ID = /^[A-Za-z0-9_-]{1,64}$/;
/**
 * Response header: ms the object has already aged upstream (Age is whole seconds, too coarse for a 1 s
 * playlist or snapshot). Set by edges on cached answers and by the origin on snapshots; read by edges.
 */
export const AGE_MS_HEADER = 'x-livecdn-age-ms';

// The control plane's per-stream routes that other parts call: the player asks the signal where to
// play, the signal asks each origin to drop a revoked stream.
export const playApiPath = (app: string, stream: string): string => `/api/play/${app}/${stream}`;
/** The signal's route for playApiPath (express syntax). */
export const PLAY_API_ROUTE = '/api/play/:app/:stream';
export const streamApiPath = (app: string, stream: string): string => `/api/streams/${app}/${stream}`;
/** Where a stream lives: the origins that hold it (RouteAnswer in shared/cluster.ts), for edges and origins. */
export const routeApiPath = (app: string, stream: string): string => `/api/route/${app}/${stream}`;
/** The signal's route for routeApiPath (express syntax). */
export const ROUTE_API_ROUTE = '/api/route/:app/:stream';

/** A recording's name: its start (UTC) as {YYYYMMDD}-{HHMMSS}, and -{N} when a second one starts in the same second. */
export const RECORDING_NAME = /^\d{8}-\d{6}(?:-\d{1,3})?$/;
export const isRecordingName = (s: string): boolean => RECORDING_NAME.test(s);
/** The one id of a recording in the API, logs, metrics and hooks. */
export const recordingId = (app: string, stream: string, rec: string): string => `${app}/${stream}/${rec}`;
/** The recordings list: an origin's own (RECORDINGS_API_ROUTE), and the signal's merge of every origin's. */
export const RECORDINGS_API_PATH = '/api/recordings';
export const recordingApiPath = (app: string, stream: string, rec: string): string => `/api/recordings/${recordingId(app, stream, rec)}`;
export const recordingFilePath = (app: string, stream: string, rec: string): string => `${recordingApiPath(app, stream, rec)}.flv`;
export const recordingClipPath = (app: string, stream: string, rec: string): string => `${recordingApiPath(app, stream, rec)}/clip`;
export const streamRecordPath = (app: string, stream: string): string => `${streamApiPath(app, stream)}/record`;
/** A recording's VOD playlist. */
export const vodPlaylistPath = (app: string, stream: string, rec: string): string => `/${app}/${stream}/rec/${rec}.m3u8`;
/** A VOD segment's URI as the VOD playlist lists it (relative to it); ext 'ts' or 'm4s'. */
export const vodSegmentUri = (rec: string, n: number, ext: 'ts' | 'm4s'): string => `${rec}/${n}.${ext}`;
/** A VOD playlist's init segment URI (fMP4 recordings), relative as vodSegmentUri. */
export const vodInitUri = (rec: string): string => `${rec}/init.mp4`;
/** A recording's thumbnails: the sprite and its WebVTT track (paths). */
export const thumbsSpritePath = (app: string, stream: string, rec: string): string => `/${app}/${stream}/rec/${rec}/thumbs.jpg`;
export const thumbsVttPath = (app: string, stream: string, rec: string): string => `/${app}/${stream}/rec/${rec}/thumbs.vtt`;
/** The DVR playlist of a live stream; ?start= (DVR_START_PARAM) starts it at a wall-clock time. */
export const dvrPlaylistPath = (app: string, stream: string): string => `/${app}/${stream}/dvr.m3u8`;
/** The DVR playlist's query parameter: an ISO 8601 date-time; the only one an edge passes on (and keys its cache on). */
export const DVR_START_PARAM = 'start';
/** A live segment's URI as the DVR playlist lists it (relative to /{app}/{stream}/dvr.m3u8); also its DVR file's name. */
export const dvrSegmentUri = (sequence: number, format: 'ts' | 'fmp4'): string => `${sequence}.${format === 'ts' ? 'ts' : 'm4s'}`;
export const dvrInitUri = (id: number): string => `init-${id}.mp4`;
/** ISO 8601 date-time as DVR_START_PARAM takes it: a date, a time, optional fraction, Z or an offset. */
const DVR_START = /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2}):(\d{2})(?:\.(\d{1,9}))?(Z|[+-]\d{2}:?\d{2})$/;
/**
 * A DVR_START_PARAM value as ms since the epoch, or undefined when it is not a valid date-time (a 400).
 * A '+' of an offset that arrived unescaped (decoded as a space) is taken as '+'.
 */
export function parseDvrStart(value: string): number | undefined {
  const m = value.length <= 40 ? DVR_START.exec(value.replace(/ (?=\d{2}:?\d{2}$)/, '+')) : null;
  if (!m) return undefined;
  const [y, mo, d, h, mi, sec] = m.slice(1, 7).map(Number) as [number, number, number, number, number, number];
  const days = new Date(Date.UTC(y, mo, 0)).getUTCDate();
  if (y < 1970 || mo < 1 || mo > 12 || d < 1 || d > days || h > 23 || mi > 59 || sec > 59) return undefined;
  const tz = m[8] ?? 'Z';
  const [tzH, tzM] = tz === 'Z' ? [0, 0] : [Number(tz.slice(1, 3)), Number(tz.slice(-2))];
  const offsetMin = (tz.startsWith('-') ? -1 : 1) * (tzH * 60 + tzM);
  if (tzM > 59 || Math.abs(offsetMin) > 18 * 60) return undefined;
  return Date.UTC(y, mo - 1, d, h, mi, sec, Number(`0.${m[7] ?? '0'}`) * 1000) - offsetMin * 60_000;
}
/** The latest snapshot of a live stream (?width=, SNAPSHOT_WIDTH_PARAM). */
export const snapshotPath = (app: string, stream: string): string => `/${app}/${stream}.jpg`;
export const SNAPSHOT_WIDTH_PARAM = 'width';
/** The widths a snapshot may be scaled to (pixels); anything else is a 400 at the origin and the edge. */
export const SNAPSHOT_WIDTH_MIN = 16;
export const SNAPSHOT_WIDTH_MAX = 3840;
/** A snapshot's ?width= value: undefined when absent (the stream's own size), null when not a bounded integer. */
export function parseSnapshotWidth(value: string | null): number | undefined | null {
  if (value === null) return undefined;
  if (!/^\d{1,5}$/.test(value)) return null;
  const w = Number(value);
  return w >= SNAPSHOT_WIDTH_MIN && w <= SNAPSHOT_WIDTH_MAX ? w : null;
}

export const CONTENT_TYPE = {
  flv: 'video/x-flv',
  playlist: 'application/vnd.apple.mpegurl',
  segment: 'video/mp2t',
  /** fMP4 init segment. */
  init: 'video/mp4',
  /** fMP4 segment and LL-HLS part. */
  fmp4: 'video/iso.segment',
  /** Snapshots and thumbnail sprites. */
  jpeg: 'image/jpeg',
  /** Thumbnail tracks. */
  vtt: 'text/vtt; charset=utf-8',
  /** MP4 clips of recordings. */
  mp4: 'video/mp4',
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
/** Captures app and stream. */
export const SNAPSHOT_ROUTE = /^\/([^/]+)\/([^/]+)\.jpg$/;
/** Captures app and stream. */
export const DVR_PLAYLIST_ROUTE = /^\/([^/]+)\/([^/]+)\/dvr\.m3u8$/;
/** Captures app, stream and the recording's name. */
export const VOD_PLAYLIST_ROUTE = /^\/([^/]+)\/([^/]+)\/rec\/([0-9-]{15,19})\.m3u8$/;
/** Captures app, stream, the recording's name, the segment number and the extension (ts|m4s). */
export const VOD_SEGMENT_ROUTE = /^\/([^/]+)\/([^/]+)\/rec\/([0-9-]{15,19})\/(\d{1,9})\.(ts|m4s)$/;
/** Captures app, stream and the recording's name. */
export const VOD_INIT_ROUTE = /^\/([^/]+)\/([^/]+)\/rec\/([0-9-]{15,19})\/init\.mp4$/;
/** Captures app, stream, the recording's name and the file (jpg: the sprite, vtt: the track). */
export const THUMBS_ROUTE = /^\/([^/]+)\/([^/]+)\/rec\/([0-9-]{15,19})\/thumbs\.(jpg|vtt)$/;
export const RECORDINGS_API_ROUTE = /^\/api\/recordings\/?$/;
/** Captures app, stream and the recording's name (GET the entry, DELETE). */
export const RECORDING_API_ROUTE = /^\/api\/recordings\/([^/]+)\/([^/]+)\/([0-9-]{15,19})$/;
/** Captures app, stream and the recording's name: the FLV file, with Range. */
export const RECORDING_FILE_ROUTE = /^\/api\/recordings\/([^/]+)\/([^/]+)\/([0-9-]{15,19})\.flv$/;
/** Captures app, stream and the recording's name. */
export const RECORDING_CLIP_ROUTE = /^\/api\/recordings\/([^/]+)\/([^/]+)\/([0-9-]{15,19})\/clip$/;
/** Captures app and stream: POST starts recording, DELETE stops it. */
export const STREAM_RECORD_ROUTE = /^\/api\/streams\/([^/]+)\/([^/]+)\/record$/;

export type StreamPath =
  | { kind: 'flv'; app: string; stream: string; path: string }
  | { kind: 'playlist'; app: string; stream: string; path: string }
  | { kind: 'snapshot'; app: string; stream: string; path: string }
  | { kind: 'segment'; app: string; stream: string; path: string }
  | { kind: 'invalid'; reason: string }
  | { kind: 'other' };

/** Extensions of the live objects at /{app}/{stream}.{ext}. */
const LIVE_EXTENSIONS = /^(.*)\.(flv|m3u8|jpg)$/;
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
    if (!m) return { kind: 'invalid', reason: 'expected {stream}.flv, {stream}.m3u8 or {stream}.jpg' };
    const stream = m[1] ?? '';
    if (!isValidName(stream)) return { kind: 'invalid', reason: 'invalid stream name' };
    return { kind: m[2] === 'flv' ? 'flv' : m[2] === 'jpg' ? 'snapshot' : 'playlist', app, stream, path: pathname };
  }
  const stream = parts[1] ?? '';
  if (!isValidName(stream)) return { kind: 'invalid', reason: 'invalid stream name' };
  if (parts.slice(2).some((p) => !STREAM_OBJECT_PART.test(p))) return { kind: 'invalid', reason: 'invalid segment path' };
  // Nested playlists (renditions) are playlists too: they get playlist freshness and prefetch.
  return { kind: pathname.endsWith('.m3u8') ? 'playlist' : 'segment', app, stream, path: pathname };
}
