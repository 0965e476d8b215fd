// The URIs of an HLS media playlist that the prefetcher may fetch ahead of viewers: segments, init
// segments (EXT-X-MAP) and, in LL-HLS, parts (EXT-X-PART) and the preload hint (EXT-X-PRELOAD-HINT).
// A multivariant playlist (an ABR ladder's variants, no EXTINF) or anything unreadable yields nothing:
// prefetch is an optimisation only. Gap segments (EXT-X-GAP: a rendition lacks them) are not fetched.
// A VOD playlist (a recording's, EXT-X-PLAYLIST-TYPE:VOD) yields its init segments only: it never grows,
// and its viewers start at its beginning, not at its newest segments (each one a remux at the origin).
import { PlaylistError, parseMediaPlaylist } from '../media/hls/playlist.js';

export interface PlaylistUris {
  /** Complete segments, oldest first (gaps left out). */
  readonly segments: string[];
  /** Init segments (EXT-X-MAP), in the order they apply. */
  readonly maps: string[];
  /** LL-HLS parts listed, oldest first. */
  readonly parts: string[];
  /** LL-HLS: the part being produced (EXT-X-PRELOAD-HINT:TYPE=PART). */
  readonly preloadHint: string | undefined;
}

const NONE: PlaylistUris = { segments: [], maps: [], parts: [], preloadHint: undefined };

export function playlistUris(text: string): PlaylistUris {
  let p;
  try {
    p = parseMediaPlaylist(text);
  } catch (err) {
    if (err instanceof PlaylistError) return NONE;
    throw err;
  }
  const maps: string[] = [];
  const parts: string[] = [];
  for (const s of p.segments) {
    if (s.map !== undefined) maps.push(s.map);
    for (const part of s.parts ?? []) parts.push(part.uri);
  }
  if (p.openSegment?.map !== undefined) maps.push(p.openSegment.map);
  for (const part of p.trailingParts ?? []) parts.push(part.uri);
  const segments = p.playlistType === 'VOD' ? [] : p.segments.filter((s) => !s.gap).map((s) => s.uri);
  return { segments, maps, parts, preloadHint: p.preloadHint?.uri };
}
