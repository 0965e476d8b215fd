// Play authorisation, shared by the origin and the edge. With play tokens on, every request that serves
// media (.m3u8, segments, init segments, parts, .flv) needs a valid `?token=` signed with the cluster's
// play key: a guessable segment number alone gives nothing. A playlist served to a request that carried a
// token lists its URIs with that token, so players (hls.js, ffmpeg) carry it to the segments. The
// on_play hook is asked once per client address and stream for a while, not on every playlist refresh or
// segment.
import { TOKEN_PATTERN, verifyPlayToken } from '../shared/token.js';
import { newClientId, type HookAnswer, type HookEvent, type Hooks } from './hooks.js';
import { reply, type RouteHandler } from '../shared/http.js';
import { renditionParts, streamKey, validNames } from '../shared/url-contract.js';

const REASONS: Readonly<Record<string, string>> = {
  missing: 'a play token is required (?token=...)',
  malformed: 'the play token is malformed',
  expired: 'the play token has expired',
  forged: 'the play token is not valid for this stream',
};

/**
 * The request's `?token=`, only when it is shaped like a token: it is echoed into playlists, and a
 * decoded value with a newline would otherwise add lines of the client's choosing to them.
 */
export function playTokenOf(params: URLSearchParams): string | undefined {
  const t = params.get('token');
  return t !== null && TOKEN_PATTERN.test(t) ? t : undefined;
}

/**
 * undefined when the request may play app/stream; else why not. No key: play tokens are off. A token
 * for a source also plays its renditions ({stream}_{rung} and {stream}_source, url-contract.ts): the
 * multivariant playlist lists them with the viewer's token, and an edge, which knows no ladders, hands
 * every viewer its own token on every URI.
 */
export function playTokenRefusal(key: Buffer | undefined, app: string, stream: string, params: URLSearchParams): string | undefined {
  if (!key) return undefined;
  const token = params.get('token') ?? undefined;
  const r = verifyPlayToken(token, { app, stream }, key);
  if (r.ok) return undefined;
  const source = renditionParts(stream)?.stream;
  if (source !== undefined && verifyPlayToken(token, { app, stream: source }, key).ok) return undefined;
  return REASONS[r.reason] ?? 'play token refused';
}

// A URI line (anything not a tag or blank), or a URI="..." attribute of a tag: nested playlists, and the
// LL-HLS/fMP4 tags EXT-X-MAP, EXT-X-PART, EXT-X-PRELOAD-HINT, EXT-X-RENDITION-REPORT.
const URI_LINE = /^(?!#)(\S[^\r\n]*?)(?=\r?$)/gm;
const URI_ATTR = /URI="([^"\r\n]*)"/g;

function setToken(uri: string, token: string | undefined): string {
  const q = uri.indexOf('?');
  const path = q < 0 ? uri : uri.slice(0, q);
  const params = new URLSearchParams(q < 0 ? '' : uri.slice(q + 1));
  params.delete('token');
  if (token !== undefined) params.set('token', token);
  const search = params.toString();
  return search === '' ? path : `${path}?${search}`;
}

/**
 * The playlist with every URI carrying `token` (or none, replacing any token already there: a cached
 * playlist fetched with one viewer's token never hands it to another viewer).
 */
export function withPlayToken(playlist: string, token: string | undefined): string {
  if (token === undefined && !playlist.includes('token=')) return playlist;
  return playlist
    .replace(URI_LINE, (line: string) => setToken(line, token))
    .replace(URI_ATTR, (_m: string, uri: string) => `URI="${setToken(uri, token)}"`);
}

// Stands for the token while a playlist is rewritten once for all its viewers (PlaylistsForViewers).
// Shaped like a token, so it is serialised as any token is, with no escaping.
const TOKEN_PLACEHOLDER = '0.livecdn-play-token-placeholder-D2x8Qf7LzA0';

/**
 * withPlayToken for every viewer of a shared playlist body (an edge's cached copy). The rewrite runs
 * once per body, with a placeholder token; each viewer's copy is then the pieces around the placeholder
 * joined with its own token. Exact, because a token is written the same way wherever it lands: its
 * characters ([0-9.A-Za-z_-]) need no escaping and its position does not depend on its value.
 */
