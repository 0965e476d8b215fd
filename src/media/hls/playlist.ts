// HLS playlists (RFC 8216, and RFC 8216bis for fMP4 and Low-Latency HLS): media playlists (writer the
// origin serves, bounded parser for tests and edges) and multivariant playlists (the ABR ladder's
// variants: writer and bounded parser).
import { MediaFormatError } from '../error.js';

/** An LL-HLS partial segment (EXT-X-PART). */
export interface PlaylistPart {
  uri: string;
  durationS: number;
  /** INDEPENDENT=YES: the part starts with a keyframe. */
  independent: boolean;
}

export interface PlaylistSegment {
  uri: string;
  durationS: number;
  discontinuity: boolean;
  /** EXT-X-PROGRAM-DATE-TIME of the segment's first sample, epoch ms. */
  programDateTime?: number;
  /** EXT-X-MAP URI, written before this segment when set (it applies until the next one). */
  map?: string;
  /** The segment's parts, listed before its EXTINF (only for the last few segments). */
  parts?: PlaylistPart[];
  /** EXT-X-GAP (RFC 8216bis 4.4.4.7): a segment this rendition lacks; players skip it (its URI is not loaded). */
  gap?: boolean;
}

/** The tags of the open segment that precede its parts (trailingParts) and the preload hint. */
export interface OpenSegmentTags {
  discontinuity: boolean;
  programDateTime?: number;
  map?: string;
}

export interface ServerControl {
  canBlockReload: boolean;
  partHoldBackS?: number;
  canSkipUntilS?: number;
  holdBackS?: number;
}

export interface RenditionReport {
  uri: string;
  lastMsn: number;
  lastPart?: number;
}

export interface MediaPlaylist {
  targetDurationS: number;
  /** Of the first segment, also in a delta update (where the first `skippedSegments` are not listed). */
  mediaSequence: number;
  discontinuitySequence: number;
  /**
   * The writer lists these after replacing the first `skippedSegments` of them with EXT-X-SKIP; the
   * parser returns only the segments listed (those after the skip).
   */
  segments: PlaylistSegment[];
  endList: boolean;
  /** The writer raises it to what the tags used need (requiredVersion). */
  version?: number;
  independentSegments?: boolean;
  /** EXT-X-PART-INF:PART-TARGET. */
  partTargetS?: number;
  serverControl?: ServerControl;
  /** EXT-X-SKIP:SKIPPED-SEGMENTS: a Playlist Delta Update. */
  skippedSegments?: number;
  /** Tags of the open segment (written before trailingParts). */
  openSegment?: OpenSegmentTags;
  /** Parts of the open segment, after the last complete one. */
  trailingParts?: PlaylistPart[];
  /** EXT-X-PRELOAD-HINT:TYPE=PART. */
  preloadHint?: { uri: string };
  renditionReports?: RenditionReport[];
  /** EXT-X-START (RFC 8216 4.3.5.2): where players start, seconds from the first segment (negative: from the end). */
  start?: { timeOffsetS: number };
  /** EXT-X-PLAYLIST-TYPE (RFC 8216 4.3.3.5): VOD never changes, EVENT only grows. */
  playlistType?: 'VOD' | 'EVENT';
}

/** Not a media playlist we can read. The only error parseMediaPlaylist throws. */
export class PlaylistError extends MediaFormatError {
  override name = 'PlaylistError';
}

/** Parser limits: a playlist is text a peer sends us. */
export const MAX_PLAYLIST_LINES = 500_000;
export const MAX_PLAYLIST_LINE_CHARS = 16 * 1024;
const MAX_ATTRIBUTES = 32;

// Durations are printed with 3 decimals, so limits must cover the rounded value (RFC 8216 4.3.3.1).
const rounded = (s: number): number => Math.round(s * 1000) / 1000;
const decimal = (s: number): string => rounded(s).toFixed(3);

/**
 * The lowest EXT-X-VERSION the playlist's tags allow (RFC 8216bis section 8): 9 with EXT-X-SKIP, 6 with
 * EXT-X-MAP, 3 for decimal EXTINF. The LL-HLS tags themselves need no version, and a server SHOULD NOT
 * declare more than it needs (6.2.1), so a full LL playlist says 6 and its delta update 9.
 */
