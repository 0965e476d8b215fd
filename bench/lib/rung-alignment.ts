// Rung alignment of an ABR ladder, from what a poller saw: for each stream (the source and each rung),
// media sequence number -> that segment's EXTINF and the PTS of its first video frame. A viewer switching
// renditions by sequence number lands seamlessly only if the same number means the same media time in
// every rendition. Pure: the bench (bench/abr.ts) does the fetching.

export interface SegmentStart {
  readonly durationS: number;
  /** PTS of the first video frame (ms); undefined when the segment could not be fetched (an EXT-X-GAP, a 404). */
  readonly startMs: number | undefined;
}

/** Media sequence number -> segment, for one stream. */
export type SegmentLog = ReadonlyMap<number, SegmentStart>;

export interface Alignment {
  /** Sequence numbers of the source compared (those in the range both streams were watched over). */
  readonly compared: number;
  /** Of those, source segments whose start could not be read (the rung's is then not checked). */
  readonly sourceUnread: number;
  /** Listed by the source but absent from the rung, or listed there without media. */
  readonly missing: number;
  /** Listed by both, starting or lasting (EXTINF) more than the tolerance apart; or listed by the rung only. */
  readonly misaligned: number;
  /** Largest start difference seen among the segments present in both (ms). */
  readonly worstMs: number;
  /** A few of the problems, for the log. */
  readonly examples: readonly string[];
}

const EXAMPLES = 5;

/**
 * Compares a rung's segments with the source's over the sequence numbers both were seen with: from the
 * rung's first segment (a rung starts after its source) to the last one both listed. A segment is
 * aligned when both list it, their first frames lie within `toleranceMs` (one frame) of each other and
 * so do their EXTINF durations.
 */
export function compareRung(source: SegmentLog, rung: SegmentLog, toleranceMs: number): Alignment {
  const rungSeqs = [...rung.keys()];
  const sourceSeqs = [...source.keys()];
  if (rungSeqs.length === 0 || sourceSeqs.length === 0) return { compared: 0, sourceUnread: 0, missing: 0, misaligned: 0, worstMs: NaN, examples: [] };
  const from = Math.min(...rungSeqs);
  const to = Math.min(Math.max(...rungSeqs), Math.max(...sourceSeqs));
  let compared = 0;
  let sourceUnread = 0;
  let missing = 0;
  let misaligned = 0;
  let worstMs = 0;
  const examples: string[] = [];
  const note = (s: string): void => {
    if (examples.length < EXAMPLES) examples.push(s);
  };
  for (let seq = from; seq <= to; seq++) {
    const s = source.get(seq);
    const r = rung.get(seq);
    if (!s) {
      if (r) {
        misaligned++;
        note(`#${seq}: only in the rung`);
      }
      continue;
    }
    compared++;
    if (!r || r.startMs === undefined) {
      missing++;
      note(`#${seq}: missing in the rung`);
      continue;
    }
    if (s.startMs === undefined) {
      sourceUnread++;
      continue;
    }
    const diff = Math.abs(r.startMs - s.startMs);
    const durationDiff = Math.abs(r.durationS - s.durationS) * 1000;
    worstMs = Math.max(worstMs, diff);
    if (diff > toleranceMs || durationDiff > toleranceMs) {
      misaligned++;
      note(`#${seq}: starts ${(r.startMs - s.startMs).toFixed(1)} ms from the source's, EXTINF ${r.durationS} vs ${s.durationS} s`);
    }
  }
  return { compared, sourceUnread, missing, misaligned, worstMs, examples };
}
