// The LL-HLS / fMP4 conformance checker: one check per machine-checkable rule of RFC 8216bis (and of our
// URL contract where the RFC leaves naming open). checkMediaPlaylist judges one playlist text,
// checkReloadPair two successive reloads, checkBlocking a live server's Delivery Directives,
// checkMultivariantPlaylist an ABR ladder's multivariant playlist. Each returns violations as
// "<rule id>: <what>", empty when the input conforms; RULES lists the ids.
import { PlaylistError, parseMediaPlaylist, parseMultivariantPlaylist, requiredVersion, type MediaPlaylist, type PlaylistPart, type PlaylistSegment } from '../../src/media/hls/playlist.js';

export interface Rule {
  readonly id: string;
  readonly description: string;
}

export const RULES: readonly Rule[] = [
  { id: 'parse', description: 'the text parses as a media playlist (4.1, 4.2 attribute lists, 4.4 tag syntax)' },
  { id: 'tag-once', description: 'VERSION, TARGETDURATION, MEDIA-SEQUENCE, DISCONTINUITY-SEQUENCE, INDEPENDENT-SEGMENTS, PART-INF, SERVER-CONTROL, SKIP, ENDLIST appear at most once (4.4.1.2, 4.4.2, 4.4.3, 4.4.5)' },
  { id: 'header-first', description: 'MEDIA-SEQUENCE and DISCONTINUITY-SEQUENCE come before the first segment and any EXT-X-DISCONTINUITY (4.4.3.2-3)' },
  { id: 'version', description: 'EXT-X-VERSION is at least what the tags need: 3 decimal EXTINF, 6 EXT-X-MAP, 9 EXT-X-SKIP (8)' },
  { id: 'version-minimal', description: 'EXT-X-VERSION is no higher than the tags need (6.2.1 SHOULD NOT)' },
  { id: 'target-duration', description: 'TARGETDURATION >= 1 and every EXTINF rounded to the nearest integer <= TARGETDURATION (4.4.3.1)' },
  { id: 'part-inf', description: 'EXT-X-PART-INF is present when the playlist lists parts or a part preload hint (4.4.3.7)' },
  { id: 'part-duration', description: 'every part DURATION <= PART-TARGET (4.4.4.9)' },
  { id: 'part-min-duration', description: 'every part >= 85% of PART-TARGET, except INDEPENDENT parts, the last part of a segment and the newest listed part (4.4.4.9)' },
  { id: 'part-sum', description: "a segment's parts add up to its EXTINF (within 1 ms per part)" },
  { id: 'part-tags-first', description: "a segment's DISCONTINUITY, MAP and PROGRAM-DATE-TIME come before its first EXT-X-PART (4.4.4.9)" },
  { id: 'part-hold-back', description: 'with PART-INF, SERVER-CONTROL has PART-HOLD-BACK >= 3 x PART-TARGET (RFC MUST 2x, SHOULD 3x; we promise 3x) (4.4.3.8)' },
  { id: 'hold-back', description: 'HOLD-BACK, when present, >= 3 x TARGETDURATION (4.4.3.8)' },
  { id: 'can-skip-until', description: 'CAN-SKIP-UNTIL, when present, >= 6 x TARGETDURATION (4.4.3.8)' },
  { id: 'parts-live-edge', description: 'parts are listed only on the last segments, each ending within 3 x TARGETDURATION of the playlist end (6.2.2)' },
  { id: 'part-uri-unique', description: 'part URIs are unique and differ from every segment URI' },
  { id: 'uri-numbering', description: 'URL contract: the segment with MSN m is {m}.m4s|.ts and its part i is {m}.{i}.m4s, parts numbered 0,1,2..' },
  { id: 'preload-hint-next', description: 'the PART preload hint names the part right after the last listed one (next index, or part 0 of the next MSN) (6.2.6)' },
  { id: 'preload-hint-endlist', description: 'no EXT-X-PRELOAD-HINT in a playlist with EXT-X-ENDLIST (4.4.5.3)' },
  { id: 'independent-keyframe', description: 'INDEPENDENT=YES exactly on the parts that start with a keyframe (keyframe oracle from the bytes) (4.4.4.9)' },
  { id: 'independent-first-part', description: 'with EXT-X-INDEPENDENT-SEGMENTS, the first part of every segment is INDEPENDENT=YES (4.4.2.1)' },
  { id: 'map-in-force', description: 'once any EXT-X-MAP appears, the first listed segment (or open segment) has one in force (4.4.4.5)' },
  { id: 'pdt-monotonic', description: 'PROGRAM-DATE-TIME increases from segment to segment and, without a discontinuity, equals the previous PDT + EXTINF within tolerance (6.2.1)' },
  { id: 'pdt-on-discontinuity', description: 'when PDT is used, every segment with EXT-X-DISCONTINUITY has one (6.2.1)' },
  { id: 'skip-allowed', description: 'EXT-X-SKIP only with CAN-SKIP-UNTIL and without EXT-X-ENDLIST (6.2.5.1)' },
  { id: 'skip-count', description: 'a delta update matches its full playlist: same sequences, SKIPPED-SEGMENTS + listed = full count, listed = the full tail (4.4.5.2)' },
  { id: 'skip-boundary', description: 'a delta skips exactly the segments further than CAN-SKIP-UNTIL from the end of the last segment (6.2.5.1)' },
  { id: 'reload-sequence', description: 'across reloads MEDIA-SEQUENCE never decreases; a segment keeps its MSN, URI and duration; removal only from the start (6.2.2)' },
  { id: 'reload-discontinuity', description: 'across reloads DISCONTINUITY-SEQUENCE never decreases and each segment keeps its discontinuity sequence number (6.2.2)' },
  { id: 'reload-target-duration', description: 'TARGETDURATION does not change across reloads (6.2.1)' },
  { id: 'reload-min-duration', description: 'segments are removed only while the live playlist stays >= 3 x TARGETDURATION long (6.2.2)' },
  { id: 'reload-parts', description: 'listed parts never change; a part leaves only from the oldest end; the open segment keeps its parts when it completes (6.2.2)' },
  { id: 'reload-skip-merge', description: 'a delta update names only segments the previous reload had, so the client can merge it (6.2.5.1)' },
  { id: 'reload-endlist', description: 'once EXT-X-ENDLIST appears it stays, and nothing is added after it (6.2.1)' },
  { id: 'block-part', description: '_HLS_msn=M&_HLS_part=P for a part not yet produced is held, then answered 200 with that part listed (6.2.5.2)' },
  { id: 'block-msn', description: '_HLS_msn=M for a segment not yet produced is held, then answered 200 with MSN M listed (6.2.5.2)' },
  { id: 'block-msn-too-far', description: '_HLS_msn more than 2 beyond the last segment answers 400 at once (6.2.5.2)' },
  { id: 'block-part-without-msn', description: '_HLS_part without _HLS_msn answers 400 (6.2.5.2)' },
  { id: 'block-skip', description: '_HLS_skip=YES answers a delta update that passes the skip rules against the full playlist (6.2.5.1)' },
  { id: 'block-preload-hint', description: 'a request for the hinted part is held until the part exists and answers exactly its bytes (6.2.6)' },
  { id: 'gap-no-parts', description: 'a segment marked EXT-X-GAP lists no parts (it has no media) (4.4.4.7)' },
  { id: 'mv-parse', description: 'the text parses as a multivariant playlist: each EXT-X-STREAM-INF is followed by its URI (4.4.6.2)' },
  { id: 'mv-bandwidth', description: 'every EXT-X-STREAM-INF has BANDWIDTH > 0, and AVERAGE-BANDWIDTH (when present) <= BANDWIDTH (4.4.6.2)' },
  { id: 'mv-codecs', description: 'every variant has CODECS (4.4.6.2 SHOULD; we always know them)' },
  { id: 'mv-resolution', description: 'every variant whose CODECS name video has RESOLUTION and FRAME-RATE (4.4.6.2 SHOULD)' },
  { id: 'mv-uri', description: 'URL contract: every variant URI is a sibling {stream}.m3u8 (query allowed), listed once' },
  { id: 'mv-order', description: 'variants after the first are listed by decreasing BANDWIDTH (source first, then the rungs highest first)' },
];

