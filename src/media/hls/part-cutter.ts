// The LL-HLS part policy (RFC 8216bis 4.4.4.9), inside the segments cutter.ts makes: where parts start
// and end, over access units, in ms on the input timeline. Part 0 opens with its segment. A part closes
// at a keyframe (which opens the next part, independent) once it is >= 85% of the target (cutAtKeyframe),
// and before the unit whose addition would make it longer than the target: that unit's end is known only
// when the next unit of its track arrives (the fMP4 writer holds each track's last sample back), so the
// decision is taken for the held unit then.
// A part's duration is the next part's start minus its own, so every part is <= the target unless a
// single unit is longer than the target.
//
// The target cut against is not the configured one: parts are whole frames, and RFC 8216bis 4.4.4.9
// wants every part but the last of a segment (or an INDEPENDENT one) within [85%, 100%] of PART-TARGET.
// At 24 fps a 200 ms target fits 4 frames (167 ms, 83%): no cut is legal. So the target is a whole
// number of frames near the configured one, plus a slack that keeps timestamp jitter (FLV's whole
// milliseconds) from pushing an n-frame part over it. Until the first part closes it is provisional,
// recomputed from the frame duration measured so far (the first part's own frames refine it); it is
// fixed when that part closes, and never changes afterwards: PART-TARGET is a playlist constant.

export interface PartInfo {
  readonly durationMs: number;
  /** Starts on a keyframe (EXT-X-PART INDEPENDENT=YES). */
  readonly independent: boolean;
}

/** Headroom of the effective target over n frames: 4% of 6 frames at 30 fps is 8 ms, well above FLV's 1 ms jitter, while n-frame parts stay at 96% of it. */
export const PART_TARGET_SLACK = 0.04;

/** The part target for frames of `frameMs` near `configuredMs`: n = round(configured / frame) frames (at least 1) plus the slack, whole ms. */
export function effectivePartTargetMs(configuredMs: number, frameMs: number): number {
  const n = Math.max(1, Math.round(configuredMs / frameMs));
  return Math.round(n * frameMs * (1 + PART_TARGET_SLACK));
}

/** How far (relative) the measured mean DTS step may stray from the SPS frame duration: whole-ms timestamps move a mean over k steps by < 1/k ms (2 steps at 60 fps: 3%). */
const SPS_AGREEMENT = 0.03;

/**
 * The video frame duration parts are sized by: the SPS frame rate when the measured DTS steps agree
 * with it (an SPS may announce a field rate or a nominal rate the timestamps do not follow, e.g. 25 for
 * a 24 fps stream, and parts are cut on the timestamps), else the measured steps, else the SPS rate;
 * undefined when neither is known.
 */
export function videoFrameMs(spsFps: number | undefined, measuredMs: number | undefined): number | undefined {
  const sps = spsFps !== undefined && spsFps > 0 && Number.isFinite(spsFps) ? 1000 / spsFps : undefined;
  if (sps === undefined || measuredMs === undefined) return sps ?? measuredMs;
  return Math.abs(sps - measuredMs) <= SPS_AGREEMENT * sps ? sps : measuredMs;
}

/** The shortest a part may be unless it is INDEPENDENT or its segment's last (RFC 8216bis 4.4.4.9). */
const MIN_PART_FRACTION = 0.85;

/** The effective target is at most this many times the configured one. */
const MAX_TARGET_FACTOR = 2;

export class PartCutter {
  /** Index of the open part within its segment. */
  index = 0;
  /** DTS of the open part's start. */
  startDts = 0;
  independent = false;
  /** The effective part target (PART-TARGET), ms: undefined until fixTarget(). */
  targetMs: number | undefined;
  /** Video DTS steps seen before the target was fixed: their mean is the measured frame duration. */
  private firstDts: number | undefined;
  private lastDts = 0;
  private steps = 0;

  constructor(readonly configuredMs: number) {
    if (!(configuredMs > 0)) throw new RangeError(`part target must be > 0 ms, got ${configuredMs}`);
  }

  /** A video frame's DTS, until the target is fixed. Whole-ms jitter (33/34 ms at 30 fps) averages out over the steps. */
  observeFrame(dts: number): void {
    if (this.targetMs !== undefined) return;
    if (this.firstDts === undefined) this.firstDts = this.lastDts = dts;
    else if (dts > this.lastDts) {
      this.lastDts = dts;
      this.steps++;
    }
  }

  /** The mean DTS step of the frames observed, ms; undefined before two. */
  get measuredFrameMs(): number | undefined {
    return this.steps > 0 ? (this.lastDts - (this.firstDts as number)) / this.steps : undefined;
  }

  /** Fixes the target from the frame duration (the configured target itself when unknown); later calls change nothing. */
  fixTarget(frameMs: number | undefined): number {
    this.targetMs ??= this.provisionalTarget(frameMs);
    return this.targetMs;
  }

  private provisionalTarget(frameMs: number | undefined): number {
    if (frameMs === undefined || !(frameMs > 0)) return this.configuredMs;
    // A publisher's timestamps (a slide show, or hostile jumps) cannot blow PART-TARGET up: frames longer than this make single-frame parts.
    return Math.min(effectivePartTargetMs(this.configuredMs, frameMs), MAX_TARGET_FACTOR * this.configuredMs);
  }

  /** Part 0 of a new segment. */
  beginSegment(dts: number, independent: boolean): void {
    this.index = 0;
    this.startDts = dts;
    this.independent = independent;
  }

  /**
   * Whether the held unit at `heldDts`, now known to end at `endDts`, must open a new part (it is not the
   * part's first). `frameMs`: the frame duration as known now, for the target while it is provisional.
   */
  cutBefore(heldDts: number, endDts: number, frameMs: number | undefined): boolean {
    if (heldDts <= this.startDts) return false;
    const target = this.targetMs ?? this.provisionalTarget(frameMs);
    const cut = endDts - this.startDts > target;
    // The first cut fixes the target; the part it closes was within the previous estimate, and stays within this one.
    if (cut && this.targetMs === undefined) this.targetMs = Math.max(target, heldDts - this.startDts);
    return cut;
  }

  /**
   * Whether a keyframe at `dts` that does not start a segment closes the open part (the next one then
   * starts INDEPENDENT). Only when the open part is long enough to end there: a part cut short before a
   * keyframe is neither INDEPENDENT nor its segment's last, so RFC 8216bis 4.4.4.9 wants it at 85% of the
   * target. A keyframe sooner than that (a GOP shorter than the segment, or one landing 1 ms before the
   * segment target) stays inside the part. `frameMs` as for cutBefore.
   */
  cutAtKeyframe(dts: number, frameMs: number | undefined): boolean {
    const target = this.targetMs ?? this.provisionalTarget(frameMs);
    return dts - this.startDts >= MIN_PART_FRACTION * target;
  }

  /** Closes the open part at `dts` (the next part's start; also the segment's end): its duration and flag. The next part opens there. */
  next(dts: number, independent: boolean): PartInfo {
    const info = { durationMs: Math.max(0, dts - this.startDts), independent: this.independent };
    this.index++;
    this.startDts = dts;
    this.independent = independent;
    return info;
  }
}
