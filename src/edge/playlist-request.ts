// What a playlist request asks the cache for. A plain reload is keyed by its path. An LL-HLS request
// carries delivery directives (RFC 8216bis 6.2.5: _HLS_msn, _HLS_part, _HLS_skip) that name a version of
// the playlist, so they are part of its key, in the fixed order of LLHLS_PARAMS and in canonical form:
// every viewer asking for the same version shares one cached object and one upstream request, whatever
// else its query holds (a play token, cache busters). Directives are checked here, before they reach a
// key or the upstream: numbers only, bounded length, no repeats, so a client cannot grow the cache or
// send the upstream anything but a well-formed directive.
//
// A DVR playlist (/{app}/{stream}/dvr.m3u8) is keyed the same way on its one parameter, ?start=: checked
// (an ISO 8601 date-time, else 400) and put in the key and the upstream query in one canonical form (UTC,
// ms), so that any spelling of the same time shares one cached playlist.
import { DVR_PLAYLIST_ROUTE, DVR_START_PARAM, LLHLS_MSN, LLHLS_PARAMS, LLHLS_PART, parseDvrStart } from '../shared/url-contract.js';

export interface PlaylistRequest {
  readonly ok: true;
  /** The cache key: the path, plus `?` and the directives present. */
  readonly key: string;
  /** The query sent upstream: the viewer's other parameters (a play token) and the canonical directives. */
  readonly upstreamSearch: string;
  /** `_HLS_msn` present: the upstream holds the response until that version exists. */
  readonly blocking: boolean;
}

export interface PlaylistRequestError {
  readonly ok: false;
  readonly reason: string;
}

/** RFC 8216bis 6.2.5.1: YES skips segments, v2 also date ranges. */
const SKIP = new Set(['YES', 'v2']);
/** Reserved for delivery directives (RFC 8216bis 6.2.5): one we do not know never reaches the key or the upstream. */
const DIRECTIVE_PREFIX = '_HLS_';

/** Classifies a playlist request; `search` is '' or the query with its leading '?'. */
export function playlistRequest(path: string, search: string): PlaylistRequest | PlaylistRequestError {
  if (DVR_PLAYLIST_ROUTE.test(path)) return dvrPlaylistRequest(path, search);
  // The common case costs one scan: a plain reload is keyed by its path, its query goes upstream as it is.
  if (!search.includes(DIRECTIVE_PREFIX)) return { ok: true, key: path, upstreamSearch: search, blocking: false };
  const params = new URLSearchParams(search);
  const values = new Map<string, string>();
  for (const name of LLHLS_PARAMS) {
    const all = params.getAll(name);
    if (all.length > 1) return { ok: false, reason: `${name} given more than once` };
    const v = all[0];
    if (v === undefined) continue;
    if (name === '_HLS_skip') {
      if (!SKIP.has(v)) return { ok: false, reason: '_HLS_skip must be YES or v2' };
      values.set(name, v);
    } else {
      if (!(name === '_HLS_msn' ? LLHLS_MSN : LLHLS_PART).test(v)) return { ok: false, reason: `${name} must be a decimal integer` };
      values.set(name, String(Number(v)));
    }
  }
  // RFC 8216bis 6.2.5.2: a part without its media sequence number is a Bad Request.
  if (values.has('_HLS_part') && !values.has('_HLS_msn')) return { ok: false, reason: '_HLS_part without _HLS_msn' };
  const directives = [...values].map(([k, v]) => `${k}=${v}`).join('&');
  const others = [...params].filter(([k]) => !k.startsWith(DIRECTIVE_PREFIX));
  const rest = new URLSearchParams(others).toString();
  const query = [rest, directives].filter((s) => s !== '').join('&');
  return {
    ok: true,
    key: directives === '' ? path : `${path}?${directives}`,
    upstreamSearch: query === '' ? '' : `?${query}`,
    blocking: values.has('_HLS_msn'),
  };
}

/** The DVR playlist: the play token and the canonical ?start= go upstream, ?start= is in the key. */
function dvrPlaylistRequest(path: string, search: string): PlaylistRequest | PlaylistRequestError {
  if (!search.includes(`${DVR_START_PARAM}=`)) return { ok: true, key: path, upstreamSearch: search, blocking: false };
  const params = new URLSearchParams(search);
  const starts = params.getAll(DVR_START_PARAM);
  // `includes` also matched a longer name (`restart=`): without `start` itself it is a plain reload.
  if (starts.length === 0) return { ok: true, key: path, upstreamSearch: search, blocking: false };
  if (starts.length > 1) return { ok: false, reason: `${DVR_START_PARAM} given more than once` };
  const ms = starts[0] === undefined ? undefined : parseDvrStart(starts[0]);
  if (ms === undefined) return { ok: false, reason: `${DVR_START_PARAM} must be an ISO 8601 date-time, e.g. 2026-11-30T09:00:00Z` };
  const start = new Date(ms).toISOString();
  const token = params.get('token');
  const upstream = new URLSearchParams(token === null ? [] : [['token', token]]);
  upstream.set(DVR_START_PARAM, start);
  return { ok: true, key: `${path}?${DVR_START_PARAM}=${start}`, upstreamSearch: `?${upstream.toString()}`, blocking: false };
}