export class PlaylistsForViewers {
  private readonly byBody = new WeakMap<Buffer, { text: string; plain?: Buffer; pieces?: string[] }>();

  /** `body` with every URI carrying `token`, or none. */
  get(body: Buffer, token: string | undefined): Buffer {
    let e = this.byBody.get(body);
    if (!e) {
      e = { text: body.toString('utf8') };
      this.byBody.set(body, e);
    }
    if (token === undefined) return (e.plain ??= e.text.includes('token=') ? Buffer.from(withPlayToken(e.text, undefined), 'utf8') : body);
    if (e.text.includes(TOKEN_PLACEHOLDER)) return Buffer.from(withPlayToken(e.text, token), 'utf8');
    e.pieces ??= withPlayToken(e.text, TOKEN_PLACEHOLDER).split(TOKEN_PLACEHOLDER);
    return Buffer.from(e.pieces.join(token), 'utf8');
  }
}

export interface PlayDecisionOptions {
  /** How long an allowed client + stream is not asked again, ms. */
  readonly allowMs: number;
  /** How long a refusal stands, ms (short: a hook may let the client in later). */
  readonly refuseMs: number;
  /** Entries kept; the oldest goes first, so a client inventing addresses or streams cannot grow it. */
  readonly maxEntries: number;
}

const DEFAULT_PLAY_DECISIONS: PlayDecisionOptions = { allowMs: 30_000, refuseMs: 5_000, maxEntries: 10_000 };

interface Decision {
  readonly answer: Promise<HookAnswer>;
  until: number;
}

const ALLOWED: Promise<HookAnswer> = Promise.resolve({ ok: true });

/**
 * The on_play hook's answers for HLS, cached per client address + stream: players fetch a playlist every
 * second or two and a segment as often, and the hook is asked about a viewer, not about each request.
 * Concurrent requests of one client share the pending answer.
 */
export class PlayDecisions {
  private readonly cache = new Map<string, Decision>();

  constructor(
    private readonly hooks: Hooks,
    private readonly opts: PlayDecisionOptions = DEFAULT_PLAY_DECISIONS,
  ) {}

  get size(): number {
    return this.cache.size;
  }

  allow(event: HookEvent, protocol: string, now = Date.now()): Promise<HookAnswer> {
    if (!this.hooks.asksPlay) return ALLOWED;
    const key = `${event.remoteAddress} ${streamKey(event.app, event.stream)}`;
    const hit = this.cache.get(key);
    if (hit && now < hit.until) return hit.answer;
    this.cache.delete(key);
    // Held while pending (the hook has its own timeout); the answer sets how long it stands.
    const d: Decision = { answer: this.hooks.allowPlay(event, protocol), until: Infinity };
    void d.answer.then((a) => (d.until = Date.now() + (a.ok ? this.opts.allowMs : this.opts.refuseMs)));
    this.cache.set(key, d);
    if (this.cache.size > this.opts.maxEntries) {
      const oldest = this.cache.keys().next().value;
      if (oldest !== undefined) this.cache.delete(oldest);
    }
    return d.answer;
  }
}

/**
 * The origin's play check in front of a media route ({app}/{stream} params): the play token when `key`
 * is set, then the on_play hook through `decisions` (HLS; the FLV handler asks the hook per viewer).
 */
export function guardPlay(handler: RouteHandler, key: Buffer | undefined, decisions?: PlayDecisions): RouteHandler {
  return async (req, res, params, url) => {
    const [app, stream] = params;
    // Bad names are the handler's 400, before any hook is asked about them.
    if (!app || !stream || !validNames(app, stream)) return handler(req, res, params, url);
    const refused = playTokenRefusal(key, app, stream, url.searchParams);
    if (refused) return reply(res, 403, refused);
    if (decisions) {
      const event = { app, stream, query: Object.fromEntries(url.searchParams), remoteAddress: req.socket.remoteAddress ?? '', clientId: newClientId('hls') };
      const answer = await decisions.allow(event, 'hls');
      if (!answer.ok) return reply(res, 403, answer.reason);
    }
    return handler(req, res, params, url);
  };
}
