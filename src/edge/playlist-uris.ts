// The segment URIs of an HLS media playlist, which is all the prefetcher needs. A master playlist
// (variants, no EXTINF) or anything unreadable yields nothing: prefetch is an optimisation only.
import { PlaylistError, parseMediaPlaylist } from '../media/hls/playlist.js';

export function segmentUris(text: string): string[] {
  try {
    return parseMediaPlaylist(text).segments.map((s) => s.uri);
  } catch (err) {
    if (err instanceof PlaylistError) return [];
    throw err;
  }
}
