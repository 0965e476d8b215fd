// Pure helpers of the pages for recording, DVR and snapshots (issue 12): the DVR URL with ?start=, the
// snapshot URL refreshed every SNAPSHOT_REFRESH_MS, the recordings list as the signal merges it, a
// thumbnail track's cues (#xywh) and sizes and durations as people read them. No DOM: node tests it.
import { get, httpUrl, isObj, list, num, str } from './common.js';
import { DVR_START_PARAM, SNAPSHOT_WIDTH_PARAM, isRecordingName, parseStreamKey, validNames } from '../../shared/url-contract.js';

/** Thumbnails on the dashboard and the streamer page are asked for again this often. */
export const SNAPSHOT_REFRESH_MS = 10_000;
export const THUMB_WIDTH = 160;

/** An ISO 8601 date-time with a zone (2026-11-30T08:00:00Z, …+01:00, with or without fractions), as ms; undefined otherwise. */
export function parseStart(s: string | null | undefined): number | undefined {
  if (!s || s.length > 40 || !/^\d{4}-\d\d-\d\dT\d\d:\d\d(:\d\d(\.\d{1,9})?)?(Z|[+-]\d\d:?\d\d)$/.test(s)) return undefined;
  const ms = Date.parse(s);
  return Number.isFinite(ms) ? ms : undefined;
}

/** The DVR playlist URL starting at `startMs` (ISO 8601 in UTC, as the origin reads ?start=); the URL as is without one. */
export function dvrUrlAt(url: string, startMs: number | undefined): string {
  if (startMs === undefined) return url;
  try {
    const u = new URL(url);
    u.searchParams.set(DVR_START_PARAM, new Date(startMs).toISOString());
    return u.toString();
  } catch {
    return url;
  }
}

