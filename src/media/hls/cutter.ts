// The cutting policy of the HLS pipeline (demux -> cut -> write): where segments start and end, over
// access units, whatever the container. LL-HLS parts are cut within segments by part-cutter.ts.
//
// With video, a segment opens on a keyframe and is cut by the first keyframe whose DTS is at least the
// target after the segment's start (that keyframe opens the next one). Without video (audio-only),
// segments are cut by time at audio frame boundaries, just before the target is exceeded. Whatever the
// timestamps say, a segment is cut at the duration cap, and at the byte and frame caps (see maxBytes).
//
// Follow mode (ABR renditions): a follower cuts where its leader (the source's segmenter) cut, with the
// leader's sequence numbers, so the same number means the same media time in every rendition and players
// switch between them at segment boundaries. It opens a segment only on a keyframe (or, without video, an
// audio frame) at a leader boundary; frames before the first such boundary are skipped, and a boundary
// the follower never hits (frames lost) leaves a hole in its numbering that the playlist lists as a gap.
// A follower whose frames jump a target duration or more (its encoder lost them) ends the open segment
// at its last frame and skips to the next boundary: the lost time belongs to the gaps.

export interface CutterOptions {
  targetDurationMs: number;
  /** Sequence number of the first segment (default 0). */
  firstSequence?: number;
  /**
   * Hard cap on a segment's length (default max(10 x target, 30 s)): a stream whose keyframes stop, or
   * whose video stalls while audio flows, is cut anyway so memory stays bounded. The segment after such
   * a cut does not start on a keyframe; the next keyframe cuts again.
   */
  maxDurationMs?: number;
  /**
   * Caps on the open segment (default 32 MiB and 20 000 frames), which timing alone cannot bound: a
   * publisher whose timestamps never advance would grow one segment forever. A segment that reaches a
   * cap is cut, or dropped if it spans less than half the target (no real stream packs that much into so
   * little time, and near-empty segments serve no player); after a drop the next segment is flagged as a
   * discontinuity and, with video, waits for a keyframe.
   */
  maxSegmentBytes?: number;
  maxSegmentFrames?: number;
  /**
   * Never drop a segment at a cap, close it however short (LL-HLS: the parts of the open segment are
   * already public, and a dropped segment's number would be reused for different parts).
   */
  neverDiscard?: boolean;
  /** Follow this leader's segment boundaries and numbers (see the file comment); the own target and firstSequence then only bound. */
  follow?: SegmentLeader;
}

/** Where another segmenter's segments start: what a follower cuts by. */
export interface SegmentLeader {
  /**
   * The sequence number of the leader's segment that starts within ±toleranceMs (default
   * FOLLOW_TOLERANCE_MS) of `at`, the presentation time of a keyframe (DTS for audio), if any; the
   * nearest one when several do.
   */
  boundaryAt(at: number, toleranceMs?: number): number | undefined;
}

/**
 * How far a follower's keyframe may be from the leader's boundary and still open that segment: the
 * renditions of one decode carry the source's keyframe times (-force_key_frames source), shifted at most
 * by a frame-rate reduction (one output frame), and boundaries are a target duration apart.
 */
export const FOLLOW_TOLERANCE_MS = 100;

/** The segment being filled. */
export interface OpenSegment {
  readonly sequence: number;
  /** DTS of its first access unit, ms. */
  readonly startDts: number;
  readonly discontinuity: boolean;
  readonly keyframeStart: boolean;
  /** End of the last video frame (its dts + estimated duration) and of the latest audio, for a segment nobody cuts. */
  videoEnd: number;
  audioEnd: number;
  /** Output bytes and access units in it so far, for the caps. */
  bytes: number;
  frames: number;
}

/**
 * What to do before writing an access unit: `end` the open segment ('close': it is complete at this
 * unit's DTS; 'discard': it is dropped at a cap), `open` a new one (starting on a keyframe or not), and
 * whether to `write` the unit at all (not before a video stream's first keyframe).
 */
export interface Cut {
  readonly end: 'none' | 'close' | 'discard';
  readonly open: 'none' | 'keyframe' | 'continued';
  readonly write: boolean;
}

