// The cluster's recordings for the recordings page: GET /api/recordings (admin) asks every registered
// origin's own GET /api/recordings (admin, src/record) and merges the lists, adding where each recording
// is and absolute URLs on that origin: its VOD playlist and thumbnails (with a play token when play
// tokens are on) and its FLV file (admin). DELETE /api/recordings/{app}/{stream}/{rec} passes the delete
// on to the origin that holds it (?origin=ID), or to every origin when the caller does not say.
//
// The origins answer with the admin bearer of the cluster's keys, which the signal holds; what they
// answer is another process's word: read up to a size limit, every entry validated, the rest dropped.
import type { RequestHandler, Router } from 'express';
import { adminToken } from '../shared/keys.js';
import type { ClusterKeys } from '../shared/keys.js';
import { HttpError, reply } from '../shared/http.js';
import { RECORDINGS_API_PATH, isRecordingName, joinUrl, recordingApiPath, recordingFilePath, thumbsSpritePath, thumbsVttPath, isValidName, validNames, vodPlaylistPath } from '../shared/url-contract.js';
import type { ClusterView } from './placement.js';

/** An origin's answer larger than this is refused (about 20 000 entries). */
export const MAX_RECORDINGS_BODY_BYTES = 8 * 1024 * 1024;
/** Entries kept from one origin. */
const MAX_RECORDINGS_PER_ORIGIN = 20_000;
const STATES = new Set(['recording', 'done', 'interrupted', 'failed']);

export interface RecordingsContext {
  view(): Promise<ClusterView>;
  /** The operator-configured origin, asked when no origin is registered. */
  readonly fallbackOrigin: { readonly httpUrl: string | undefined };
  readonly keys: ClusterKeys | undefined;
  readonly timeoutMs: number;
  /** A play token for app/stream when play tokens are on. */
  playToken(app: string, stream: string): string | undefined;
}

export interface OriginRef {
  readonly id: string;
  readonly url: string;
}

/** One recording as the signal lists it: the origin's fields that pass validation, where it is, its URLs. */
export interface ClusterRecording {
  readonly id: string;
  readonly app: string;
  readonly stream: string;
  readonly name: string;
  readonly startedAt: string;
  readonly endedAt: string | null;
  readonly durationMs: number;
  readonly bytes: number;
  readonly state: string;
  readonly error?: string;
  readonly session: string | null;
  readonly part: number;
  readonly origin: OriginRef;
  readonly urls: { readonly vod: string; readonly file: string; readonly sprite: string | null; readonly vtt: string | null };
}

const obj = (v: unknown): Record<string, unknown> | undefined => (typeof v === 'object' && v !== null && !Array.isArray(v) ? (v as Record<string, unknown>) : undefined);
const finite = (v: unknown): number | undefined => (typeof v === 'number' && Number.isFinite(v) && v >= 0 ? v : undefined);
const shortStr = (v: unknown, max = 200): string | undefined => (typeof v === 'string' && v.length <= max ? v : undefined);
const isoOf = (v: unknown): string | undefined => {
  const s = shortStr(v, 40);
  return s !== undefined && Number.isFinite(Date.parse(s)) ? s : undefined;
};

/**
 * One origin's entry as the signal lists it; undefined when its names or required fields break the
 * contract. Thumbnails are linked when the origin says it has them (`thumbs`).
 */
function toClusterRecording(v: unknown, origin: OriginRef, token: (app: string, stream: string) => string | undefined): ClusterRecording | undefined {
  const e = obj(v);
  if (!e) return undefined;
  const app = shortStr(e.app, 64);
  const stream = shortStr(e.stream, 64);
  const name = shortStr(e.name, 19);
  const startedAt = isoOf(e.startedAt);
  const state = shortStr(e.state, 16);
  if (!validNames(app, stream) || name === undefined || !isRecordingName(name) || startedAt === undefined || state === undefined || !STATES.has(state)) return undefined;
  const a = app as string;
  const s = stream as string;
  const t = token(a, s);
  const signed = (path: string): string => joinUrl(origin.url, path) + (t ? `?token=${encodeURIComponent(t)}` : '');
  const thumbs = obj(e.thumbs) !== undefined;
  const error = shortStr(e.error, 200);
  return {
    id: `${a}/${s}/${name}`,
    app: a,
    stream: s,
    name,
    startedAt,
    endedAt: isoOf(e.endedAt) ?? null,
    durationMs: finite(e.durationMs) ?? 0,
    bytes: finite(e.bytes) ?? 0,
    state,
    ...(error !== undefined ? { error } : {}),
    session: shortStr(e.session, 19) ?? null,
    part: finite(e.part) ?? 0,
    origin,
    urls: {
      vod: signed(vodPlaylistPath(a, s, name)),
      file: joinUrl(origin.url, recordingFilePath(a, s, name)),
      sprite: thumbs ? signed(thumbsSpritePath(a, s, name)) : null,
      vtt: thumbs ? signed(thumbsVttPath(a, s, name)) : null,
    },
  };
}

/** The origins' lists merged: newest first, one entry per (origin, id). */
export function mergeRecordings(answers: readonly { origin: OriginRef; body: unknown }[], token: (app: string, stream: string) => string | undefined): ClusterRecording[] {
  const out: ClusterRecording[] = [];
  const seen = new Set<string>();
  for (const { origin, body } of answers) {
    const list = obj(body)?.recordings;
    if (!Array.isArray(list)) continue;
    for (const v of list.slice(0, MAX_RECORDINGS_PER_ORIGIN)) {
      const r = toClusterRecording(v, origin, token);
      if (!r || seen.has(`${origin.id} ${r.id}`)) continue;
      seen.add(`${origin.id} ${r.id}`);
      out.push(r);
    }
  }
  return out.sort((x, y) => Date.parse(y.startedAt) - Date.parse(x.startedAt) || (x.id < y.id ? -1 : x.id > y.id ? 1 : 0));
}