/** Our URL contract (src/shared/url-contract.ts): `{stream}/{seq}.m4s` and `{stream}/{seq}.{part}.m4s`. */
function contractPartId(uri: string): { msn: number; part: number } | undefined {
  const m = /(?:^|\/)(\d+)\.(\d+)\.m4s(?:\?.*)?$/.exec(uri);
  return m ? { msn: Number(m[1]), part: Number(m[2]) } : undefined;
}
function contractSegmentMsn(uri: string): number | undefined {
  const m = /(?:^|\/)(\d+)\.(?:m4s|ts)(?:\?.*)?$/.exec(uri);
  return m ? Number(m[1]) : undefined;
}

export interface CheckOptions {
  /** Whether a part (by URI) starts with a keyframe, as only its bytes tell (see fetchKeyframeOracle); undefined: unknown. */
  readonly keyframe?: (partUri: string) => boolean | undefined;
  /** The full playlist text a delta update is compared with (skip-count, skip-boundary). */
  readonly full?: string;
  /** How far a PDT may be from the previous PDT + EXTINF (default 50 ms). */
  readonly pdtToleranceMs?: number;
  /** Reads (MSN, part index) from a part URI; default our URL contract. Return undefined to skip uri-numbering. */
  readonly partId?: (uri: string) => { msn: number; part: number } | undefined;
}

const EPS = 0.0015; // durations are printed to the ms
const ONCE_TAGS = ['#EXT-X-VERSION', '#EXT-X-TARGETDURATION', '#EXT-X-MEDIA-SEQUENCE', '#EXT-X-DISCONTINUITY-SEQUENCE', '#EXT-X-INDEPENDENT-SEGMENTS', '#EXT-X-PART-INF', '#EXT-X-SERVER-CONTROL', '#EXT-X-SKIP', '#EXT-X-ENDLIST'];
const SEGMENT_TAGS = new Set(['#EXT-X-DISCONTINUITY', '#EXT-X-MAP', '#EXT-X-PROGRAM-DATE-TIME']);

const tagOf = (line: string): string => {
  const colon = line.indexOf(':');
  return colon < 0 ? line : line.slice(0, colon);
};

