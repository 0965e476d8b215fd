// An edge's HLS viewers must see one continuous playlist even when the upstream's is not: a restarted
// origin (or a failover to another one) starts its playlist from scratch, with its own media sequence
// and discontinuity count. Per playlist (its cache key: the path, and a DVR playlist's ?start=) this
// remembers the sequence number each segment URI was handed out with, and rewrites every new upstream
// playlist so that
//  - a segment keeps the number viewers already know it by, and the media sequence only grows;
//  - where the upstream started over (no segment in common with what this edge served before), the first
//    new segment carries EXT-X-DISCONTINUITY and numbers on from the last one served;
//  - the playlist does not shrink below three target durations at the restart (RFC 8216 6.2.2: a server
//    removes a segment only while the playlist stays that long): the newest segments served before it
//    stay listed ahead of the DISCONTINUITY, as they were (numbers, EXTINF, own tags, the EXT-X-MAP in
//    force), and leave from the front as the new upstream's playlist grows (an upstream that removes
//    segments before it lasts three target durations itself, unlike ours, makes them all go at once);
//  - EXT-X-DISCONTINUITY-SEQUENCE counts every discontinuity served before the first listed segment.
// Pure: no I/O, no timers. Applying it to its own output changes nothing, so tiers of edges and sibling
// workers may each apply it.
//
// The old segments kept listed may be gone upstream (a dead origin). Viewers who were watching loaded
// them before the restart; a player starting then begins three target durations from the end, at them.
// The prefetcher fetched each when it was first listed, so this edge's cache serves them. Without it
// (evicted, or that fetch failed) the edge passes on the new upstream's answer, a 404: that player fails
// to load the segment, as one an origin lost, and retries or skips it as it handles any segment error.
//
// Playlists that offer blocking reloads or delta updates (EXT-X-SERVER-CONTROL: LL-HLS) pass through
// untouched. Their viewers send media sequence numbers back (_HLS_msn) that go upstream as they are,
// and a delta update (EXT-X-SKIP) counts segments the edge never saw: renumbering would make viewers
// ask the upstream for versions it does not have. What that gives up: across an upstream restart such
// a playlist gets no added EXT-X-DISCONTINUITY. The origin numbers segments from wall-clock seconds,
// so the numbers still grow, and the new segments come with a new init segment (EXT-X-MAP).
import { PlaylistError, parseMediaPlaylist } from '../media/hls/playlist.js';

interface Served {
  readonly uri: string;
  readonly seq: number;
  readonly disc: boolean;
}

/** A segment of the last playlist served, as it was listed there. */
interface Listed {
  readonly seq: number;
  /** EXTINF, ms (playlists print 3 decimals). */
  readonly ms: number;
  /** Its lines as served: its own tags (EXTINF, PROGRAM-DATE-TIME, DISCONTINUITY, GAP...) and its URI. */
  readonly lines: readonly string[];
  /** The EXT-X-MAP line in force for it (its own or an earlier segment's): re-sent when it is listed first. */
  readonly map: string | undefined;
}

interface PlaylistState {
  /** Segments served, ascending by seq; the newest HISTORY of them, and all those listed last. */
  history: Served[];
  /** Discontinuities before history[0]. */
  discBefore: number;
  /** Served seq minus upstream seq in the upstream's current numbering. */
  offset: number;
  /** The newest segments of the last playlist served, three target durations of them: what a restart may keep. */
  recent: Listed[];
  /** The segments from before an upstream restart that the last playlist served still listed. */
  kept: Listed[];
  /** The last upstream body and its rewrite: every cache hit of the same object gets the same answer. */
  input: Buffer;
  output: Buffer;
}

/** Segments remembered per playlist: more than a live window plus what has slid out of it. */
const HISTORY = 64;
/** Playlists remembered; the least recently used is forgotten first (ended streams). */
const MAX_PLAYLISTS = 10_000;
/**
 * Bytes of the playlists remembered (their last upstream body and rewrite; what else a state holds grows
 * with them), at most, least recently used forgotten first: a DVR playlist lists hours of segments, and
 * every ?start= a client names is a playlist of its own.
 */
const MAX_BYTES = 64 * 1024 * 1024;

const bytesOf = (st: PlaylistState): number => st.input.length + (st.output === st.input ? 0 : st.output.length);
/** Tags of a playlist whose viewers name its versions (blocking reloads, delta updates, parts). */
const LOW_LATENCY_TAGS = ['#EXT-X-SERVER-CONTROL:', '#EXT-X-PART-INF:', '#EXT-X-SKIP:'];
/** RFC 8216 6.2.2: a live playlist lasts at least this many target durations once segments leave it. */
const MIN_TARGET_DURATIONS = 3;

export class PlaylistContinuity {
  private readonly states = new Map<string, PlaylistState>();
  /** bytesOf every state. */
  private bytes = 0;

