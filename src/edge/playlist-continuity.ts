// An edge's HLS viewers must see one continuous playlist even when the upstream's is not: a restarted
// origin (or a failover to another one) starts its playlist from scratch, with its own media sequence
// and discontinuity count. Per playlist (its cache key: the path, and a DVR playlist's ?start=) this
// remembers the sequence number each segment URI was handed out with, and rewrites every new upstream
// playlist so that
//  - a segment keeps the number viewers already know it by, and the media sequence only grows;
//  - where the upstream started over (no segment in common with what this edge served before), the first
//    new segment carries EXT-X-DISCONTINUITY and numbers on from the last one served;
//  - EXT-X-DISCONTINUITY-SEQUENCE counts every discontinuity served before the first listed segment.
// Pure: no I/O, no timers. Applying it to its own output changes nothing, so tiers of edges and sibling
// workers may each apply it.
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

interface PlaylistState {
  /** Segments served, ascending by seq; the newest HISTORY of them. */
  history: Served[];
  /** Discontinuities before history[0]. */
  discBefore: number;
  /** Served seq minus upstream seq in the upstream's current numbering. */
  offset: number;
  /** The last upstream body and its rewrite: every cache hit of the same object gets the same answer. */
  input: Buffer;
  output: Buffer;
}

/** Segments remembered per playlist: more than a live window plus what has slid out of it. */
const HISTORY = 64;
/** Playlists remembered; the least recently used is forgotten first (ended streams). */
const MAX_PLAYLISTS = 10_000;
/** Tags of a playlist whose viewers name its versions (blocking reloads, delta updates, parts). */
const LOW_LATENCY_TAGS = ['#EXT-X-SERVER-CONTROL:', '#EXT-X-PART-INF:', '#EXT-X-SKIP:'];

export class PlaylistContinuity {
  private readonly states = new Map<string, PlaylistState>();

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
    let playlist;
    try {
      playlist = parseMediaPlaylist(body.toString('utf8'));
    } catch (err) {
      // A master playlist or something unreadable goes through as it is.
      if (err instanceof PlaylistError) return body;
      throw err;
    }
    const segs = playlist.segments;
    if (segs.length === 0) return body;

    const known = new Map((st?.history ?? []).map((s) => [s.uri, s]));
    const anchor = segs.findIndex((s) => known.has(s.uri));
    const last = st?.history[st.history.length - 1];
    let first: number;
    let join = false;
    if (!st || !last) first = playlist.mediaSequence;
    else if (anchor >= 0) first = (known.get(segs[anchor]?.uri ?? '')?.seq ?? 0) - anchor;
    else {
      // Nothing in common: the upstream started over. Its own numbering is kept while it still grows.
      join = true;
      const continued = playlist.mediaSequence + st.offset;
      first = continued > last.seq ? continued : last.seq + 1;
    }
    const served: Served[] = segs.map((s, j) => ({
      uri: s.uri,
      seq: first + j,
      disc: s.discontinuity || (known.get(s.uri)?.disc ?? false) || (join && j === 0),
    }));

    const before = st ? st.history.filter((s) => s.seq < first) : [];
    let discBefore = st ? st.discBefore : playlist.discontinuitySequence;
    const discSeq = discBefore + before.reduce((n, s) => n + (s.disc ? 1 : 0), 0);
    const history = [...before, ...served];
    const drop = Math.max(0, history.length - HISTORY);
    for (const s of history.slice(0, drop)) if (s.disc) discBefore++;

    const output = render(body, first, discSeq, served);
    this.states.set(key, { history: history.slice(drop), discBefore, offset: first - playlist.mediaSequence, input: body, output });
    if (this.states.size > MAX_PLAYLISTS) {
      const oldest = this.states.keys().next().value;
      if (oldest !== undefined) this.states.delete(oldest);
    }
    return output;
  }

  get playlists(): number {
    return this.states.size;
  }
}

/** The upstream text with the media and discontinuity sequences set and the added DISCONTINUITY tags. */
function render(body: Buffer, mediaSequence: number, discSeq: number, served: readonly Served[]): Buffer {
  const text = body.toString('utf8');
  const lines = text.split(/\r?\n/);
  const out: string[] = [];
  let segment = 0;
  let flagged = false;
  const sequences = [`#EXT-X-MEDIA-SEQUENCE:${mediaSequence}`, ...(discSeq > 0 ? [`#EXT-X-DISCONTINUITY-SEQUENCE:${discSeq}`] : [])];
  // Without the tag the upstream's sequence was 0: ours goes right after #EXTM3U.
  const hasMediaSequence = lines.some((l) => l.trim().startsWith('#EXT-X-MEDIA-SEQUENCE:'));
  for (const raw of lines) {
    const line = raw.trim();
    if (line.startsWith('#EXT-X-DISCONTINUITY-SEQUENCE:')) continue;
    if (line.startsWith('#EXT-X-MEDIA-SEQUENCE:') || (!hasMediaSequence && line === '#EXTM3U')) {
      if (line === '#EXTM3U') out.push(raw);
      out.push(...sequences);
      continue;
    }
    if (line === '#EXT-X-DISCONTINUITY') flagged = true;
    else if (line.startsWith('#EXTINF')) {
      if (served[segment]?.disc && !flagged) out.push('#EXT-X-DISCONTINUITY');
    } else if (line !== '' && !line.startsWith('#')) {
      segment++;
      flagged = false;
    }
    out.push(raw);
  }
  const rewritten = out.join('\n');
  return rewritten === text ? body : Buffer.from(rewritten, 'utf8');
}