/** Rules only the line order shows (the parser keeps no order). */
function lineRules(text: string, out: string[]): void {
  const counts = new Map<string, number>();
  let segmentStarted = false;
  let sawDiscontinuity = false;
  let partSeen = false;
  for (const raw of text.split('\n')) {
    const line = raw.trim();
    if (line === '') continue;
    if (!line.startsWith('#')) {
      segmentStarted = true;
      partSeen = false;
      continue;
    }
    const tag = tagOf(line);
    counts.set(tag, (counts.get(tag) ?? 0) + 1);
    if (tag === '#EXTINF' || tag === '#EXT-X-PART') segmentStarted = true;
    if (tag === '#EXT-X-DISCONTINUITY') sawDiscontinuity = true;
    if ((tag === '#EXT-X-MEDIA-SEQUENCE' || tag === '#EXT-X-DISCONTINUITY-SEQUENCE') && segmentStarted) out.push(`header-first: ${tag} after the first segment`);
    if (tag === '#EXT-X-DISCONTINUITY-SEQUENCE' && sawDiscontinuity) out.push('header-first: EXT-X-DISCONTINUITY-SEQUENCE after an EXT-X-DISCONTINUITY');
    if (tag === '#EXT-X-PART') partSeen = true;
    if (SEGMENT_TAGS.has(tag) && partSeen) out.push(`part-tags-first: ${line} after the segment's first EXT-X-PART`);
  }
  for (const t of ONCE_TAGS) if ((counts.get(t) ?? 0) > 1) out.push(`tag-once: ${t} appears ${counts.get(t)} times`);
}

/** Every listed part with its parent MSN, index and end time (seconds from the first listed segment's start). */
interface Placed {
  readonly part: PlaylistPart;
  readonly msn: number;
  readonly index: number;
  readonly endS: number;
  readonly lastOfSegment: boolean;
}

function placeParts(p: MediaPlaylist): { parts: Placed[]; endS: number; lastCompleteEndS: number; firstMsn: number } {
  const firstMsn = p.mediaSequence + (p.skippedSegments ?? 0);
  const parts: Placed[] = [];
  let t = 0;
  p.segments.forEach((s, i) => {
    let pt = t;
    (s.parts ?? []).forEach((part, j, all) => {
      pt += part.durationS;
      parts.push({ part, msn: firstMsn + i, index: j, endS: pt, lastOfSegment: j === all.length - 1 });
    });
    t += s.durationS;
  });
  const lastCompleteEndS = t;
  for (const [j, part] of (p.trailingParts ?? []).entries()) {
    t += part.durationS;
    parts.push({ part, msn: firstMsn + p.segments.length, index: j, endS: t, lastOfSegment: false });
  }
  return { parts, endS: t, lastCompleteEndS, firstMsn };
}

function headerRules(p: MediaPlaylist, text: string, out: string[]): void {
  // requiredVersion is the writer's (it always writes decimal EXTINF, so never says less than 3).
  const decimalExtinf = /^#EXTINF:[0-9]*\./m.test(text);
  const need = p.skippedSegments !== undefined || requiredVersion(p) > 3 ? requiredVersion(p) : decimalExtinf ? 3 : 1;
  const declared = p.version ?? 1;
  if (declared < need) out.push(`version: EXT-X-VERSION ${p.version ?? '(none)'} but the tags need ${need}`);
  if (declared > need) out.push(`version-minimal: EXT-X-VERSION ${declared} where ${need} would do`);
  if (p.targetDurationS < 1 || !Number.isInteger(p.targetDurationS)) out.push(`target-duration: TARGETDURATION ${p.targetDurationS} is not an integer >= 1`);
  for (const s of p.segments) {
    if (Math.round(s.durationS) > p.targetDurationS) out.push(`target-duration: ${s.uri} EXTINF ${s.durationS} rounds above TARGETDURATION ${p.targetDurationS}`);
  }
  const hasParts = p.segments.some((s) => s.parts?.length) || (p.trailingParts?.length ?? 0) > 0 || p.preloadHint !== undefined;
  if (hasParts && p.partTargetS === undefined) out.push('part-inf: parts or a part hint without EXT-X-PART-INF');
  const c = p.serverControl;
  if (p.partTargetS !== undefined) {
    if (c?.partHoldBackS === undefined) out.push('part-hold-back: EXT-X-PART-INF without SERVER-CONTROL PART-HOLD-BACK');
    else if (c.partHoldBackS < 3 * p.partTargetS - EPS) out.push(`part-hold-back: PART-HOLD-BACK ${c.partHoldBackS} < 3 x PART-TARGET ${p.partTargetS}`);
  }
  if (c?.holdBackS !== undefined && c.holdBackS < 3 * p.targetDurationS - EPS) out.push(`hold-back: HOLD-BACK ${c.holdBackS} < 3 x TARGETDURATION ${p.targetDurationS}`);
  if (c?.canSkipUntilS !== undefined && c.canSkipUntilS < 6 * p.targetDurationS - EPS) out.push(`can-skip-until: CAN-SKIP-UNTIL ${c.canSkipUntilS} < 6 x TARGETDURATION ${p.targetDurationS}`);
  if (p.preloadHint && p.endList) out.push('preload-hint-endlist: EXT-X-PRELOAD-HINT with EXT-X-ENDLIST');
  if (p.skippedSegments !== undefined && (c?.canSkipUntilS === undefined || p.endList)) out.push('skip-allowed: EXT-X-SKIP without CAN-SKIP-UNTIL or with EXT-X-ENDLIST');
  const anyMap = /^#EXT-X-MAP:/m.test(text);
  const first = p.segments[0];
  if (anyMap && (first ? first.map === undefined : p.openSegment?.map === undefined && (p.trailingParts?.length ?? 0) > 0)) out.push('map-in-force: EXT-X-MAP is used but the first listed segment has none in force');
}

