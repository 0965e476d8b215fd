// Per-stream timestamp normalizer: raw 32-bit RTMP timestamps in, unwrapped monotonic Ms out.
// Everything downstream of the hub (GOP cache, FLV/RTMP outputs, HLS) sees only these timestamps, so a
// publisher that wraps at 2^32, restarts at 0 or jumps never makes a TS muxer or player go backwards.
import { ms } from './time.js';
import type { Ms } from './time.js';

export type Track = 'audio' | 'video';

export interface TimelineOptions {
  /**
   * A forward step on one track larger than this is a jump, not elapsed time. Default 5000 ms. Also how
   * far ahead of the position (beyond the time that passed) the first packet after a same-clock
   * discontinuity may be and keep its own time.
   */
  readonly forwardJumpMs?: number;
  /** A backward step on one track larger than this is a jump (restart); smaller ones are clamped. Default 500 ms. */
  readonly backwardJumpMs?: number;
}

const TWO_32 = 2 ** 32;
const TWO_31 = 2 ** 31;
/** Frame durations assumed until a track has shown its own (30 fps video, AAC at 44.1 kHz). */
const DEFAULT_FRAME_MS: Readonly<Record<Track, number>> = { video: 33, audio: 23 };
/** Observed steps above this are gaps, not a frame duration. */
const MAX_FRAME_MS = 200;

interface TrackState {
  lastOut: number;
  frameMs: number;
}

export class Timeline {
  private readonly forwardJumpMs: number;
  private readonly backwardJumpMs: number;
  /** The last raw 32-bit value and its unwrapped value: the reference for the next unwrap. */
  private lastRaw = -1;
  private lastUnwrapped = 0;
  /** Added to unwrapped raw time; shared by both tracks so that A/V sync survives a rebase. */
  private offset = 0;
  private rebaseNext = false;
  /** After a same-clock discontinuity: how far ahead of the position its first packet may be and keep its time; 0: none. */
  private keepAheadMs = 0;
  /**
   * After a discontinuity whose first packet kept its time: the tracks that have not had a packet since,
   * and that time. Their next step is measured from it, not from their own last output (which may lie
   * further back than a jump), so that they keep their times too.
   */
  private resync: { readonly from: number; readonly tracks: Set<Track> } | undefined;
  private readonly tracks: Partial<Record<Track, TrackState>> = {};

  constructor(opts: TimelineOptions = {}) {
    this.forwardJumpMs = opts.forwardJumpMs ?? 5000;
    this.backwardJumpMs = opts.backwardJumpMs ?? 500;
  }

  /**
   * The publisher changed (republish): the next packet continues one frame after the last output,
   * whatever its raw time. With `sameClock` (a publisher known to write the previous one's clock: a
   * restarted transcoder writing its source's times), the next packet instead keeps its time when it lies
   * ahead of the position by at most forwardJumpMs + `sameClock.elapsedMs` (the time since the previous
   * publisher's last packet: time went on); anything else is rebased as without it.
   */
  discontinuity(sameClock?: { readonly elapsedMs: number }): void {
    this.rebaseNext = true;
    this.keepAheadMs = sameClock ? this.forwardJumpMs + Math.max(0, sameClock.elapsedMs) : 0;
    this.resync = undefined;
  }

  /** The latest output time of any track (where metadata and new sessions are placed). */
  get position(): Ms {
    let max = 0;
    for (const t of Object.values(this.tracks)) max = Math.max(max, t.lastOut);
    return ms(max);
  }

  /** Script data does not move the timeline (onMetaData often carries 0); it sits at the current position. */
  script(): Ms {
    return this.position;
  }

  /** Maps one raw 32-bit audio/video timestamp to the normalized timeline. */
  map(track: Track, raw: number): Ms {
    const r = ((raw % TWO_32) + TWO_32) % TWO_32;
    const unwrapped = this.unwrap(r);
    const state = this.tracks[track];
    let out = unwrapped + this.offset;
    // A track's first step after a kept discontinuity counts from that time, not from its own last output.
    const from = this.resync?.tracks.delete(track) ? this.resync.from : state?.lastOut;
    const anyOutput = Object.keys(this.tracks).length > 0;
    const keep = this.rebaseNext && anyOutput && out > this.position && out - this.position <= this.keepAheadMs;
    if (keep) {
      this.rebaseNext = false;
      this.resync = { from: out, tracks: new Set((Object.keys(this.tracks) as Track[]).filter((t) => t !== track)) };
    } else if (this.rebaseNext || this.isJump(from, out)) {
      // Continue one frame after the furthest output, keeping the raw A/V relation from here on.
      const target = anyOutput ? this.position + (state?.frameMs ?? DEFAULT_FRAME_MS[track]) : unwrapped;
      this.offset = target - unwrapped;
      out = target;
      this.rebaseNext = false;
      this.resync = undefined;
    }
    if (!state) {
      this.tracks[track] = { lastOut: out, frameMs: DEFAULT_FRAME_MS[track] };
      return ms(out);
    }
    const step = out - state.lastOut;
    if (step > 0 && step <= MAX_FRAME_MS) state.frameMs = step;
    // Small backward jitter is clamped so that each track's DTS never decreases.
    if (out < state.lastOut) out = state.lastOut;
    state.lastOut = out;
    return ms(out);
  }

  private isJump(from: number | undefined, out: number): boolean {
    if (from === undefined) return false;
    const step = out - from;
    return step > this.forwardJumpMs || step < -this.backwardJumpMs;
  }

  /** Unwraps against the previous raw value: the nearest 2^32 alias of the step wins. */
  private unwrap(r: number): number {
    if (this.lastRaw < 0) {
      this.lastRaw = r;
      this.lastUnwrapped = r;
      return r;
    }
    let delta = r - this.lastRaw;
    if (delta > TWO_31) delta -= TWO_32;
    else if (delta < -TWO_31) delta += TWO_32;
    this.lastRaw = r;
    this.lastUnwrapped += delta;
    return this.lastUnwrapped;
  }
}