  /** The playlist cached under `key` (playlistRequest) as viewers get it; `body` is what the upstream answered (200). */
  apply(key: string, body: Buffer): Buffer {
    const st = this.states.get(key);
    if (st) {
      // Re-inserted: the map stays in recency order for the cap below.
      this.states.delete(key);
      this.states.set(key, st);
      if (st.input === body || st.input.equals(body)) return st.output;
    }
    if (LOW_LATENCY_TAGS.some((tag) => body.includes(tag))) return body;
    const text = body.toString('utf8');
    let playlist;
    try {
      playlist = parseMediaPlaylist(text);
    } catch (err) {
      // A master playlist or something unreadable goes through as it is.
      if (err instanceof PlaylistError) return body;
      throw err;
    }
    const segs = playlist.segments;
    // Segments are told apart by URI: a playlist naming one twice is no live window to follow.
    if (segs.length === 0 || new Set(segs.map((s) => s.uri)).size < segs.length) return body;
    const parts = splitPlaylist(text);
    const upstreamMs = segs.reduce((n, s) => n + msOf(s.durationS), 0);
    const short = upstreamMs < MIN_TARGET_DURATIONS * 1000 * playlist.targetDurationS;
    // Kept segments cannot be followed by new ones that lack an init section of their own: theirs would apply.
    const mapped = (l: Listed | undefined): boolean => l?.map === undefined || (parts.segments[0] ?? []).some((x) => tagOf(x.trim()) === '#EXT-X-MAP');

    const known = new Map((st?.history ?? []).map((s) => [s.uri, s]));
    const anchor = segs.findIndex((s) => known.has(s.uri));
    const last = st?.history[st.history.length - 1];
    let first: number;
    let join = false;
    if (!st || !last) first = playlist.mediaSequence;
    else if (anchor >= 0) first = (known.get(segs[anchor]?.uri ?? '')?.seq ?? 0) - anchor;
    else {
      // Nothing in common: the upstream started over. Its own numbering is kept while it still grows,
      // unless segments served before are kept in front of its short playlist: then the numbers go on from them.
      join = true;
      const continued = playlist.mediaSequence + st.offset;
      const keeps = short && mapped(st.recent.at(-1));
      first = continued > last.seq && !keeps ? continued : last.seq + 1;
    }
    const served: Served[] = segs.map((s, j) => ({
      uri: s.uri,
      seq: first + j,
      disc: s.discontinuity || (known.get(s.uri)?.disc ?? false) || (join && j === 0),
    }));

    // Segments from before the restart listed ahead of the new upstream's, newest first, until the playlist is
    // long enough: at the restart the newest served, then those still listed, as they leave from the front.
    const candidates = (join ? st?.recent : st?.kept)?.filter((s) => s.seq < first) ?? [];
    const kept: Listed[] = [];
    let targetS = playlist.targetDurationS;
    if (short && candidates.at(-1)?.seq === first - 1 && mapped(candidates.at(-1))) {
      let ms = upstreamMs;
      for (let i = candidates.length - 1; i >= 0 && ms < MIN_TARGET_DURATIONS * 1000 * targetS; i--) {
        const c = candidates[i] as Listed;
        kept.unshift(c);
        ms += c.ms;
        // Every EXTINF rounded stays within the target duration (4.3.3.1), also an old one's.
        targetS = Math.max(targetS, Math.round(c.ms / 1000));
      }
    }
    const start = kept[0]?.seq ?? first;

    const before = st ? st.history.filter((s) => s.seq < first) : [];
    let discBefore = st ? st.discBefore : playlist.discontinuitySequence;
    const discSeq = discBefore + before.reduce((n, s) => n + (s.disc && s.seq < start ? 1 : 0), 0);
    const history = [...before, ...served];
    // What is still listed stays remembered, or the discontinuity count above would count it again.
    const drop = Math.max(0, Math.min(history.length - HISTORY, history.findIndex((s) => s.seq >= start)));
    for (const s of history.slice(0, drop)) if (s.disc) discBefore++;

    const rendered = render(parts, { mediaSequence: start, discSeq, targetS: targetS === playlist.targetDurationS ? undefined : targetS, kept, served, durations: segs.map((s) => msOf(s.durationS)) });
    const output = rendered.text === text ? body : Buffer.from(rendered.text, 'utf8');
    const next: PlaylistState = {
      history: history.slice(drop),
      discBefore,
      offset: first - playlist.mediaSequence,
      recent: newest(rendered.listed, MIN_TARGET_DURATIONS * 1000 * targetS),
      kept: rendered.listed.slice(0, kept.length),
      input: body,
      output,
    };
    if (st) this.bytes -= bytesOf(st);
    this.states.set(key, next);
    this.bytes += bytesOf(next);
    // The newest (this one) always stays.
    while (this.states.size > 1 && (this.states.size > MAX_PLAYLISTS || this.bytes > MAX_BYTES)) {
      const [oldest, old] = this.states.entries().next().value as [string, PlaylistState];
      this.states.delete(oldest);
      this.bytes -= bytesOf(old);
    }
    return output;
  }

  get playlists(): number {
    return this.states.size;
  }
}

const msOf = (s: number): number => Math.round(s * 1000);

const tagOf = (line: string): string => {
  const colon = line.indexOf(':');
  return colon < 0 ? line : line.slice(0, colon);
};