export function requiredVersion(p: MediaPlaylist): number {
  if (p.skippedSegments !== undefined) return 9;
  const map = p.openSegment?.map !== undefined || p.segments.some((s) => s.map !== undefined);
  return map ? 6 : 3;
}

function quoted(s: string): string {
  if (/["\r\n]/.test(s)) throw new PlaylistError(`cannot quote ${JSON.stringify(s)}`);
  return `"${s}"`;
}

const pdt = (ms: number): string => new Date(ms).toISOString();

function writeParts(lines: string[], parts: readonly PlaylistPart[] | undefined): void {
  for (const part of parts ?? []) {
    lines.push(`#EXT-X-PART:DURATION=${decimal(part.durationS)},URI=${quoted(part.uri)}${part.independent ? ',INDEPENDENT=YES' : ''}`);
  }
}

function writeSegmentTags(lines: string[], s: OpenSegmentTags): void {
  if (s.discontinuity) lines.push('#EXT-X-DISCONTINUITY');
  if (s.map !== undefined) lines.push(`#EXT-X-MAP:URI=${quoted(s.map)}`);
  if (s.programDateTime !== undefined) lines.push(`#EXT-X-PROGRAM-DATE-TIME:${pdt(s.programDateTime)}`);
}

function serverControlLine(c: ServerControl): string {
  const attrs: string[] = [];
  if (c.canBlockReload) attrs.push('CAN-BLOCK-RELOAD=YES');
  if (c.canSkipUntilS !== undefined) attrs.push(`CAN-SKIP-UNTIL=${decimal(c.canSkipUntilS)}`);
  if (c.holdBackS !== undefined) attrs.push(`HOLD-BACK=${decimal(c.holdBackS)}`);
  if (c.partHoldBackS !== undefined) attrs.push(`PART-HOLD-BACK=${decimal(c.partHoldBackS)}`);
  return `#EXT-X-SERVER-CONTROL:${attrs.join(',')}`;
}

/**
 * With `skippedSegments` N (a delta update, RFC 8216bis 6.2.5.1) the first N segments become one
 * EXT-X-SKIP; the EXT-X-MAP in force at the first listed segment is repeated before it, so the delta
 * stands on its own for the init section. MEDIA-SEQUENCE and DISCONTINUITY-SEQUENCE stay the full
 * playlist's (they number the first, skipped, segment).
 */
export function writeMediaPlaylist(p: MediaPlaylist): string {
  const maxExtinf = p.segments.reduce((m, s) => Math.max(m, rounded(s.durationS)), 0);
  // RFC 8216 4.3.3.1: every EXTINF *rounded to the nearest integer* <= TARGETDURATION. Rounding up instead
  // would make a 1 s target 2 for 1.001 s segments (29.97 fps, 1 s GOP), doubling what LL-HLS derives
  // from it (blocking hold, CAN-SKIP-UNTIL, the parts window). The epsilon keeps 2.000 at 2 despite float noise.
  const target = Math.max(1, Math.ceil(p.targetDurationS - 1e-9), Math.round(maxExtinf));
  const version = Math.max(p.version ?? 3, requiredVersion(p));
  const lines = ['#EXTM3U', `#EXT-X-VERSION:${version}`, `#EXT-X-TARGETDURATION:${target}`];
  if (p.serverControl) lines.push(serverControlLine(p.serverControl));
  if (p.partTargetS !== undefined) lines.push(`#EXT-X-PART-INF:PART-TARGET=${decimal(p.partTargetS)}`);
  lines.push(`#EXT-X-MEDIA-SEQUENCE:${p.mediaSequence}`);
  if (p.discontinuitySequence > 0) lines.push(`#EXT-X-DISCONTINUITY-SEQUENCE:${p.discontinuitySequence}`);
  if (p.playlistType) lines.push(`#EXT-X-PLAYLIST-TYPE:${p.playlistType}`);
  if (p.independentSegments) lines.push('#EXT-X-INDEPENDENT-SEGMENTS');
  if (p.start) lines.push(`#EXT-X-START:TIME-OFFSET=${decimal(p.start.timeOffsetS)}`);
  const skipped = Math.min(p.skippedSegments ?? 0, p.segments.length);
  let map: string | undefined;
  for (const s of p.segments.slice(0, skipped)) map = s.map ?? map;
  if (p.skippedSegments !== undefined) lines.push(`#EXT-X-SKIP:SKIPPED-SEGMENTS=${skipped}`);
  p.segments.forEach((s, i) => {
    if (i < skipped) return;
    writeSegmentTags(lines, { ...s, map: s.map ?? (i === skipped ? map : undefined) });
    writeParts(lines, s.parts);
    lines.push(`#EXTINF:${decimal(s.durationS)},`);
    if (s.gap) lines.push('#EXT-X-GAP');
    lines.push(s.uri);
  });
  if (p.openSegment) writeSegmentTags(lines, p.openSegment);
  writeParts(lines, p.trailingParts);
  if (p.preloadHint) lines.push(`#EXT-X-PRELOAD-HINT:TYPE=PART,URI=${quoted(p.preloadHint.uri)}`);
  if (p.endList) lines.push('#EXT-X-ENDLIST');
  for (const r of p.renditionReports ?? []) {
    lines.push(`#EXT-X-RENDITION-REPORT:URI=${quoted(r.uri)},LAST-MSN=${r.lastMsn}${r.lastPart !== undefined ? `,LAST-PART=${r.lastPart}` : ''}`);
  }
  return lines.join('\n') + '\n';
}

/**
 * An attribute list (RFC 8216 4.2): NAME=value pairs, values a quoted string (which may hold commas),
 * or a run of characters up to the next comma. Names are unique.
 */
export function parseAttributes(value: string, tag: string): Map<string, string> {
  const attrs = new Map<string, string>();
  let i = 0;
  while (i < value.length) {
    const eq = value.indexOf('=', i);
    if (eq < 0) throw new PlaylistError(`${tag}: attribute without "=" in "${value.slice(i, i + 40)}"`);
    const name = value.slice(i, eq);
    if (!/^[A-Z0-9-]+$/.test(name)) throw new PlaylistError(`${tag}: bad attribute name "${name.slice(0, 40)}"`);
    let v: string;
    if (value[eq + 1] === '"') {
      const close = value.indexOf('"', eq + 2);
      if (close < 0) throw new PlaylistError(`${tag}: unterminated quoted string`);
      v = value.slice(eq + 1, close + 1);
      i = close + 1;
    } else {
      const comma = value.indexOf(',', eq + 1);
      i = comma < 0 ? value.length : comma;
      v = value.slice(eq + 1, i);
    }
    if (i < value.length) {
      if (value[i] !== ',') throw new PlaylistError(`${tag}: expected "," after ${name}`);
      i++;
    }
    if (attrs.has(name)) throw new PlaylistError(`${tag}: duplicate attribute ${name}`);
    if (attrs.size >= MAX_ATTRIBUTES) throw new PlaylistError(`${tag}: more than ${MAX_ATTRIBUTES} attributes`);
    attrs.set(name, v);
  }
  return attrs;
}

function num(v: string | undefined, what: string): number {
  const n = Number(v);
  if (v === undefined || v === '' || !/^[0-9.eE+-]+$/.test(v) || !Number.isFinite(n) || n < 0) throw new PlaylistError(`bad ${what} value "${v?.slice(0, 40)}"`);
  return n;
}

function int(v: string | undefined, what: string): number {
  const n = Number(v);
  if (v === undefined || !/^[0-9]{1,20}$/.test(v) || !Number.isSafeInteger(n)) throw new PlaylistError(`bad ${what} value "${v?.slice(0, 40)}"`);
  return n;
}

function str(attrs: Map<string, string>, name: string, tag: string): string {
  const v = attrs.get(name);
  if (v === undefined || v.length < 2 || !v.startsWith('"') || !v.endsWith('"')) throw new PlaylistError(`${tag}: missing quoted ${name}`);
  // A quoted-string holds no CR or LF (RFC 8216 4.2): what the writer could not write back.
  if (v.includes('\r')) throw new PlaylistError(`${tag}: CR in quoted ${name}`);
  return v.slice(1, -1);
}

const yes = (attrs: Map<string, string>, name: string): boolean => attrs.get(name) === 'YES';
const optNum = (attrs: Map<string, string>, name: string, tag: string): number | undefined =>
  attrs.has(name) ? num(attrs.get(name), `${tag} ${name}`) : undefined;

const DATE_TIME = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{1,9})?(Z|[+-]\d{2}:?\d{2})$/;

function dateTime(v: string): number {
  const ms = DATE_TIME.test(v) ? Date.parse(v) : NaN;
  if (Number.isNaN(ms)) throw new PlaylistError(`bad #EXT-X-PROGRAM-DATE-TIME "${v.slice(0, 40)}"`);
  return ms;
}

/** Each line of text, trimmed, without splitting the whole text at once; bounded in count and length. */
function* boundedLines(text: string): Generator<string> {
  let start = 0;
  for (let n = 0; start < text.length; n++) {
    if (n >= MAX_PLAYLIST_LINES) throw new PlaylistError(`more than ${MAX_PLAYLIST_LINES} lines`);
    const nl = text.indexOf('\n', start);
    const end = nl < 0 ? text.length : nl;
    if (end - start > MAX_PLAYLIST_LINE_CHARS) throw new PlaylistError(`line ${n + 1} longer than ${MAX_PLAYLIST_LINE_CHARS} characters`);
    yield text.slice(start, end).trim();
    start = end + 1;
  }
}

/**
 * Reads the tags writeMediaPlaylist writes (and ignores the others). A tag that applies to the next
 * segment (DISCONTINUITY, MAP, PROGRAM-DATE-TIME, PART) and has none after it lands in openSegment /
 * trailingParts. Throws PlaylistError.
 */
export function parseMediaPlaylist(text: string): MediaPlaylist {
  const lines = boundedLines(text);
  if (lines.next().value !== '#EXTM3U') throw new PlaylistError('missing #EXTM3U');
  const out: MediaPlaylist = { targetDurationS: NaN, mediaSequence: 0, discontinuitySequence: 0, segments: [], endList: false };
  let duration: number | undefined;
  let gap = false;
  let pending: OpenSegmentTags = { discontinuity: false };
  let parts: PlaylistPart[] = [];
  const once = (seen: unknown, tag: string): void => {
    if (seen !== undefined) throw new PlaylistError(`${tag} more than once`);
  };
  for (const line of lines) {
    if (line === '') continue;
    if (!line.startsWith('#')) {
      if (duration === undefined) throw new PlaylistError(`segment "${line.slice(0, 40)}" without #EXTINF`);
      const seg: PlaylistSegment = { uri: line, durationS: duration, discontinuity: pending.discontinuity };
      if (pending.programDateTime !== undefined) seg.programDateTime = pending.programDateTime;
      if (pending.map !== undefined) seg.map = pending.map;
      if (parts.length > 0) seg.parts = parts;
      if (gap) seg.gap = true;
      out.segments.push(seg);
      duration = undefined;
      gap = false;
      pending = { discontinuity: false };
      parts = [];
      continue;
    }
    const colon = line.indexOf(':');
    const tag = colon < 0 ? line : line.slice(0, colon);
    const value = colon < 0 ? '' : line.slice(colon + 1);
    switch (tag) {
      case '#EXT-X-VERSION':
        out.version = int(value, tag);
        break;
      case '#EXT-X-TARGETDURATION':
        out.targetDurationS = num(value, tag);
        break;
      case '#EXT-X-MEDIA-SEQUENCE':
        out.mediaSequence = int(value, tag);
        break;
      case '#EXT-X-DISCONTINUITY-SEQUENCE':
        out.discontinuitySequence = int(value, tag);
        break;
      case '#EXTINF':
        duration = num(value.split(',', 1)[0], tag);
        break;
      case '#EXT-X-DISCONTINUITY':
        pending.discontinuity = true;
        break;
      case '#EXT-X-GAP':
        gap = true;
        break;
      case '#EXT-X-PROGRAM-DATE-TIME':
        pending.programDateTime = dateTime(value);
        break;
      case '#EXT-X-MAP':
        pending.map = str(parseAttributes(value, tag), 'URI', tag);
        break;
      case '#EXT-X-INDEPENDENT-SEGMENTS':
        out.independentSegments = true;
        break;
      case '#EXT-X-START': {
        once(out.start, tag);
        const offset = parseAttributes(value, tag).get('TIME-OFFSET');
        const negative = offset?.startsWith('-') ?? false;
        const magnitude = num(negative ? offset?.slice(1) : offset, `${tag} TIME-OFFSET`);
        out.start = { timeOffsetS: negative ? -magnitude : magnitude };
        break;
      }
      case '#EXT-X-PLAYLIST-TYPE':
        once(out.playlistType, tag);
        if (value !== 'VOD' && value !== 'EVENT') throw new PlaylistError(`bad ${tag} "${value.slice(0, 40)}"`);
        out.playlistType = value;
        break;
      case '#EXT-X-ENDLIST':
        out.endList = true;
        break;
      case '#EXT-X-SERVER-CONTROL': {
        once(out.serverControl, tag);
        const a = parseAttributes(value, tag);
        const c: ServerControl = { canBlockReload: yes(a, 'CAN-BLOCK-RELOAD') };
        const partHoldBackS = optNum(a, 'PART-HOLD-BACK', tag);
        const canSkipUntilS = optNum(a, 'CAN-SKIP-UNTIL', tag);
        const holdBackS = optNum(a, 'HOLD-BACK', tag);
        if (partHoldBackS !== undefined) c.partHoldBackS = partHoldBackS;
        if (canSkipUntilS !== undefined) c.canSkipUntilS = canSkipUntilS;
        if (holdBackS !== undefined) c.holdBackS = holdBackS;
        out.serverControl = c;
        break;
      }
      case '#EXT-X-PART-INF':
        once(out.partTargetS, tag);
        out.partTargetS = num(parseAttributes(value, tag).get('PART-TARGET'), `${tag} PART-TARGET`);
        break;
      case '#EXT-X-PART': {
        const a = parseAttributes(value, tag);
        parts.push({ uri: str(a, 'URI', tag), durationS: num(a.get('DURATION'), `${tag} DURATION`), independent: yes(a, 'INDEPENDENT') });
        break;
      }
      case '#EXT-X-PRELOAD-HINT': {
        const a = parseAttributes(value, tag);
        // TYPE=MAP hints are for init sections; this interface carries the part hint only.
        if (a.get('TYPE') !== 'PART') break;
        once(out.preloadHint, tag);
        out.preloadHint = { uri: str(a, 'URI', tag) };
        break;
      }
      case '#EXT-X-SKIP':
        once(out.skippedSegments, tag);
        if (out.segments.length > 0 || parts.length > 0) throw new PlaylistError('#EXT-X-SKIP after a segment');
        out.skippedSegments = int(parseAttributes(value, tag).get('SKIPPED-SEGMENTS'), `${tag} SKIPPED-SEGMENTS`);
        break;
      case '#EXT-X-RENDITION-REPORT': {
        const a = parseAttributes(value, tag);
        const r: RenditionReport = { uri: str(a, 'URI', tag), lastMsn: int(a.get('LAST-MSN'), `${tag} LAST-MSN`) };
        if (a.has('LAST-PART')) r.lastPart = int(a.get('LAST-PART'), `${tag} LAST-PART`);
        (out.renditionReports ??= []).push(r);
        break;
      }
      case '#EXT-X-STREAM-INF':
      case '#EXT-X-MEDIA':
        throw new PlaylistError('a master playlist, not a media playlist');
      default:
        break;
    }
  }
  if (Number.isNaN(out.targetDurationS)) throw new PlaylistError('missing #EXT-X-TARGETDURATION');
  if (pending.discontinuity || pending.map !== undefined || pending.programDateTime !== undefined) out.openSegment = pending;
  if (parts.length > 0) out.trailingParts = parts;
  return out;
}

// ---- multivariant playlists ----

/** One EXT-X-STREAM-INF variant: a rendition's media playlist and what a player chooses it by. */
export interface VariantStream {
  uri: string;
  /** Peak segment bit rate, bit/s (RFC 8216 4.3.4.2). */
  bandwidthBps: number;
  averageBandwidthBps?: number;
  resolution?: { width: number; height: number };
  /** Maximum frame rate, printed with 3 decimals. */
  frameRate?: number;
  /** RFC 6381 codec list, e.g. "avc1.64001f,mp4a.40.2". */
  codecs?: string;
}

export interface MultivariantPlaylist {
  /** EXT-X-INDEPENDENT-SEGMENTS: every segment of every variant starts decodable. */
  independentSegments: boolean;
  variants: VariantStream[];
}

/** Variants the parser reads at most: a ladder has a handful. */
export const MAX_VARIANTS = 256;

/** A multivariant playlist; the first variant is the one players start with unless they measure better. */
export function writeMultivariantPlaylist(p: MultivariantPlaylist): string {
  const lines = ['#EXTM3U'];
  if (p.independentSegments) lines.push('#EXT-X-INDEPENDENT-SEGMENTS');
  for (const v of p.variants) {
    const attrs = [`BANDWIDTH=${Math.max(1, Math.round(v.bandwidthBps))}`];
    if (v.averageBandwidthBps !== undefined) attrs.push(`AVERAGE-BANDWIDTH=${Math.max(1, Math.round(v.averageBandwidthBps))}`);
    if (v.codecs !== undefined) attrs.push(`CODECS=${quoted(v.codecs)}`);
    if (v.resolution) attrs.push(`RESOLUTION=${Math.round(v.resolution.width)}x${Math.round(v.resolution.height)}`);
    if (v.frameRate !== undefined) attrs.push(`FRAME-RATE=${decimal(v.frameRate)}`);
    if (/[\r\n]/.test(v.uri) || v.uri.startsWith('#') || v.uri.trim() !== v.uri || v.uri === '') throw new PlaylistError(`cannot list ${JSON.stringify(v.uri)}`);
    lines.push(`#EXT-X-STREAM-INF:${attrs.join(',')}`, v.uri);
  }
  return lines.join('\n') + '\n';
}

/**
 * Reads the variants of a multivariant playlist (EXT-X-STREAM-INF + URI; other tags are ignored).
 * Throws PlaylistError on a media playlist or a malformed variant.
 */
export function parseMultivariantPlaylist(text: string): MultivariantPlaylist {
  const lines = boundedLines(text);
  if (lines.next().value !== '#EXTM3U') throw new PlaylistError('missing #EXTM3U');
  const out: MultivariantPlaylist = { independentSegments: false, variants: [] };
  let pending: Omit<VariantStream, 'uri'> | undefined;
  for (const line of lines) {
    if (line === '') continue;
    if (!line.startsWith('#')) {
      if (!pending) throw new PlaylistError(`URI "${line.slice(0, 40)}" without #EXT-X-STREAM-INF`);
      if (out.variants.length >= MAX_VARIANTS) throw new PlaylistError(`more than ${MAX_VARIANTS} variants`);
      out.variants.push({ ...pending, uri: line });
      pending = undefined;
      continue;
    }
    const colon = line.indexOf(':');
    const tag = colon < 0 ? line : line.slice(0, colon);
    const value = colon < 0 ? '' : line.slice(colon + 1);
    switch (tag) {
      case '#EXT-X-INDEPENDENT-SEGMENTS':
        out.independentSegments = true;
        break;
      case '#EXT-X-STREAM-INF': {
        if (pending) throw new PlaylistError('#EXT-X-STREAM-INF without a URI');
        const a = parseAttributes(value, tag);
        const v: Omit<VariantStream, 'uri'> = { bandwidthBps: int(a.get('BANDWIDTH'), `${tag} BANDWIDTH`) };
        if (a.has('AVERAGE-BANDWIDTH')) v.averageBandwidthBps = int(a.get('AVERAGE-BANDWIDTH'), `${tag} AVERAGE-BANDWIDTH`);
        if (a.has('CODECS')) v.codecs = str(a, 'CODECS', tag);
        const res = a.get('RESOLUTION');
        if (res !== undefined) {
          const m = /^(\d{1,5})x(\d{1,5})$/.exec(res);
          if (!m) throw new PlaylistError(`${tag}: bad RESOLUTION "${res.slice(0, 40)}"`);
          v.resolution = { width: Number(m[1]), height: Number(m[2]) };
        }
        const fps = optNum(a, 'FRAME-RATE', tag);
        if (fps !== undefined) v.frameRate = fps;
        pending = v;
        break;
      }
      case '#EXTINF':
      case '#EXT-X-TARGETDURATION':
        throw new PlaylistError('a media playlist, not a multivariant playlist');
      default:
        break;
    }
  }
  if (pending) throw new PlaylistError('#EXT-X-STREAM-INF without a URI');
  return out;
}