// Every possible decision, allocated once: the policy runs for every access unit.
const cuts = new Map<string, Cut>();
const cut = (end: Cut['end'], open: Cut['open'], write = true): Cut => {
  const k = `${end}/${open}/${write}`;
  let c = cuts.get(k);
  if (!c) cuts.set(k, (c = { end, open, write }));
  return c;
};
const APPEND = cut('none', 'none');
const SKIP = cut('none', 'none', false);
const DISCARD_SKIP = cut('discard', 'none', false);
const CLOSE_SKIP = cut('close', 'none', false);

const DEFAULT_MAX_SEGMENT_BYTES = 32 * 1024 * 1024;
// 30 s (the default duration cap) of 120 fps video and 96 kHz AAC is ~6 400 frames.
const DEFAULT_MAX_SEGMENT_FRAMES = 20_000;

export class SegmentCutter {
  readonly targetMs: number;
  private readonly maxMs: number;
  private readonly maxBytes: number;
  private readonly maxFrames: number;
  private readonly neverDiscard: boolean;
  private readonly follow: SegmentLeader | undefined;
  /** The next segment's number (with a leader: set from it before each open). */
  private sequence: number;
  private discontinuityPending = false;
  /** The segment being filled, if any. */
  open: OpenSegment | undefined;
  /** Segments dropped at a size cap. */
  droppedSegments = 0;

  constructor(opts: CutterOptions) {
    if (!(opts.targetDurationMs > 0)) throw new RangeError(`targetDurationMs must be > 0, got ${opts.targetDurationMs}`);
    this.targetMs = opts.targetDurationMs;
    this.sequence = opts.firstSequence ?? 0;
    this.maxMs = Math.max(this.targetMs, opts.maxDurationMs ?? Math.max(10 * this.targetMs, 30000));
    this.maxBytes = opts.maxSegmentBytes ?? DEFAULT_MAX_SEGMENT_BYTES;
    this.maxFrames = opts.maxSegmentFrames ?? DEFAULT_MAX_SEGMENT_FRAMES;
    this.neverDiscard = opts.neverDiscard ?? false;
    this.follow = opts.follow;
  }

  /**
   * Where a video access unit goes; `cutAtKey`: a keyframe cuts whatever the target (fMP4: a new init
   * segment is due); `pts`: its presentation time (what a follower matches the leader's boundaries by).
   */
  video(dts: number, key: boolean, cutAtKey = false, pts = dts): Cut {
    if (this.follow) return this.followVideo(dts, key, pts);
    const open = this.open;
    if (!open) return key ? cut('none', 'keyframe') : SKIP; // nothing decodable before the first keyframe
    const overlong = dts - open.startDts >= this.maxMs;
    // A segment cut mid-GOP (too long, or full) is followed by one that continues without a keyframe.
    if ((key && (cutAtKey || !open.keyframeStart || dts - open.startDts >= this.targetMs)) || overlong) return cut('close', key ? 'keyframe' : overlong ? 'continued' : 'none');
    if (!this.isFull(open)) return APPEND;
    if (this.spansHalfTarget(dts)) return cut('close', key ? 'keyframe' : 'continued');
    return key ? cut('discard', 'keyframe') : DISCARD_SKIP;
  }

  /** Where an audio access unit goes; `hasVideo`: the stream has video, whose keyframes cut. */
  audio(dts: number, durationMs: number, hasVideo: boolean): Cut {
    if (this.follow) return this.followAudio(dts, durationMs, hasVideo);
    const open = this.open;
    if (!hasVideo) {
      if (!open) return cut('none', 'continued');
      // Cut before the frame that would end past the target, so audio-only EXTINFs stay <= the target
      // and TARGETDURATION does not round up to the next second.
      if (dts + durationMs - open.startDts > this.targetMs) return cut('close', 'continued');
      if (!this.isFull(open)) return APPEND;
      return cut(this.spansHalfTarget(dts) ? 'close' : 'discard', 'continued');
    }
    if (!open) return SKIP; // video stream still waiting for its (next) keyframe
    if (dts - open.startDts >= this.maxMs) return cut('close', 'continued');
    if (!this.isFull(open)) return APPEND;
    // After a drop, video waits for its next keyframe.
    return this.spansHalfTarget(dts) ? cut('close', 'continued') : DISCARD_SKIP;
  }