function partRules(p: MediaPlaylist, opts: CheckOptions, out: string[]): void {
  const { parts, endS } = placeParts(p);
  const target = p.partTargetS;
  const newest = parts.at(-1);
  for (const x of parts) {
    if (target !== undefined && x.part.durationS > target + 1e-9) out.push(`part-duration: ${x.part.uri} DURATION ${x.part.durationS} > PART-TARGET ${target}`);
    const exempt = x.part.independent || x.lastOfSegment || x === newest;
    if (target !== undefined && !exempt && x.part.durationS < 0.85 * target - 1e-9) out.push(`part-min-duration: ${x.part.uri} DURATION ${x.part.durationS} < 85% of PART-TARGET ${target}`);
    if (x.endS < endS - 3 * p.targetDurationS - EPS) out.push(`parts-live-edge: ${x.part.uri} ends ${(endS - x.endS).toFixed(3)} s before the playlist end (> 3 x ${p.targetDurationS})`);
  }
  let withParts = false;
  for (const s of p.segments) {
    const n = s.parts?.length ?? 0;
    if (s.gap && n > 0) out.push(`gap-no-parts: ${s.uri} is a gap but lists ${n} parts`);
    if (n > 0) withParts = true;
    else if (withParts && !s.gap) out.push(`parts-live-edge: ${s.uri} lists no parts after an earlier segment that does`);
    if (n > 0) {
      const sum = s.parts!.reduce((a, x) => a + x.durationS, 0);
      if (Math.abs(sum - s.durationS) > 0.001 * n + 1e-9) out.push(`part-sum: ${s.uri} EXTINF ${s.durationS} but its parts add up to ${sum.toFixed(3)}`);
      if (p.independentSegments && !s.parts![0]!.independent) out.push(`independent-first-part: ${s.parts![0]!.uri} opens ${s.uri} without INDEPENDENT=YES`);
    }
  }
  if (p.independentSegments && p.trailingParts?.[0] && !p.trailingParts[0].independent) out.push(`independent-first-part: ${p.trailingParts[0].uri} opens the open segment without INDEPENDENT=YES`);

  const seen = new Set(p.segments.map((s) => s.uri));
  for (const x of parts) {
    if (seen.has(x.part.uri)) out.push(`part-uri-unique: ${x.part.uri} listed twice (or as a segment)`);
    seen.add(x.part.uri);
  }

  const id = opts.partId ?? contractPartId;
  const firstMsn = p.mediaSequence + (p.skippedSegments ?? 0);
  if (!opts.partId) {
    p.segments.forEach((s, i) => {
      const msn = contractSegmentMsn(s.uri);
      if (msn !== undefined && msn !== firstMsn + i) out.push(`uri-numbering: ${s.uri} has MSN ${firstMsn + i}`);
    });
  }
  for (const x of parts) {
    const got = id(x.part.uri);
    if (got && (got.msn !== x.msn || got.part !== x.index)) out.push(`uri-numbering: ${x.part.uri} is part ${x.index} of MSN ${x.msn}`);
  }
  if (p.preloadHint) {
    const last = newest && newest.msn === firstMsn + p.segments.length ? newest : undefined;
    const want = last ? { msn: last.msn, part: last.index + 1 } : { msn: firstMsn + p.segments.length, part: 0 };
    const got = id(p.preloadHint.uri);
    if (got && (got.msn !== want.msn || got.part !== want.part)) out.push(`preload-hint-next: hint ${p.preloadHint.uri} but the next part is ${want.part} of MSN ${want.msn}`);
  }
  if (opts.keyframe) {
    for (const x of parts) {
      const key = opts.keyframe(x.part.uri);
      if (key !== undefined && key !== x.part.independent) out.push(`independent-keyframe: ${x.part.uri} ${key ? 'starts with a keyframe but lacks' : 'starts without a keyframe but has'} INDEPENDENT=YES`);
    }
  }
}

function pdtRules(p: MediaPlaylist, opts: CheckOptions, out: string[]): void {
  const tol = opts.pdtToleranceMs ?? 50;
  const anyPdt = p.segments.some((s) => s.programDateTime !== undefined) || p.openSegment?.programDateTime !== undefined;
  if (!anyPdt) return;
  const all: Array<Pick<PlaylistSegment, 'uri' | 'durationS' | 'discontinuity' | 'programDateTime'>> = [...p.segments];
  if (p.openSegment || p.trailingParts?.length) all.push({ uri: '(open segment)', durationS: 0, discontinuity: p.openSegment?.discontinuity ?? false, programDateTime: p.openSegment?.programDateTime });
  let prev: { pdt: number; endPdt: number; uri: string } | undefined;
  for (const s of all) {
    if (s.discontinuity && s.programDateTime === undefined) out.push(`pdt-on-discontinuity: ${s.uri} has EXT-X-DISCONTINUITY but no PDT`);
    if (s.programDateTime === undefined) {
      // Without its own PDT a segment's date follows from the previous one.
      if (prev) prev = { pdt: prev.endPdt, endPdt: prev.endPdt + s.durationS * 1000, uri: s.uri };
      continue;
    }
    if (prev) {
      if (s.programDateTime <= prev.pdt) out.push(`pdt-monotonic: ${s.uri} PDT ${new Date(s.programDateTime).toISOString()} not after ${prev.uri}'s`);
      else if (!s.discontinuity && Math.abs(s.programDateTime - prev.endPdt) > tol) out.push(`pdt-monotonic: ${s.uri} PDT is ${(s.programDateTime - prev.endPdt).toFixed(0)} ms off the previous PDT + EXTINF`);
    }
    prev = { pdt: s.programDateTime, endPdt: s.programDateTime + s.durationS * 1000, uri: s.uri };
  }
}

