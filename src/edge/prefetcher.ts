// Prefetch: when a refreshed playlist lists segments this edge has not seen yet, fetch them before any
// viewer asks, so that even the first viewer of each segment gets a hit. Fetches go through the cache,
// so a viewer who asks meanwhile joins the prefetch instead of causing a second upstream request.
// New init segments (EXT-X-MAP) are fetched too. An LL-HLS playlist's viewers at the live edge load
// parts, not segments: there the edge fetches the preload hint, the part being produced, which the
// upstream streams as it grows, so viewers who ask for it (or for the part once it is listed) join a
// fetch already under way. Its segments are fetched when someone asks, like any miss.
import { parsePath } from '../shared/url-contract.js';
import { playlistUris } from './playlist-uris.js';

const MAX_PLAYLISTS = 10_000;

export interface PrefetchTarget {
  /** Starts a fetch of `path` (sending `search` upstream) into the cache unless it is cached or in flight. */
  prefetch(path: string, search: string): void;
}

export class Prefetcher {
  // Segment paths last seen per playlist; bounded by the number of live playlists.
  private readonly seen = new Map<string, Set<string>>();

  constructor(
    private readonly target: PrefetchTarget,
    /** On a playlist's first load, how many of its newest segments to fetch (players start near the end). */
    private readonly initialCount = 3,
  ) {}

  onPlaylist(playlistPath: string, body: Buffer): void {
    const uris = playlistUris(body.toString('utf8'));
    const refs = (list: readonly string[]): SegmentRef[] =>
      list.map((uri) => resolveSegment(playlistPath, uri)).filter((r): r is SegmentRef => r !== undefined);
    const maps = refs(uris.maps);
    const lowLatency = uris.preloadHint !== undefined || uris.parts.length > 0;
    const segments = refs(uris.segments);
    const wanted = lowLatency ? refs(uris.preloadHint !== undefined ? [uris.preloadHint] : []) : segments;
    const before = this.seen.get(playlistPath);
    const fresh = before ? [...maps, ...wanted].filter((s) => !before.has(s.path)) : [...maps, ...wanted.slice(-this.initialCount)];
    // Re-inserted so the map stays in recency order; ended streams' playlists fall off the front.
    this.seen.delete(playlistPath);
    this.seen.set(playlistPath, new Set([...maps, ...segments, ...wanted].map((s) => s.path)));
    if (this.seen.size > MAX_PLAYLISTS) {
      const oldest = this.seen.keys().next().value;
      if (oldest !== undefined) this.seen.delete(oldest);
    }
    for (const s of fresh) this.target.prefetch(s.path, s.search);
  }

  forget(playlistPath: string): void {
    this.seen.delete(playlistPath);
  }

  get playlists(): number {
    return this.seen.size;
  }
}

/** A segment of this edge's URL space: its path (the cache key) and the query its URI carries upstream. */
export interface SegmentRef {
  readonly path: string;
  /** '' or '?token=...': an upstream with play tokens on lists its segments with the token it was sent. */
  readonly search: string;
}

/** The edge path of a playlist entry, or undefined when it leaves this edge's URL space. */
export function resolveSegment(playlistPath: string, uri: string): SegmentRef | undefined {
  let url: URL;
  try {
    url = new URL(uri, 'http://edge.invalid' + playlistPath);
  } catch {
    return undefined;
  }
  if (url.host !== 'edge.invalid') return undefined;
  const c = parsePath(url.pathname);
  return c.kind === 'segment' ? { path: url.pathname, search: url.search } : undefined;
}
