// HLS media playlists (RFC 8216 4.3): the writer the origin serves, and a small parser for tests and edges.
import { MediaFormatError } from '../error.js';

export interface PlaylistSegment {
  uri: string;
  durationS: number;
  discontinuity: boolean;
}

export interface MediaPlaylist {
  targetDurationS: number;
  mediaSequence: number;
  discontinuitySequence: number;
  segments: PlaylistSegment[];
  endList: boolean;
  version?: number;
}

/** Not a media playlist we can read. The only error parseMediaPlaylist throws. */
export class PlaylistError extends MediaFormatError {
  override name = 'PlaylistError';
}

// EXTINF is printed with 3 decimals, so the target duration must cover the rounded value (RFC 8216 4.3.3.1).
const rounded = (s: number): number => Math.round(s * 1000) / 1000;

export function writeMediaPlaylist(p: MediaPlaylist): string {
  const maxExtinf = p.segments.reduce((m, s) => Math.max(m, rounded(s.durationS)), 0);
  // A tiny epsilon keeps 2.000 at 2 despite float noise; TARGETDURATION is a whole number of seconds.
  const target = Math.max(1, Math.ceil(p.targetDurationS - 1e-9), Math.ceil(maxExtinf - 1e-9));
  const lines = ['#EXTM3U', `#EXT-X-VERSION:${p.version ?? 3}`, `#EXT-X-TARGETDURATION:${target}`, `#EXT-X-MEDIA-SEQUENCE:${p.mediaSequence}`];
  if (p.discontinuitySequence > 0) lines.push(`#EXT-X-DISCONTINUITY-SEQUENCE:${p.discontinuitySequence}`);
  for (const s of p.segments) {
    if (s.discontinuity) lines.push('#EXT-X-DISCONTINUITY');
    lines.push(`#EXTINF:${rounded(s.durationS).toFixed(3)},`, s.uri);
  }
  if (p.endList) lines.push('#EXT-X-ENDLIST');
  return lines.join('\n') + '\n';
}

/** Reads the tags writeMediaPlaylist writes (and ignores the others). Throws PlaylistError. */
export function parseMediaPlaylist(text: string): MediaPlaylist {
  const lines = text.split(/\r?\n/).map((l) => l.trim());
  if (lines[0] !== '#EXTM3U') throw new PlaylistError('missing #EXTM3U');
  const out: MediaPlaylist = { targetDurationS: NaN, mediaSequence: 0, discontinuitySequence: 0, segments: [], endList: false };
  const num = (v: string, tag: string): number => {
    const n = Number(v);
    if (v === '' || !Number.isFinite(n) || n < 0) throw new PlaylistError(`bad ${tag} value "${v}"`);
    return n;
  };
  let duration: number | undefined;
  let discontinuity = false;
  for (const line of lines.slice(1)) {
    if (line === '') continue;
    if (!line.startsWith('#')) {
      if (duration === undefined) throw new PlaylistError(`segment "${line}" without #EXTINF`);
      out.segments.push({ uri: line, durationS: duration, discontinuity });
      duration = undefined;
      discontinuity = false;
      continue;
    }
    const colon = line.indexOf(':');
    const tag = colon < 0 ? line : line.slice(0, colon);
    const value = colon < 0 ? '' : line.slice(colon + 1);
    switch (tag) {
      case '#EXT-X-VERSION':
        out.version = num(value, tag);
        break;
      case '#EXT-X-TARGETDURATION':
        out.targetDurationS = num(value, tag);
        break;
      case '#EXT-X-MEDIA-SEQUENCE':
        out.mediaSequence = num(value, tag);
        break;
      case '#EXT-X-DISCONTINUITY-SEQUENCE':
        out.discontinuitySequence = num(value, tag);
        break;
      case '#EXTINF':
        duration = num(value.split(',')[0] ?? '', tag);
        break;
      case '#EXT-X-DISCONTINUITY':
        discontinuity = true;
        break;
      case '#EXT-X-ENDLIST':
        out.endList = true;
        break;
      case '#EXT-X-STREAM-INF':
      case '#EXT-X-MEDIA':
        throw new PlaylistError('a master playlist, not a media playlist');
      default:
        break;
    }
  }
  if (Number.isNaN(out.targetDurationS)) throw new PlaylistError('missing #EXT-X-TARGETDURATION');
  return out;
}