function skipRules(p: MediaPlaylist, fullText: string, out: string[]): void {
  let full: MediaPlaylist;
  try {
    full = parseMediaPlaylist(fullText);
  } catch (e) {
    out.push(`skip-count: the full playlist does not parse: ${(e as Error).message}`);
    return;
  }
  const n = p.skippedSegments ?? 0;
  if (p.mediaSequence !== full.mediaSequence) out.push(`skip-count: MEDIA-SEQUENCE ${p.mediaSequence}, the full playlist's is ${full.mediaSequence}`);
  if (p.discontinuitySequence !== full.discontinuitySequence) out.push(`skip-count: DISCONTINUITY-SEQUENCE ${p.discontinuitySequence}, the full playlist's is ${full.discontinuitySequence}`);
  if (n + p.segments.length !== full.segments.length) out.push(`skip-count: SKIPPED-SEGMENTS ${n} + ${p.segments.length} listed != ${full.segments.length} in the full playlist`);
  const tail = full.segments.slice(full.segments.length - p.segments.length);
  const key = (s: PlaylistSegment): string => JSON.stringify([s.uri, s.durationS, s.discontinuity, s.programDateTime, s.parts]);
  if (tail.map(key).join() !== p.segments.map(key).join()) out.push('skip-count: the listed segments are not the full playlist\'s last ones');
  const boundary = full.serverControl?.canSkipUntilS;
  if (boundary === undefined) return;
  // A segment is skipped when its start is further than the Skip Boundary from the end of the last segment.
  const end = full.segments.reduce((a, s) => a + s.durationS, 0);
  let start = 0;
  let want = 0;
  let either = 0;
  for (const s of full.segments) {
    const distance = end - start;
    if (distance > boundary + EPS) want++;
    else if (distance > boundary - EPS) either++; // at the boundary, to the printed precision: either way
    start += s.durationS;
  }
  if (n < want || n > want + either) out.push(`skip-boundary: SKIPPED-SEGMENTS ${n}, but ${want}${either ? `-${want + either}` : ''} segments start further than CAN-SKIP-UNTIL ${boundary} s from the end`);
}

export function checkMediaPlaylist(text: string, opts: CheckOptions = {}): string[] {
  const out: string[] = [];
  let p: MediaPlaylist;
  try {
    p = parseMediaPlaylist(text);
  } catch (e) {
    if (e instanceof PlaylistError) return [`parse: ${e.message}`];
    throw e;
  }
  lineRules(text, out);
  headerRules(p, text, out);
  partRules(p, opts, out);
  pdtRules(p, opts, out);
  if (opts.full !== undefined && p.skippedSegments !== undefined) skipRules(p, opts.full, out);
  return out;
}

interface Numbered {
  readonly msn: number;
  readonly seg: PlaylistSegment;
  /** Discontinuity sequence number; undefined after a skip (it depends on the skipped segments). */
  readonly dsn: number | undefined;
}

function numbered(p: MediaPlaylist): Numbered[] {
  const first = p.mediaSequence + (p.skippedSegments ?? 0);
  let dsn = p.discontinuitySequence;
  return p.segments.map((seg, i) => {
    if (seg.discontinuity) dsn++;
    return { msn: first + i, seg, dsn: p.skippedSegments ? undefined : dsn };
  });
}

/**
 * Rules between two successive reloads of the same playlist (`after` may be a delta update: its
 * skipped segments are taken from `before`, as a client merges them).
 */
