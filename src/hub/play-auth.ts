// Play authorisation, shared by the origin and the edge. With play tokens on, every request that serves
// media (.m3u8, segments, init segments, parts, .flv) needs a valid `?token=` signed with the cluster's
// play key for exactly the stream it names: a guessable segment number alone gives nothing, and a token
// for one stream opens no other. A playlist served to a request that carried a token lists its URIs with
// that token, so players (hls.js, ffmpeg) carry it to the segments; a multivariant playlist lists each
// variant with a token of its own (playlistTokens). The on_play hook is asked once per client address and
// stream for a while, not on every playlist refresh or segment.
import { TOKEN_PATTERN, signPlayToken, verifyPlayToken } from '../shared/token.js';
import { newClientId, type HookAnswer, type HookEvent, type Hooks } from './hooks.js';
import { reply, type RouteHandler } from '../shared/http.js';
import { SOURCE_RUNG, isValidName, renditionParts, streamKey, validNames } from '../shared/url-contract.js';

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
 * undefined when the request may play app/stream; else why not. No key: play tokens are off. The token
 * must be for this very stream: a rendition ({stream}_{rung}, {stream}_source) needs its own, which the
 * multivariant playlist hands out (playlistTokens) and the signal's play answer lists.
 */
export function playTokenRefusal(key: Buffer | undefined, app: string, stream: string, params: URLSearchParams): string | undefined {
  if (!key) return undefined;
  const r = verifyPlayToken(params.get('token') ?? undefined, { app, stream }, key);
  return r.ok ? undefined : (REASONS[r.reason] ?? 'play token refused');
}

/** Whom a playlist is served to. */
export interface PlaylistViewer {
  readonly app: string;
  /** The stream the playlist was requested as (`cam`, `cam_low`, `cam_source`). */
  readonly stream: string;
  /** The request's token (playTokenOf), already checked for app/stream when play tokens are on; none: URIs carry none. */
  readonly token: string | undefined;
  /** keys.play when play tokens are on: signs the derived tokens. None: the viewer's token goes on every URI. */
  readonly key: Buffer | undefined;
}

// A URI line (anything not a tag or blank), or a URI="..." attribute of a tag: nested playlists, and the
// LL-HLS/fMP4 tags EXT-X-MAP, EXT-X-PART, EXT-X-PRELOAD-HINT, EXT-X-RENDITION-REPORT.
const URI_LINE = /^(?!#)(\S[^\r\n]*?)(?=\r?$)/gm;
const URI_ATTR = /URI="([^"\r\n]*)"/g;

/**
 * The stream whose token a URI of `stream`'s playlist gets when it is not the viewer's own stream, or
 * undefined (the viewer's token). Only names under `{stream}_` are derived, so a token never reaches a
 * stream outside its own ladder: in a multivariant playlist, each variant `{stream}_{x}.m3u8` gets a
 * token for `{stream}_{x}`; in the source's media playlist `{s}_source.m3u8`, whose stream objects are
 * the source's (`{s}/…`, url-contract.ts), those get a token for `{s}`, which their routes check.
 * Anything else (segments of the stream itself, rendition reports) keeps the viewer's token.
 */
function derivedTarget(path: string, stream: string, multivariant: boolean): string | undefined {
  if (multivariant) {
    const name = path.endsWith('.m3u8') ? path.slice(0, -'.m3u8'.length) : '';
    return isValidName(name) && name.startsWith(`${stream}_`) ? name : undefined;
  }
  const parts = renditionParts(stream);
  return parts?.rung === SOURCE_RUNG && path.startsWith(`${parts.stream}/`) ? parts.stream : undefined;
}

function setToken(uri: string, token: string | undefined): string {
  const q = uri.indexOf('?');
  const path = q < 0 ? uri : uri.slice(0, q);
  const params = new URLSearchParams(q < 0 ? '' : uri.slice(q + 1));
  params.delete('token');
  if (token !== undefined) params.set('token', token);
  const search = params.toString();
  return search === '' ? path : `${path}?${search}`;
}

/** `playlist` with each URI's token replaced by `tokenOf(its derived target)` (none: no token). */
function rewriteTokens(playlist: string, stream: string, tokenOf: (target: string | undefined) => string | undefined): string {
  const multivariant = playlist.includes('#EXT-X-STREAM-INF');
  const set = (uri: string): string => {
    const q = uri.indexOf('?');
    return setToken(uri, tokenOf(derivedTarget(q < 0 ? uri : uri.slice(0, q), stream, multivariant)));
  };
  return playlist.replace(URI_LINE, set).replace(URI_ATTR, (_m: string, uri: string) => `URI="${set(uri)}"`);
}

