// A playlist's stored state -> its m3u8 texts: the full playlist and, with LL-HLS, the delta update
// (_HLS_skip) and the position blocking requests are judged against. Pure; the origin renders once per
// change (a segment or part completes), never per request.
import { writeMediaPlaylist } from '../media/hls/playlist.js';
import type { MediaPlaylist, OpenSegmentTags, PlaylistPart, PlaylistSegment, RenditionReport } from '../media/hls/playlist.js';
import { fmp4SegmentUri, initUri, partUri, segmentUri } from '../shared/url-contract.js';
import type { ListedPosition, PartPosition } from './hls-directives.js';
import type { StoredPart } from './hls-parts.js';

/** What the playlist lists about a complete segment. */
export interface ListedSegment {
  readonly sequence: number;
  readonly durationS: number;
  readonly discontinuity: boolean;
  readonly format: 'ts' | 'fmp4';
  /** fMP4: the init segment it needs. */
  readonly initId: number | undefined;
  /** Wall-clock time of its first sample, epoch ms. */
  readonly programDateTime: number;
  /** ABR: a number this rendition has no segment for (EXT-X-GAP; its URI is a 404). */
  readonly gap?: boolean;
}

export interface LowLatencyState {
  readonly partTargetS: number;
  partsOf(sequence: number): readonly StoredPart[];
  /** Completed parts of the open segment. */
  readonly trailing: readonly StoredPart[];
  /** The open segment starts a discontinuity / needs this init (written before its parts). */
  readonly openDiscontinuity: boolean;
  readonly openInitId: number | undefined;
  /** The open segment's wall-clock start, epoch ms, once known. */
  readonly openProgramDateTime: number | undefined;
  /** The part a client may request before it exists (EXT-X-PRELOAD-HINT). */
  readonly hint: PartPosition | undefined;
}

export interface RenderInput {
  readonly stream: string;
  /** The live window, oldest first (not empty). */
  readonly segments: readonly ListedSegment[];
  /** The longest segment ever listed, s (TARGETDURATION never shrinks). */
  readonly maxDurationS: number;
  readonly discontinuitySequence: number;
  readonly endList: boolean;
  readonly ll?: LowLatencyState;
  /** LL-HLS with ABR: the sibling renditions' last segment and part. */
  readonly renditionReports?: readonly RenditionReport[];
}

export interface Rendered {
  readonly full: string;
  /** The delta update (EXT-X-SKIP), when it skips anything. */
  readonly delta: string | undefined;
  /** TARGETDURATION as written, s. */
  readonly targetDurationS: number;
  readonly position: ListedPosition;
}

/** Parts are listed for the segments of the last this many target durations (RFC 8216bis 4.4.4.9). */
const PART_LISTING_TARGETS = 3;
/** CAN-SKIP-UNTIL in target durations: the least RFC 8216bis 4.4.3.8 allows. */
const SKIP_TARGETS = 6;
/** PART-HOLD-BACK in part targets (RFC 8216bis 4.4.3.8: at least 3 recommended). */
const PART_HOLD_BACK_PARTS = 3;

const ms3 = (s: number): number => Math.round(s * 1000) / 1000;
const sum = (xs: readonly { durationS: number }[]): number => xs.reduce((n, x) => n + x.durationS, 0);