export function checkReloadPair(beforeText: string, afterText: string): string[] {
  const out: string[] = [];
  let before: MediaPlaylist;
  let after: MediaPlaylist;
  try {
    before = parseMediaPlaylist(beforeText);
    after = parseMediaPlaylist(afterText);
  } catch (e) {
    if (e instanceof PlaylistError) return [`parse: ${e.message}`];
    throw e;
  }
  if (before.skippedSegments !== undefined) return ['reload-skip-merge: the earlier reload must be a full playlist'];
  const b = numbered(before);
  const bBy = new Map(b.map((x) => [x.msn, x]));
  if (after.targetDurationS !== before.targetDurationS) out.push(`reload-target-duration: ${before.targetDurationS} became ${after.targetDurationS}`);
  if (after.mediaSequence < before.mediaSequence) out.push(`reload-sequence: MEDIA-SEQUENCE went back from ${before.mediaSequence} to ${after.mediaSequence}`);
  if (after.discontinuitySequence < before.discontinuitySequence) out.push(`reload-discontinuity: DISCONTINUITY-SEQUENCE went back from ${before.discontinuitySequence} to ${after.discontinuitySequence}`);
  if (before.endList && !after.endList) out.push('reload-endlist: EXT-X-ENDLIST disappeared');
  if (after.skippedSegments !== undefined) {
    for (let msn = after.mediaSequence; msn < after.mediaSequence + after.skippedSegments; msn++) {
      if (!bBy.has(msn)) {
        out.push(`reload-skip-merge: skipped MSN ${msn} was not in the previous reload`);
        break;
      }
    }
  }
  const a = numbered(after);
  const bLast = b.at(-1)?.msn ?? before.mediaSequence - 1;
  for (const x of a) {
    const old = bBy.get(x.msn);
    if (!old) {
      if (x.msn <= bLast) out.push(`reload-sequence: MSN ${x.msn} (${x.seg.uri}) appeared inside the old range`);
      else if (before.endList) out.push(`reload-endlist: MSN ${x.msn} added after EXT-X-ENDLIST`);
      continue;
    }
    if (old.seg.uri !== x.seg.uri || Math.abs(old.seg.durationS - x.seg.durationS) > 1e-9) out.push(`reload-sequence: MSN ${x.msn} was ${old.seg.uri} (${old.seg.durationS}), now ${x.seg.uri} (${x.seg.durationS})`);
    if (x.dsn !== undefined && old.dsn !== x.dsn) out.push(`reload-discontinuity: MSN ${x.msn} had discontinuity sequence ${old.dsn}, now ${x.dsn}`);
    const op = old.seg.parts ?? [];
    const np = x.seg.parts ?? [];
    // Parts leave from the oldest end: a segment either keeps its parts or loses them all.
    if (np.length > 0 && JSON.stringify(np) !== JSON.stringify(op)) out.push(`reload-parts: the parts of MSN ${x.msn} changed`);
  }
  // A removed segment goes only from the start, in order.
  const firstAfter = after.mediaSequence;
  for (const x of b) if (x.msn >= firstAfter && x.msn <= (a.at(-1)?.msn ?? -1) && !a.some((y) => y.msn === x.msn) && after.skippedSegments === undefined) out.push(`reload-sequence: MSN ${x.msn} vanished from the middle`);
  const removed = firstAfter > before.mediaSequence;
  const duration = after.segments.reduce((n, s) => n + s.durationS, 0);
  if (removed && !after.endList && after.skippedSegments === undefined && duration < 3 * after.targetDurationS - EPS) out.push(`reload-min-duration: segments removed leaving ${duration.toFixed(3)} s < 3 x ${after.targetDurationS}`);
  // The open segment's parts reappear: on the completed segment, or still open.
  const openMsn = before.mediaSequence + before.segments.length;
  const trailing = before.trailingParts ?? [];
  if (trailing.length > 0) {
    const completed = a.find((x) => x.msn === openMsn);
    const now = completed ? (completed.seg.parts ?? []) : after.mediaSequence + (after.skippedSegments ?? 0) + after.segments.length === openMsn ? (after.trailingParts ?? []) : undefined;
    if (now !== undefined && (completed === undefined || now.length > 0) && JSON.stringify(now.slice(0, trailing.length)) !== JSON.stringify(trailing)) out.push(`reload-parts: the open segment's parts (MSN ${openMsn}) changed`);
  }
  return out;
}

// ---- runtime: Delivery Directives of a live server ----------------------------------------------

export interface BlockingOptions {
  readonly fetch?: typeof fetch;
  /** Extra query parameters every request carries (e.g. a play token), without the leading '?'. */
  readonly query?: string;
  /** Longest wait for a held request (default 3 target durations + 3 s). */
  readonly timeoutMs?: number;
}

interface Fetched {
  readonly status: number;
  readonly body: Buffer;
  readonly ms: number;
}

function withQuery(url: string, params: Record<string, string | number>, extra?: string): string {
  const u = new URL(url);
  for (const [k, v] of Object.entries(params)) u.searchParams.set(k, String(v));
  if (extra) for (const [k, v] of new URLSearchParams(extra)) u.searchParams.set(k, v);
  return u.toString();
}

/** A GET; status 0 when it timed out (a held request that is never answered is a violation, not a crash). */
async function get(f: typeof fetch, url: string, timeoutMs: number): Promise<Fetched> {
  const t0 = performance.now();
  try {
    const res = await f(url, { signal: AbortSignal.timeout(timeoutMs) });
    return { status: res.status, body: Buffer.from(await res.arrayBuffer()), ms: performance.now() - t0 };
  } catch (e) {
    if ((e as Error).name !== 'TimeoutError') throw e;
    return { status: 0, body: Buffer.alloc(0), ms: performance.now() - t0 };
  }
}

/** The last complete MSN and the next (MSN, part) the server has not produced yet. */
function edge(p: MediaPlaylist): { lastMsn: number; next: { msn: number; part: number } } {
  const lastMsn = p.mediaSequence + (p.skippedSegments ?? 0) + p.segments.length - 1;
  return { lastMsn, next: { msn: lastMsn + 1, part: p.trailingParts?.length ?? 0 } };
}

const lists = (p: MediaPlaylist, msn: number, part?: number): boolean => {
  const { lastMsn, next } = edge(p);
  if (lastMsn >= msn) return true; // complete (a later one also answers the request)
  return part !== undefined && next.msn === msn && next.part > part;
};

/**
 * Checks a live LL-HLS playlist URL's Delivery Directives (RFC 8216bis 6.2.5, 6.2.6): blocking on the next
 * part and the next segment, the 400 answers, the delta update and the preload-hint request.
 */