/**
 * The token each target gets for this viewer: the viewer's own for undefined; for a derived target, one
 * signed for it that expires with the viewer's. Nothing is derived without a key (play tokens off: the
 * token is only echoed) or from a token that is not valid for the viewer's stream.
 */
function tokensOf(viewer: PlaylistViewer): (target: string | undefined) => string | undefined {
  const { app, stream, token, key } = viewer;
  let derived: Map<string, string> | undefined;
  let expSec: number | undefined | null;
  return (target) => {
    if (target === undefined || token === undefined || !key) return token;
    if (expSec === undefined) {
      const r = verifyPlayToken(token, { app, stream }, key);
      expSec = r.ok ? r.expSec : null;
    }
    if (expSec === null) return token;
    derived ??= new Map();
    let t = derived.get(target);
    if (t === undefined) derived.set(target, (t = signPlayToken({ app, stream: target, expSec }, key)));
    return t;
  };
}

/**
 * The playlist as `viewer` gets it: every URI carries the viewer's token, or the token derived for it
 * (derivedTarget); with no token, none (replacing any already there: a cached playlist fetched with one
 * viewer's token never hands it, or tokens derived from it, to another viewer).
 */
export function withPlayTokens(playlist: string, viewer: PlaylistViewer): string {
  if (viewer.token === undefined && !playlist.includes('token=')) return playlist;
  return rewriteTokens(playlist, viewer.stream, tokensOf(viewer));
}

// Stand for the tokens while a playlist is rewritten once for all its viewers (PlaylistsForViewers): slot
// i is the i-th distinct target, the viewer's own token first. Shaped like a token (43 characters after
// the dot), so each is serialised as any token is, with no escaping.
const SLOT_PREFIX = '0.livecdn-play-token-slot-';
const slot = (i: number): string => `${SLOT_PREFIX}${String(i).padStart(19, '0')}`;
const SLOTS = new RegExp(`${SLOT_PREFIX.replace('.', '\\.')}(\\d{19})`);

interface Template {
  readonly stream: string;
  /** The text around the slots and the slot numbers in between: pieces[0] slots[0] pieces[1] slots[1] … */
  readonly pieces: readonly string[];
  readonly slots: readonly number[];
  /** The target of each slot number (0: the viewer's own token). */
  readonly targets: readonly (string | undefined)[];
}

function templateOf(text: string, stream: string): Template {
  const targets: (string | undefined)[] = [undefined];
  const rewritten = rewriteTokens(text, stream, (target) => {
    let i = targets.indexOf(target);
    if (i < 0) i = targets.push(target) - 1;
    return slot(i);
  });
  // split with a capture group alternates text and slot numbers.
  const split = rewritten.split(SLOTS);
  return {
    stream,
    pieces: split.filter((_, i) => i % 2 === 0),
    slots: split.filter((_, i) => i % 2 === 1).map(Number),
    targets,
  };
}

/**
 * withPlayTokens for every viewer of a shared playlist body (an edge's cached copy). The rewrite runs
 * once per body, with a placeholder per token it needs; each viewer's copy is then the pieces around the
 * placeholders joined with its own tokens. Exact, because a token is written the same way wherever it
 * lands: its characters ([0-9.A-Za-z_-]) need no escaping and its position does not depend on its value.
 */
export class PlaylistsForViewers {
  private readonly byBody = new WeakMap<Buffer, { text: string; plain?: Buffer; template?: Template }>();

  /** `body` as `viewer` gets it (withPlayTokens). */
  get(body: Buffer, viewer: PlaylistViewer): Buffer {
    let e = this.byBody.get(body);
    if (!e) {
      e = { text: body.toString('utf8') };
      this.byBody.set(body, e);
    }
    if (viewer.token === undefined) return (e.plain ??= e.text.includes('token=') ? Buffer.from(withPlayTokens(e.text, viewer), 'utf8') : body);
    if (e.text.includes(SLOT_PREFIX)) return Buffer.from(withPlayTokens(e.text, viewer), 'utf8');
    if (e.template?.stream !== viewer.stream) e.template = templateOf(e.text, viewer.stream);
    const { pieces, slots, targets } = e.template;
    const tokenOf = tokensOf(viewer);
    const tokens = targets.map((target) => tokenOf(target) ?? '');
    let out = pieces[0] ?? '';
    for (let i = 0; i < slots.length; i++) out += (tokens[slots[i] ?? 0] ?? '') + (pieces[i + 1] ?? '');
    return Buffer.from(out, 'utf8');
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