/** A DVR playlist URL: /{app}/{stream}/dvr.m3u8. */
export const isDvrUrl = (url: string): boolean => /\/[A-Za-z0-9_-]{1,64}\/[A-Za-z0-9_-]{1,64}\/dvr\.m3u8(?:[?#]|$)/.test(url);

/**
 * The snapshot URL at width THUMB_WIDTH, with a parameter that changes every SNAPSHOT_REFRESH_MS so that
 * the browser asks again (an <img> with an unchanged src is not fetched again); the play token stays.
 */
export function thumbUrl(snapshot: string, nowMs: number): string | undefined {
  try {
    const u = new URL(snapshot);
    u.searchParams.set(SNAPSHOT_WIDTH_PARAM, String(THUMB_WIDTH));
    u.searchParams.set('t', String(Math.floor(nowMs / SNAPSHOT_REFRESH_MS)));
    return u.toString();
  } catch {
    return undefined;
  }
}

/** One recording as the recordings page shows it (the signal's GET /api/recordings entry). */
export interface RecordingRow {
  /** {app}/{stream}/{rec} */
  readonly id: string;
  readonly app: string;
  readonly stream: string;
  readonly name: string;
  readonly startedAt: number | undefined;
  readonly durationMs: number | undefined;
  readonly bytes: number | undefined;
  readonly state: string;
  readonly error: string | undefined;
  readonly part: number | undefined;
  /** The origin that holds it (its id), for DELETE ?origin=. */
  readonly origin: string | undefined;
  readonly vod: string | undefined;
  readonly file: string | undefined;
  readonly sprite: string | undefined;
  readonly vtt: string | undefined;
}

export function toRecordingRow(v: unknown): RecordingRow | undefined {
  if (!isObj(v)) return undefined;
  let app = str(get(v, 'app'));
  let stream = str(get(v, 'stream'));
  let name = str(get(v, 'name'));
  const id = str(get(v, 'id'));
  if ((!app || !stream || !name) && id) {
    const parts = id.split('/');
    const key = parseStreamKey(parts.slice(0, 2).join('/'));
    app ??= key?.app;
    stream ??= key?.stream;
    name ??= parts[2];
  }
  if (!validNames(app, stream) || name === undefined || !isRecordingName(name)) return undefined;
  const started = str(get(v, 'startedAt'));
  const startedMs = started === undefined ? undefined : Date.parse(started);
  return {
    id: `${app}/${stream}/${name}`,
    app: app as string,
    stream: stream as string,
    name,
    startedAt: startedMs !== undefined && Number.isFinite(startedMs) ? startedMs : undefined,
    durationMs: num(get(v, 'durationMs')),
    bytes: num(get(v, 'bytes')),
    state: str(get(v, 'state')) ?? '?',
    error: str(get(v, 'error')),
    part: num(get(v, 'part')),
    origin: str(get(v, 'origin.id')) ?? str(get(v, 'origin')),
    vod: httpUrl(get(v, 'urls.vod')),
    file: httpUrl(get(v, 'urls.file')),
    sprite: httpUrl(get(v, 'urls.sprite')),
    vtt: httpUrl(get(v, 'urls.vtt')),
  };
}

export const recordingRows = (body: unknown): RecordingRow[] =>
  list(body, 'recordings').map(toRecordingRow).filter((r): r is RecordingRow => r !== undefined);

/** One cue of a thumbnail track: [start, end) seconds and the sprite region it shows. */
export interface ThumbCue {
  readonly start: number;
  readonly end: number;
  /** The image, as the cue names it (relative to the track). */
  readonly url: string;
  readonly x: number;
  readonly y: number;
  readonly w: number;
  readonly h: number;
}

/** Cues read from one track, at most. */
export const MAX_THUMB_CUES = 10_000;

const vttTime = (s: string): number | undefined => {
  const m = /^(?:(\d{1,5}):)?(\d{2}):(\d{2})\.(\d{3})$/.exec(s.trim());
  return m ? Number(m[1] ?? 0) * 3600 + Number(m[2]) * 60 + Number(m[3]) + Number(m[4]) / 1000 : undefined;
};

/** The cues of a WebVTT thumbnail track (`00:00:10.000 --> 00:00:20.000` then `sprite.jpg#xywh=160,0,160,90`); malformed cues are skipped. */
export function parseThumbsVtt(text: string): ThumbCue[] {
  const cues: ThumbCue[] = [];
  const lines = text.split(/\r?\n/);
  for (let i = 0; i < lines.length && cues.length < MAX_THUMB_CUES; i++) {
    const line = lines[i] ?? '';
    const arrow = line.indexOf('-->');
    if (arrow < 0) continue;
    const start = vttTime(line.slice(0, arrow));
    const end = vttTime((line.slice(arrow + 3).trim().split(/\s+/)[0] ?? ''));
    const m = /^(.*)#xywh=(\d{1,5}),(\d{1,5}),(\d{1,5}),(\d{1,5})$/.exec((lines[i + 1] ?? '').trim());
    if (start === undefined || end === undefined || end < start || !m) continue;
    cues.push({ start, end, url: m[1] ?? '', x: Number(m[2]), y: Number(m[3]), w: Number(m[4]), h: Number(m[5]) });
    i++; // the cue's payload line is not the next cue's timing line
  }
  return cues;
}

/**
 * The image of a cue as a URL: relative to the track; the sprite URL the list gave (with its play token)
 * when the cue names that same file.
 */
export function cueImageUrl(cue: ThumbCue, trackUrl: string, spriteUrl: string | undefined): string | undefined {
  try {
    const u = new URL(cue.url, trackUrl);
    if (!/^https?:$/.test(u.protocol)) return undefined;
    if (spriteUrl && u.search === '' && new URL(spriteUrl).pathname === u.pathname) return spriteUrl;
    return u.toString();
  } catch {
    return undefined;
  }
}

/** The cue showing time `t` (seconds), if any. */
export const cueAt = (cues: readonly ThumbCue[], t: number): ThumbCue | undefined => cues.find((c) => t >= c.start && t < c.end);

export function fmtBytes(n: number | undefined): string {
  if (n === undefined || !Number.isFinite(n) || n < 0) return '–';
  const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];
  let v = n;
  let i = 0;
  while (v >= 1024 && i < units.length - 1) {
    v /= 1024;
    i++;
  }
  return i === 0 ? `${v} B` : `${v.toFixed(v < 10 ? 1 : 0)} ${units[i] as string}`;
}

/** h:mm:ss, or m:ss under an hour. */
export function fmtDuration(ms: number | undefined): string {
  if (ms === undefined || !Number.isFinite(ms) || ms < 0) return '–';
  const s = Math.floor(ms / 1000);
  const hh = Math.floor(s / 3600);
  const mm = Math.floor((s % 3600) / 60);
  const ss = String(s % 60).padStart(2, '0');
  return hh ? `${hh}:${String(mm).padStart(2, '0')}:${ss}` : `${mm}:${ss}`;
}