  /**
   * Where the open segment ends when a unit at `dts` closes it: there, except for a follower after a
   * hole (lost frames), whose segment ends with its last frame.
   */
  endAt(dts: number): number {
    const open = this.open;
    if (!this.follow || !open) return dts;
    const media = Math.max(open.videoEnd, open.audioEnd);
    return dts - media >= this.targetMs ? media : dts;
  }

  /** Opens the next segment at `dts`. */
  begin(dts: number, keyframeStart: boolean): OpenSegment {
    this.open = { sequence: this.sequence++, startDts: dts, discontinuity: this.discontinuityPending, keyframeStart, videoEnd: dts, audioEnd: dts, bytes: 0, frames: 0 };
    this.discontinuityPending = false;
    return this.open;
  }

  /** Ends the open segment (returned) as complete. */
  close(): OpenSegment | undefined {
    const seg = this.open;
    this.open = undefined;
    return seg;
  }

  /** Drops the open segment at a cap: its number is reused, and the next segment is a discontinuity. */
  discard(): void {
    const seg = this.open;
    if (!seg) return;
    this.open = undefined;
    this.sequence = seg.sequence; // never listed: the next segment takes its number
    // The dropped units moved the TS continuity counters and the timeline: players must resync.
    this.discontinuityPending = true;
    this.droppedSegments++;
  }

  /** The next segment follows a new publisher: players must resync. */
  markDiscontinuity(): void {
    this.discontinuityPending = true;
  }

  /** Follow mode, video: a keyframe at a leader boundary opens that segment; caps close without opening (the next boundary reopens). */
  private followVideo(dts: number, key: boolean, pts: number): Cut {
    const open = this.open;
    if (key && this.atLeaderBoundary(pts)) return cut(open ? 'close' : 'none', 'keyframe');
    if (!open) return SKIP;
    if (dts - open.videoEnd >= this.targetMs) return CLOSE_SKIP; // a hole: frames were lost
    return this.followCaps(open, dts);
  }

  /** Follow mode, audio: with video, it only fills the open segment; without, a frame within half a frame of a leader boundary opens it. */
  private followAudio(dts: number, durationMs: number, hasVideo: boolean): Cut {
    const open = this.open;
    if (!hasVideo && this.atLeaderBoundary(dts, durationMs / 2)) return cut(open ? 'close' : 'none', 'continued');
    if (!open) return SKIP;
    if (dts - Math.max(open.audioEnd, open.videoEnd) >= this.targetMs) return CLOSE_SKIP; // a hole: frames were lost
    return this.followCaps(open, dts);
  }

  /** Whether `at` is at a leader boundary this follower has not passed yet; if so the next segment takes its number. */
  private atLeaderBoundary(at: number, toleranceMs?: number): boolean {
    const seq = (this.follow as SegmentLeader).boundaryAt(at, toleranceMs);
    if (seq === undefined || seq < this.sequence) return false;
    this.sequence = seq;
    return true;
  }

  /** Follow mode: a segment past a cap ends (dropped when it spans under half the target) and nothing opens until the next boundary. */
  private followCaps(open: OpenSegment, dts: number): Cut {
    if (dts - open.startDts < this.maxMs && !this.isFull(open)) return APPEND;
    return this.spansHalfTarget(dts) ? CLOSE_SKIP : DISCARD_SKIP;
  }

  private isFull(seg: OpenSegment): boolean {
    return seg.bytes >= this.maxBytes || seg.frames >= this.maxFrames;
  }

  /** Whether a full segment is long enough to be kept (closed rather than discarded). */
  private spansHalfTarget(dts: number): boolean {
    return this.open !== undefined && (this.neverDiscard || dts - this.open.startDts >= this.targetMs / 2);
  }
}