export function renderPlaylist(input: RenderInput): Rendered {
  const { stream, segments, ll } = input;
  // Rounded as the playlist writer rounds TARGETDURATION (RFC 8216 4.3.3.1), so both say the same.
  const targetDurationS = Math.max(1, Math.round(input.maxDurationS));
  const uriOf = (s: ListedSegment): string => (s.format === 'fmp4' ? fmp4SegmentUri(stream, s.sequence) : segmentUri(stream, s.sequence));
  const listedParts = (ps: readonly StoredPart[]): PlaylistPart[] =>
    ps.map((p) => ({ uri: partUri(stream, p.sequence, p.index), durationS: p.durationS, independent: p.independent }));

  // Seconds from each segment's start to the end of the last complete segment.
  const fromStart: number[] = new Array<number>(segments.length);
  for (let i = segments.length - 1, acc = 0; i >= 0; i--) {
    acc += segments[i]?.durationS ?? 0;
    fromStart[i] = acc;
  }
  const trailingS = ll ? sum(ll.trailing) : 0;

  let prevInit: number | undefined;
  const listed: PlaylistSegment[] = segments.map((s, i) => {
    const out: PlaylistSegment = { uri: uriOf(s), durationS: s.durationS, discontinuity: s.discontinuity, programDateTime: s.programDateTime };
    if (s.gap) out.gap = true;
    if (s.format === 'fmp4' && s.initId !== undefined && (i === 0 || s.initId !== prevInit)) out.map = initUri(stream, s.initId);
    prevInit = s.initId;
    // Every listed part ends within 3 target durations of the playlist's end (its trailing parts included).
    if (ll && (fromStart[i] ?? 0) + trailingS <= PART_LISTING_TARGETS * targetDurationS) {
      const parts = ll.partsOf(s.sequence);
      if (parts.length > 0) out.parts = listedParts(parts);
    }
    return out;
  });
  const last = segments[segments.length - 1];
  const lastSegment = last?.sequence ?? -1;
  const lastListedPart = ll?.trailing.at(-1) ?? (last ? ll?.partsOf(last.sequence).at(-1) : undefined);

  const playlist: MediaPlaylist = {
    targetDurationS,
    mediaSequence: segments[0]?.sequence ?? 0,
    discontinuitySequence: input.discontinuitySequence,
    segments: listed,
    endList: input.endList,
  };
  if (ll) {
    playlist.partTargetS = ll.partTargetS;
    playlist.serverControl = { canBlockReload: true, partHoldBackS: ms3(PART_HOLD_BACK_PARTS * ll.partTargetS), canSkipUntilS: SKIP_TARGETS * targetDurationS };
    if (!input.endList) {
      const open: OpenSegmentTags = { discontinuity: ll.openDiscontinuity };
      // A discontinuity needs its own date (the previous segment's end does not tell it).
      if (ll.openDiscontinuity && ll.openProgramDateTime !== undefined) open.programDateTime = ll.openProgramDateTime;
      if (ll.openInitId !== undefined && ll.openInitId !== last?.initId) open.map = initUri(stream, ll.openInitId);
      if (open.discontinuity || open.map !== undefined) playlist.openSegment = open;
      if (ll.trailing.length > 0) playlist.trailingParts = listedParts(ll.trailing);
      if (ll.hint) playlist.preloadHint = { uri: partUri(stream, ll.hint.sequence, ll.hint.index) };
    }
    if (input.renditionReports?.length) playlist.renditionReports = [...input.renditionReports];
  }
  const full = writeMediaPlaylist(playlist);

  // A delta update leaves out the segments that start further than CAN-SKIP-UNTIL from the end of the
  // last complete segment (the Skip Boundary).
  let skipped = 0;
  if (ll) while (skipped < segments.length - 1 && (fromStart[skipped] ?? 0) > SKIP_TARGETS * targetDurationS) skipped++;
  const delta = skipped > 0 ? writeMediaPlaylist({ ...playlist, skippedSegments: skipped }) : undefined;

  return {
    full,
    delta,
    targetDurationS,
    position: {
      lastSegment,
      lastPart: lastListedPart && { sequence: lastListedPart.sequence, index: lastListedPart.index },
      partTargetS: ll?.partTargetS ?? 0,
    },
  };
}

/**
 * The first segment whose parts are kept: those listed, and a target duration more for clients that
 * read the playlist just before a segment's parts left it.
 */
export function partsRetainedFrom(segments: readonly ListedSegment[], targetDurationS: number): number {
  let i = segments.length - 1;
  for (let acc = 0; i > 0 && acc < (PART_LISTING_TARGETS + 1) * targetDurationS; i--) acc += segments[i]?.durationS ?? 0;
  return segments[i]?.sequence ?? 0;
}
