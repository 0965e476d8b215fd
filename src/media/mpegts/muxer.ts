// A single-program MPEG-TS multiplexer for HLS: H.264 video and AAC (ADTS) or MPEG audio, with
// PIDs as ffmpeg assigns them so that tools and players see familiar streams.
import type { Ticks90k } from '../time.js';
import { TsError } from './error.js';
import { ContinuityCounters, packetizePes, packetizeSection, pcrOnlyPacket } from './packetizer.js';
import { StreamId, pesHeader } from './pes.js';
import { heapAlloc, joinContiguous } from '../slab.js';
import type { ByteAlloc } from '../slab.js';
import { StreamType, patSection, pmtSection } from './psi.js';
import type { PmtStream } from './psi.js';

export const Pid = { Pat: 0x0000, Pmt: 0x1000, Video: 0x0100, Audio: 0x0101 } as const;

export interface TsTracks {
  video?: 'h264';
  audio?: 'aac' | 'mp3';
}

/** PCR at most every 100 ms (ISO 13818-1 2.7.2 asks for <= 100 ms between PCRs). */
const PCR_INTERVAL = 9000;
/**
 * The PCR runs this far behind DTS so that every access unit arrives before its decode time
 * (a T-STD buffer model without underflow); ffmpeg uses a similar default (muxdelay 0.7 s).
 */
const PCR_DELAY = 63000;

export class TsMuxer {
  private readonly cc = new ContinuityCounters();
  private tracks: TsTracks;
  private pmtVersion = 0;
  private pcrDue = true;
  private lastPcrAt = Number.NEGATIVE_INFINITY;
  private lastPcr = 0;

  /** `alloc` gives the memory output is written into (a ByteSlab's, to keep a segment's packets contiguous). */
  constructor(
    tracks: TsTracks,
    private readonly alloc: ByteAlloc = heapAlloc,
  ) {
    this.tracks = TsMuxer.check(tracks);
  }

  private static check(tracks: TsTracks): TsTracks {
    if (!tracks.video && !tracks.audio) throw new TsError('a TS needs at least one track');
    return { ...tracks };
  }

  /** Changes the track set; the PMT version increments so demuxers pick it up. Returns whether anything changed. */
  setTracks(tracks: TsTracks): boolean {
    const next = TsMuxer.check(tracks);
    if (next.video === this.tracks.video && next.audio === this.tracks.audio) return false;
    this.tracks = next;
    this.pmtVersion = (this.pmtVersion + 1) & 0x1f;
    this.pcrDue = true;
    return true;
  }

  get currentTracks(): Readonly<TsTracks> {
    return this.tracks;
  }

  /** PCR_PID: the video PID, or the audio PID for audio-only programs. */
  get pcrPid(): number {
    return this.tracks.video ? Pid.Video : Pid.Audio;
  }

  /** PAT + PMT packets. A segment starts with them, and the next PES on the PCR PID carries a PCR. */
  tables(): Buffer {
    const streams: PmtStream[] = [];
    if (this.tracks.video) streams.push({ streamType: StreamType.H264, pid: Pid.Video });
    if (this.tracks.audio) streams.push({ streamType: this.tracks.audio === 'aac' ? StreamType.AacAdts : StreamType.Mpeg1Audio, pid: Pid.Audio });
    this.pcrDue = true;
    return joinContiguous([
      packetizeSection(this.cc, Pid.Pat, patSection(Pid.Pmt), this.alloc),
      packetizeSection(this.cc, Pid.Pmt, pmtSection(this.pcrPid, streams, this.pmtVersion), this.alloc),
    ]);
  }

  // Decides whether a packet stamped `t` on the PCR PID carries a PCR, and its value (never going back).
  private pcrFor(t: number, force: boolean): number | undefined {
    if (!force && !this.pcrDue && t - this.lastPcrAt < PCR_INTERVAL) return undefined;
    this.pcrDue = false;
    this.lastPcrAt = t;
    this.lastPcr = Math.max(this.lastPcr, t - PCR_DELAY);
    return this.lastPcr;
  }

  /**
   * One H.264 access unit in Annex B form (the caller puts AUD and, for IDR, SPS/PPS first): one buffer,
   * or its pieces in order (start codes and NAL units), which are copied into the packets without joining.
   */
  video(annexB: Buffer | readonly Buffer[], pts: Ticks90k, dts: Ticks90k, keyframe: boolean): Buffer {
    if (!this.tracks.video) throw new TsError('video() on a TS without a video track');
    const parts: readonly Buffer[] = Buffer.isBuffer(annexB) ? [annexB] : annexB;
    let length = 0;
    for (const p of parts) length += p.length;
    const header = pesHeader({ streamId: StreamId.Video, pts, dts, payloadLength: length, unbounded: true, dataAligned: true });
    const pcr = this.pcrFor(dts, keyframe);
    return packetizePes(this.cc, Pid.Video, [header, ...parts], { pcr, randomAccess: keyframe }, this.alloc);
  }

  /** One or more complete audio frames (ADTS-framed AAC, or MPEG audio frames) starting at `pts`: one buffer or pieces in order. */
  audio(frames: Buffer | readonly Buffer[], pts: Ticks90k): Buffer {
    if (!this.tracks.audio) throw new TsError('audio() on a TS without an audio track');
    const parts: readonly Buffer[] = Buffer.isBuffer(frames) ? [frames] : frames;
    let length = 0;
    for (const p of parts) length += p.length;
    const pes = [pesHeader({ streamId: StreamId.Audio, pts, payloadLength: length }), ...parts];
    if (this.pcrPid === Pid.Audio) {
      const pcr = this.pcrFor(pts, false);
      // Every audio frame is an entry point, so audio-only segments mark random access like video keyframes.
      return packetizePes(this.cc, Pid.Audio, pes, { pcr, randomAccess: pcr !== undefined }, this.alloc);
    }
    // Sparse video (slides, a stalled camera) would leave the PCR stale: send a PCR-only packet on the video PID
    // (written first, so that it lies right before the audio packets in the output memory).
    if (this.lastPcrAt > Number.NEGATIVE_INFINITY && pts - this.lastPcrAt >= PCR_INTERVAL * 2) {
      const pcr = this.pcrFor(pts, true);
      if (pcr !== undefined) {
        const pcrPacket = pcrOnlyPacket(this.cc, Pid.Video, pcr, this.alloc);
        return joinContiguous([pcrPacket, packetizePes(this.cc, Pid.Audio, pes, {}, this.alloc)]);
      }
    }
    return packetizePes(this.cc, Pid.Audio, pes, {}, this.alloc);
  }
}
