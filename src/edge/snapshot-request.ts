// What a snapshot request asks the cache for: /{app}/{stream}.jpg at its own size or scaled (?width=).
// The width is part of the key, in canonical form and checked here, so a client cannot grow the cache
// past one object per allowed width or send the upstream anything but a valid width; the rest of the
// query (a play token) goes upstream untouched and stays out of the key.
import { parseSnapshotWidth, SNAPSHOT_WIDTH_MAX, SNAPSHOT_WIDTH_MIN, SNAPSHOT_WIDTH_PARAM } from '../shared/url-contract.js';
import type { CacheRequest } from './http-cache.js';

/** Classifies a snapshot request; `search` is '' or the query with its leading '?'. */
export function snapshotRequest(path: string, search: string): (CacheRequest & { ok: true }) | { ok: false; reason: string } {
  if (!search.includes(SNAPSHOT_WIDTH_PARAM)) return { ok: true, key: path, upstreamSearch: search, blocking: false };
  const params = new URLSearchParams(search);
  const all = params.getAll(SNAPSHOT_WIDTH_PARAM);
  if (all.length > 1) return { ok: false, reason: `${SNAPSHOT_WIDTH_PARAM} given more than once` };
  const width = parseSnapshotWidth(all[0] ?? null);
  if (width === null) return { ok: false, reason: `${SNAPSHOT_WIDTH_PARAM} must be an integer in ${SNAPSHOT_WIDTH_MIN}..${SNAPSHOT_WIDTH_MAX}` };
  if (width === undefined) return { ok: true, key: path, upstreamSearch: search, blocking: false };
  params.set(SNAPSHOT_WIDTH_PARAM, String(width));
  return { ok: true, key: `${path}?${SNAPSHOT_WIDTH_PARAM}=${width}`, upstreamSearch: `?${params.toString()}`, blocking: false };
}
