// The DVR playlist's text from the DVR index (dvr-store.ts): a live media playlist from the window's
// start (or from a chosen segment, with EXT-X-START there) to the newest segment written, with
// EXT-X-PROGRAM-DATE-TIME on every segment, EXT-X-DISCONTINUITY where the live playlist had one, and
// URIs relative to /{app}/{stream}/dvr.m3u8: the live segments' own ({seq}.ts|.m4s, init-{id}.mp4).
// Pure: the store renders it once per change and keeps the text.
import { writeMediaPlaylist } from '../media/hls/playlist.js';
import type { MediaPlaylist, PlaylistSegment } from '../media/hls/playlist.js';
import { dvrInitUri, dvrSegmentUri } from '../shared/url-contract.js';

/** What the DVR keeps of one segment in memory. */
export interface DvrEntry {
  readonly sequence: number;
  readonly durationS: number;
  /** EXT-X-PROGRAM-DATE-TIME, epoch ms. */
  readonly programDateTime: number;
  readonly discontinuity: boolean;
  readonly format: 'ts' | 'fmp4';
  readonly initId: number | undefined;
  /** An ABR number the rendition has no segment for (EXT-X-GAP, no file). */
  readonly gap: boolean;
  readonly bytes: number;
  /** Discontinuities up to and including this segment since the DVR of the stream began. */
  readonly discontinuities: number;
}

export interface DvrPlaylistOptions {
  readonly targetDurationS: number;
  /** The live playlist ended: EXT-X-ENDLIST. */
  readonly ended: boolean;
  /** Players start at the first listed segment (EXT-X-START:TIME-OFFSET=0), not at the live edge. */
  readonly startHere: boolean;
}

/** The index of the segment holding `ms` (wall clock): the last one starting at or before it; 0 before the first. */
export function entryIndexAt(entries: readonly DvrEntry[], ms: number): number {
  let lo = 0;
  let hi = entries.length - 1;
  let found = 0;
  while (lo <= hi) {
    const mid = (lo + hi) >> 1;
    if ((entries[mid] as DvrEntry).programDateTime <= ms) {
      found = mid;
      lo = mid + 1;
    } else hi = mid - 1;
  }
  return found;
}

/** The playlist listing entries[from..]; entries must not be empty and `from` must index one. */
export function dvrPlaylistText(entries: readonly DvrEntry[], from: number, opts: DvrPlaylistOptions): string {
  const first = entries[from] as DvrEntry;
  let prevInit: number | undefined;
  const segments: PlaylistSegment[] = [];
  for (let i = from; i < entries.length; i++) {
    const e = entries[i] as DvrEntry;
    const s: PlaylistSegment = {
      uri: dvrSegmentUri(e.sequence, e.format),
      durationS: e.durationS,
      discontinuity: e.discontinuity,
      programDateTime: e.programDateTime,
    };
    if (e.gap) s.gap = true;
    if (e.format === 'fmp4' && e.initId !== undefined && (i === from || e.initId !== prevInit)) s.map = dvrInitUri(e.initId);
    prevInit = e.initId;
    segments.push(s);
  }
  const playlist: MediaPlaylist = {
    targetDurationS: opts.targetDurationS,
    mediaSequence: first.sequence,
    // Discontinuities before the first listed segment (RFC 8216 4.3.3.3).
    discontinuitySequence: first.discontinuities - (first.discontinuity ? 1 : 0),
    segments,
    endList: opts.ended,
  };
  if (opts.startHere) playlist.start = { timeOffsetS: 0 };
  return writeMediaPlaylist(playlist);
}