/** Tags that belong to the segment after them (RFC 8216 4.3.2, 8216bis 4.4.4): a playlist's header ends at the first. */
const SEGMENT_TAGS = new Set(['#EXTINF', '#EXT-X-BYTERANGE', '#EXT-X-DISCONTINUITY', '#EXT-X-KEY', '#EXT-X-MAP', '#EXT-X-PROGRAM-DATE-TIME', '#EXT-X-DATERANGE', '#EXT-X-GAP', '#EXT-X-BITRATE']);
/** Header tags this rewrites, read from the header wherever the upstream put them. */
const SEQUENCE_TAGS = new Set(['#EXT-X-MEDIA-SEQUENCE', '#EXT-X-DISCONTINUITY-SEQUENCE', '#EXT-X-TARGETDURATION']);

interface PlaylistParts {
  readonly header: string[];
  /** Each segment's lines: its tags and, last, its URI. */
  readonly segments: string[][];
  /** After the last URI (EXT-X-ENDLIST). */
  readonly trailer: string[];
}

function splitPlaylist(text: string): PlaylistParts {
  const header: string[] = [];
  const segments: string[][] = [];
  let current: string[] | undefined;
  for (const raw of text.split(/\r?\n/)) {
    const line = raw.trim();
    const uri = line !== '' && !line.startsWith('#');
    if (SEQUENCE_TAGS.has(tagOf(line)) || (!current && !uri && !SEGMENT_TAGS.has(tagOf(line)))) {
      header.push(raw);
      continue;
    }
    current ??= [];
    current.push(raw);
    if (uri) {
      segments.push(current);
      current = [];
    }
  }
  return { header, segments, trailer: current ?? [] };
}

interface Rendering {
  readonly mediaSequence: number;
  readonly discSeq: number;
  /** The target duration, when kept segments need it raised. */
  readonly targetS: number | undefined;
  readonly kept: readonly Listed[];
  readonly served: readonly Served[];
  /** The upstream segments' EXTINF, ms. */
  readonly durations: readonly number[];
}

/** Inserts `line` before the segment's EXTINF. */
const beforeExtinf = (lines: readonly string[], line: string): string[] => {
  const at = lines.findIndex((l) => tagOf(l.trim()) === '#EXTINF');
  return [...lines.slice(0, at < 0 ? 0 : at), line, ...lines.slice(at < 0 ? 0 : at)];
};

/**
 * The upstream text with the media and discontinuity sequences set, the kept segments ahead of its own
 * and the added DISCONTINUITY tags; and every segment it lists, as listed.
 */
function render(parts: PlaylistParts, r: Rendering): { text: string; listed: Listed[] } {
  const out: string[] = [];
  const sequences = [`#EXT-X-MEDIA-SEQUENCE:${r.mediaSequence}`, ...(r.discSeq > 0 ? [`#EXT-X-DISCONTINUITY-SEQUENCE:${r.discSeq}`] : [])];
  // Without the tag the upstream's sequence was 0: ours goes right after #EXTM3U.
  const hasMediaSequence = parts.header.some((l) => tagOf(l.trim()) === '#EXT-X-MEDIA-SEQUENCE');
  for (const raw of parts.header) {
    const line = raw.trim();
    const tag = tagOf(line);
    if (tag === '#EXT-X-DISCONTINUITY-SEQUENCE') continue;
    if (tag === '#EXT-X-TARGETDURATION' && r.targetS !== undefined) out.push(`${tag}:${r.targetS}`);
    else if (tag === '#EXT-X-MEDIA-SEQUENCE' || (!hasMediaSequence && line === '#EXTM3U')) {
      if (line === '#EXTM3U') out.push(raw);
      out.push(...sequences);
    } else out.push(raw);
  }
  const listed: Listed[] = [];
  for (const [i, k] of r.kept.entries()) {
    const own = k.lines.some((l) => tagOf(l.trim()) === '#EXT-X-MAP');
    const lines = i === 0 && k.map !== undefined && !own ? beforeExtinf(k.lines, k.map) : k.lines;
    out.push(...lines);
    listed.push({ ...k, lines });
  }
  let map: string | undefined;
  for (const [i, seg] of parts.segments.entries()) {
    const s = r.served[i];
    const flagged = seg.some((l) => l.trim() === '#EXT-X-DISCONTINUITY');
    const lines = s?.disc && !flagged ? beforeExtinf(seg, '#EXT-X-DISCONTINUITY') : seg;
    map = lines.findLast((l) => tagOf(l.trim()) === '#EXT-X-MAP')?.trim() ?? map;
    out.push(...lines);
    listed.push({ seq: s?.seq ?? 0, ms: r.durations[i] ?? 0, lines: lines.filter((l) => l.trim() !== ''), map });
  }
  out.push(...parts.trailer);
  return { text: out.join('\n'), listed };
}

/** The shortest run of the newest `listed` lasting `ms` (all of them when they are shorter). */
function newest(listed: readonly Listed[], ms: number): Listed[] {
  let i = listed.length;
  for (let total = 0; i > 0 && total < ms; ) total += (listed[--i] as Listed).ms;
  return listed.slice(i);
}