export async function checkBlocking(playlistUrl: string, opts: BlockingOptions = {}): Promise<string[]> {
  const f = opts.fetch ?? fetch;
  const out: string[] = [];
  const current = async (): Promise<{ text: string; p: MediaPlaylist }> => {
    const r = await get(f, withQuery(playlistUrl, {}, opts.query), 5000);
    const text = r.body.toString('utf8');
    if (r.status !== 200) throw new Error(`GET ${playlistUrl}: ${r.status}`);
    return { text, p: parseMediaPlaylist(text) };
  };
  const { p } = await current();
  const timeoutMs = opts.timeoutMs ?? 3 * p.targetDurationS * 1000 + 3000;

  // Held until the next part exists, then the answer lists it.
  const { next } = edge(p);
  const partAnswer = await get(f, withQuery(playlistUrl, { _HLS_msn: next.msn, _HLS_part: next.part }, opts.query), timeoutMs);
  if (partAnswer.status !== 200) out.push(`block-part: _HLS_msn=${next.msn}&_HLS_part=${next.part} answered ${partAnswer.status}`);
  else if (!lists(parseMediaPlaylist(partAnswer.body.toString('utf8')), next.msn, next.part)) out.push(`block-part: the answer to _HLS_msn=${next.msn}&_HLS_part=${next.part} does not list that part`);

  // Held until the next segment exists.
  const after = edge(parseMediaPlaylist((await current()).text));
  const msnAnswer = await get(f, withQuery(playlistUrl, { _HLS_msn: after.lastMsn + 1 }, opts.query), timeoutMs);
  if (msnAnswer.status !== 200) out.push(`block-msn: _HLS_msn=${after.lastMsn + 1} answered ${msnAnswer.status}`);
  else if (!lists(parseMediaPlaylist(msnAnswer.body.toString('utf8')), after.lastMsn + 1)) out.push(`block-msn: the answer to _HLS_msn=${after.lastMsn + 1} does not list MSN ${after.lastMsn + 1}`);

  // Too far ahead: 400 at once. A segment completing between the two requests makes last + 3 legal, so retry.
  let tooFar: string | undefined = 'a segment completed during every attempt';
  for (let attempt = 0; attempt < 3; attempt++) {
    const last = edge((await current()).p).lastMsn;
    const r = await get(f, withQuery(playlistUrl, { _HLS_msn: last + 3 }, opts.query), timeoutMs);
    if (r.status === 400) {
      tooFar = undefined;
      break;
    }
    if (edge((await current()).p).lastMsn === last) {
      tooFar = `_HLS_msn=${last + 3} (last ${last}) answered ${r.status || 'nothing'} after ${r.ms.toFixed(0)} ms`;
      break;
    }
  }
  if (tooFar !== undefined) out.push(`block-msn-too-far: ${tooFar}`);
  const partOnly = await get(f, withQuery(playlistUrl, { _HLS_part: 0 }, opts.query), timeoutMs);
  if (partOnly.status !== 400) out.push(`block-part-without-msn: _HLS_part=0 alone answered ${partOnly.status}`);

  if (p.serverControl?.canSkipUntilS !== undefined) {
    // The delta and the full playlist must describe the same moment: retry if a part landed in between.
    let skipViolations: string[] | undefined;
    for (let attempt = 0; attempt < 20 && skipViolations === undefined; attempt++) {
      const full = await current();
      const delta = await get(f, withQuery(playlistUrl, { _HLS_skip: 'YES' }, opts.query), 5000);
      const again = await current();
      if (again.text !== full.text) continue;
      const text = delta.body.toString('utf8');
      if (delta.status !== 200) skipViolations = [`answered ${delta.status}`];
      // Nothing beyond the Skip Boundary: the full playlist is its own delta update.
      else if (!/^#EXT-X-SKIP:/m.test(text)) skipViolations = checkMediaPlaylist(withSkipTag(text, 0), { full: full.text }).concat(text === full.text ? [] : ['the answer without EXT-X-SKIP is not the full playlist']);
      else skipViolations = checkMediaPlaylist(text, { full: full.text });
    }
    for (const v of skipViolations ?? ['the playlist never held still for a full/delta pair']) out.push(`block-skip: ${v}`);
  }

  out.push(...(await checkPreloadHint(playlistUrl, opts)));
  return out;
}

/** The playlist as a delta update skipping n segments (for judging an answer that skipped nothing). */
function withSkipTag(text: string, n: number): string {
  return text.replace(/^(#EXT-X-MEDIA-SEQUENCE:.*)$/m, `$1\n#EXT-X-SKIP:SKIPPED-SEGMENTS=${n}`).replace(/^#EXT-X-VERSION:.*$/m, '#EXT-X-VERSION:9');
}

/** The hinted part: requested before it exists, answered with exactly the bytes the part has once listed. */
async function checkPreloadHint(playlistUrl: string, opts: BlockingOptions): Promise<string[]> {
  const f = opts.fetch ?? fetch;
  const r = await get(f, withQuery(playlistUrl, {}, opts.query), 5000);
  const p = parseMediaPlaylist(r.body.toString('utf8'));
  if (!p.preloadHint) return ['block-preload-hint: the live playlist has no PART preload hint'];
  const hinted = new URL(p.preloadHint.uri, playlistUrl).toString();
  const timeoutMs = opts.timeoutMs ?? 3 * p.targetDurationS * 1000 + 3000;
  const early = await get(f, withQuery(hinted, {}, opts.query), timeoutMs);
  if (early.status !== 200) return [`block-preload-hint: ${p.preloadHint.uri} answered ${early.status}`];
  const later = await get(f, withQuery(hinted, {}, opts.query), 5000);
  if (later.status !== 200 || !later.body.equals(early.body)) return [`block-preload-hint: the hinted response (${early.body.length} bytes) differs from the part (${later.status}, ${later.body.length} bytes)`];
  return [];
}

// ---- keyframe oracle from fMP4 bytes ---------------------------------------------------------------

const u32 = (b: Buffer, at: number): number => b.readUInt32BE(at);

function* boxes(b: Buffer, from = 0, to = b.length): Generator<{ type: string; start: number; end: number }> {
  let at = from;
  while (at + 8 <= to) {
    let size = u32(b, at);
    let header = 8;
    if (size === 1 && at + 16 <= to) {
      size = Number(b.readBigUInt64BE(at + 8));
      header = 16;
    }
    if (size < header || at + size > to) return;
    yield { type: b.toString('latin1', at + 4, at + 8), start: at + header, end: at + size };
    at += size;
  }
}

/**
 * Whether an fMP4 part starts with a keyframe: the first sample of the video track (id 1) in its first
 * moof is a sync sample (trun first-sample-flags / sample flags / tfhd defaults). Audio-only parts: true.
 * undefined when the bytes carry no moof or no flags to read.
 */
export function fmp4StartsWithKeyframe(part: Buffer, videoTrackId = 1): boolean | undefined {
  const moof = [...boxes(part)].find((x) => x.type === 'moof');
  if (!moof) return undefined;
  for (const traf of boxes(part, moof.start, moof.end)) {
    if (traf.type !== 'traf') continue;
    let defaultFlags: number | undefined;
    let trackId: number | undefined;
    for (const x of boxes(part, traf.start, traf.end)) {
      const flags = u32(part, x.start) & 0xffffff;
      if (x.type === 'tfhd') {
        trackId = u32(part, x.start + 4);
        let at = x.start + 8;
        if (flags & 0x01) at += 8;
        if (flags & 0x02) at += 4;
        if (flags & 0x08) at += 4;
        if (flags & 0x10) at += 4;
        if (flags & 0x20) defaultFlags = u32(part, at);
      } else if (x.type === 'trun' && trackId === videoTrackId) {
        let at = x.start + 8;
        if (flags & 0x01) at += 4;
        let sampleFlags = defaultFlags;
        if (flags & 0x04) sampleFlags = u32(part, at);
        else if (flags & 0x400) {
          if (flags & 0x100) at += 4;
          if (flags & 0x200) at += 4;
          sampleFlags = u32(part, at);
        }
        return sampleFlags === undefined ? undefined : ((sampleFlags >>> 16) & 1) === 0;
      }
    }
  }
  return true;
}

/** Fetches every part a playlist lists and answers checkMediaPlaylist's keyframe question from the bytes. */
export async function fetchKeyframeOracle(playlistUrl: string, text: string, opts: BlockingOptions = {}): Promise<(uri: string) => boolean | undefined> {
  const f = opts.fetch ?? fetch;
  const p = parseMediaPlaylist(text);
  const uris = [...p.segments.flatMap((s) => (s.parts ?? []).map((x) => x.uri)), ...(p.trailingParts ?? []).map((x) => x.uri)];
  const known = new Map<string, boolean | undefined>();
  await Promise.all(
    uris.map(async (uri) => {
      const r = await get(f, withQuery(new URL(uri, playlistUrl).toString(), {}, opts.query), 5000);
      known.set(uri, r.status === 200 ? fmp4StartsWithKeyframe(r.body) : undefined);
    }),
  );
  return (uri) => known.get(uri);
}

// ---- multivariant playlists -----------------------------------------------------------------------

const VIDEO_CODEC = /^(avc1|avc3|hvc1|hev1|av01)\./;

/** Rules of one multivariant playlist text (the mv-* rules). */
export function checkMultivariantPlaylist(text: string): string[] {
  const out: string[] = [];
  // BANDWIDTH is what the parser needs; a line without it is its own violation, not a parse failure.
  for (const line of text.split('\n')) {
    if (line.startsWith('#EXT-X-STREAM-INF:') && !/[:,]BANDWIDTH=\d/.test(line)) out.push(`mv-bandwidth: ${line.slice(0, 80)} has no BANDWIDTH`);
  }
  if (out.length > 0) return out;
  let p;
  try {
    p = parseMultivariantPlaylist(text);
  } catch (e) {
    if (e instanceof PlaylistError) return [`mv-parse: ${e.message}`];
    throw e;
  }
  if (p.variants.length === 0) out.push('mv-parse: no variants');
  const seen = new Set<string>();
  p.variants.forEach((v, i) => {
    if (v.bandwidthBps <= 0) out.push(`mv-bandwidth: ${v.uri} BANDWIDTH ${v.bandwidthBps}`);
    if (v.averageBandwidthBps !== undefined && v.averageBandwidthBps > v.bandwidthBps) out.push(`mv-bandwidth: ${v.uri} AVERAGE-BANDWIDTH ${v.averageBandwidthBps} > BANDWIDTH ${v.bandwidthBps}`);
    if (v.codecs === undefined) out.push(`mv-codecs: ${v.uri} has no CODECS`);
    else if (v.codecs.split(',').some((c) => VIDEO_CODEC.test(c.trim()))) {
      if (!v.resolution) out.push(`mv-resolution: ${v.uri} carries video but has no RESOLUTION`);
      if (v.frameRate === undefined) out.push(`mv-resolution: ${v.uri} carries video but has no FRAME-RATE`);
    }
    const path = v.uri.split('?')[0] ?? '';
    if (!/^[A-Za-z0-9_-]{1,64}\.m3u8$/.test(path)) out.push(`mv-uri: ${v.uri} is not a sibling {stream}.m3u8`);
    if (seen.has(path)) out.push(`mv-uri: ${path} listed twice`);
    seen.add(path);
    const prev = p.variants[i - 1];
    if (i >= 2 && prev && v.bandwidthBps > prev.bandwidthBps) out.push(`mv-order: ${v.uri} BANDWIDTH ${v.bandwidthBps} above the rung before it (${prev.bandwidthBps})`);
  });
  return out;
}
