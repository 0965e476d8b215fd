// The cutting policy of the HLS pipeline (demux -> cut -> write): where segments start and end, over
// access units, whatever the container. LL-HLS parts are cut within segments by part-cutter.ts.
//
// With video, a segment opens on a keyframe and is cut by the first keyframe whose DTS is at least the
// target after the segment's start (that keyframe opens the next one). Without video (audio-only),
// segments are cut by time at audio frame boundaries, just before the target is exceeded. Whatever the
// timestamps say, a segment is cut at the duration cap, and at the byte and frame caps (see maxBytes).

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
}

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

const DEFAULT_MAX_SEGMENT_BYTES = 32 * 1024 * 1024;
// 30 s (the default duration cap) of 120 fps video and 96 kHz AAC is ~6 400 frames.
const DEFAULT_MAX_SEGMENT_FRAMES = 20_000;

export class SegmentCutter {
  readonly targetMs: number;
  private readonly maxMs: number;
  private readonly maxBytes: number;
  private readonly maxFrames: number;
  private readonly neverDiscard: boolean;
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
  }

  /** Where a video access unit goes; `cutAtKey`: a keyframe cuts whatever the target (fMP4: a new init segment is due). */
  video(dts: number, key: boolean, cutAtKey = false): Cut {
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

  private isFull(seg: OpenSegment): boolean {
    return seg.bytes >= this.maxBytes || seg.frames >= this.maxFrames;
  }

  /** Whether a full segment is long enough to be kept (closed rather than discarded). */
  private spansHalfTarget(dts: number): boolean {
    return this.open !== undefined && (this.neverDiscard || dts - this.open.startDts >= this.targetMs / 2);
  }
}