/** The origins to ask: the registered ones, else the operator-configured one. */
async function originsOf(ctx: RecordingsContext): Promise<OriginRef[]> {
  const view = await ctx.view();
  const registered = view.origins.map((o) => ({ id: o.id, url: o.publicUrl }));
  if (registered.length) return registered;
  return ctx.fallbackOrigin.httpUrl ? [{ id: 'origin', url: ctx.fallbackOrigin.httpUrl }] : [];
}

/** A request to an origin with the admin bearer; the body read up to MAX_RECORDINGS_BODY_BYTES. */
async function askOrigin(ctx: RecordingsContext, url: string, method: 'GET' | 'DELETE'): Promise<{ status: number; body: unknown }> {
  const headers: Record<string, string> = { accept: 'application/json' };
  if (ctx.keys) headers.authorization = `Bearer ${adminToken(ctx.keys)}`;
  const res = await fetch(url, { method, headers, signal: AbortSignal.timeout(ctx.timeoutMs) });
  const declared = Number(res.headers.get('content-length'));
  if (declared > MAX_RECORDINGS_BODY_BYTES) {
    await res.body?.cancel();
    throw new Error(`answer of ${declared} bytes, over ${MAX_RECORDINGS_BODY_BYTES}`);
  }
  const chunks: Uint8Array[] = [];
  let size = 0;
  const reader = res.body?.getReader();
  for (let r = await reader?.read(); reader && r && !r.done; r = await reader.read()) {
    size += r.value.byteLength;
    if (size > MAX_RECORDINGS_BODY_BYTES) {
      await reader.cancel().catch(() => undefined);
      throw new Error(`answer over ${MAX_RECORDINGS_BODY_BYTES} bytes`);
    }
    chunks.push(r.value);
  }
  const text = Buffer.concat(chunks).toString('utf8');
  let body: unknown;
  try {
    body = text ? (JSON.parse(text) as unknown) : undefined;
  } catch {
    body = undefined;
  }
  return { status: res.status, body };
}

const message = (err: unknown): string => (err instanceof Error ? err.message : String(err));

/** GET and DELETE /api/recordings on `r`, behind `admin`. */
export function addRecordingRoutes(r: Router, admin: RequestHandler, ctx: RecordingsContext): void {
  r.get(RECORDINGS_API_PATH, admin, async (req, res) => {
    const app = typeof req.query.app === 'string' ? req.query.app : undefined;
    const stream = typeof req.query.stream === 'string' ? req.query.stream : undefined;
    if ((app !== undefined && !isValidName(app)) || (stream !== undefined && !isValidName(stream))) {
      throw new HttpError(400, 'bad_request', 'app and stream must match [A-Za-z0-9_-]{1,64}');
    }
    const qs = new URLSearchParams({ ...(app ? { app } : {}), ...(stream ? { stream } : {}) }).toString();
    const origins = await originsOf(ctx);
    const errors: { origin: string; error: string }[] = [];
    const answers = await Promise.all(
      origins.map(async (origin) => {
        try {
          const got = await askOrigin(ctx, joinUrl(origin.url, `${RECORDINGS_API_PATH}${qs ? `?${qs}` : ''}`), 'GET');
          if (got.status !== 200) errors.push({ origin: origin.id, error: `HTTP ${got.status}` });
          return { origin, body: got.status === 200 ? got.body : undefined };
        } catch (err) {
          errors.push({ origin: origin.id, error: message(err) });
          return { origin, body: undefined };
        }
      }),
    );
    reply(res, 200, { recordings: mergeRecordings(answers, (a, s) => ctx.playToken(a, s)), origins: origins.length, errors });
  });

  r.delete(`${RECORDINGS_API_PATH}/:app/:stream/:rec`, admin, async (req, res) => {
    const { app, stream, rec } = req.params as { app: string; stream: string; rec: string };
    if (!validNames(app, stream) || !isRecordingName(rec)) throw new HttpError(400, 'bad_request', 'expected /api/recordings/{app}/{stream}/{YYYYMMDD-HHMMSS[-N]}');
    const wanted = typeof req.query.origin === 'string' ? req.query.origin : undefined;
    const origins = (await originsOf(ctx)).filter((o) => wanted === undefined || o.id === wanted);
    if (!origins.length) throw new HttpError(404, 'not_found', wanted ? `no origin ${wanted} is registered` : 'no origin is registered');
    const results = await Promise.all(
      origins.map(async (o) => {
        try {
          return { origin: o.id, ...(await askOrigin(ctx, joinUrl(o.url, recordingApiPath(app, stream, rec)), 'DELETE')) };
        } catch (err) {
          return { origin: o.id, status: 502, body: { error: 'origin_unreachable', message: message(err) } };
        }
      }),
    );
    // One origin holds it: its answer is the answer (deleted, or 409 while it is being recorded).
    const holder = results.find((x) => x.status >= 200 && x.status < 300) ?? results.find((x) => x.status !== 404 && x.status !== 502) ?? results[0];
    if (!holder || holder.status === 404) throw new HttpError(404, 'not_found', `no recording ${app}/${stream}/${rec}`);
    if (holder.status >= 200 && holder.status < 300) return reply(res, 200, { deleted: `${app}/${stream}/${rec}`, origin: holder.origin });
    const said = obj(holder.body);
    reply(res, holder.status === 502 ? 502 : holder.status, {
      error: shortStr(said?.error, 64) ?? 'origin_refused',
      message: shortStr(said?.message) ?? `origin ${holder.origin} answered HTTP ${holder.status}`,
    });
  });
}
