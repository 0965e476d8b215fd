// SegmentWriter for MPEG-TS: each segment starts with PAT/PMT; video access units get an AUD and, on
// keyframes that carry no SPS, the SPS/PPS (so every segment decodes alone, as mediacommon's WriteH264 does);
// AAC frames get ADTS headers; audio frames are grouped into PES packets. Output goes into one slab per
// segment so that closing a segment joins its packets without a copy.
import type { AudioSpecificConfig } from '../aac/asc.js';
import { adtsHeader } from '../aac/adts.js';
import type { AudioAccessUnit, VideoAccessUnit, VideoConfig } from '../flv/demux.js';
import { START_CODE } from '../h264/annexb.js';
import { AUD_NALU, NalType, nalType } from '../h264/nal.js';
import type { MpegAudioFrameHeader } from '../mp3/frame-header.js';
import { TsMuxer } from '../mpegts/muxer.js';
import type { TsTracks } from '../mpegts/muxer.js';
import { TS_PACKET_SIZE } from '../mpegts/packetizer.js';
import { ByteSlab, joinContiguous } from '../slab.js';
import { ms, msToTicks90k } from '../time.js';
import type { SegmentTracks, SegmentWriter } from './segment-writer.js';

/** Output memory of the first segment; later ones size it from the previous segment. */
const FIRST_SLAB_BYTES = 256 * 1024;
/** Headroom over the previous segment's size, so that a segment usually fits in one slab. */
const SLAB_HEADROOM = 1.15;

export interface TsWriterOptions {
  /** Audio frames gathered into one PES (default 5): fewer PES headers and packets, still well under 100 ms of delay per packet at 48 kHz. */
  audioFramesPerPes?: number;
}

export class TsSegmentWriter implements SegmentWriter {
  video: VideoConfig | undefined;
  asc: AudioSpecificConfig | undefined;
  /** Not needed by TS (ADTS comes from `asc`, MP3 frames carry their own headers). */
  ascRecord: Buffer | undefined;
  mp3: MpegAudioFrameHeader | undefined;
  private readonly framesPerPes: number;
  private tracks: TsTracks = {};
  /** setTracks() was called since the muxer last took the track set (it is compared only then). */
  private tracksChanged = false;
  private muxer: TsMuxer | undefined;
  /** The open segment's output memory: its TS packets are written here back to back. */
  private slab = new ByteSlab(FIRST_SLAB_BYTES);
  private nextSlabBytes = FIRST_SLAB_BYTES;
  /**
   * Where the open segment's packets lie: runs of consecutive slab memory (usually one), not the Buffer
   * of each PES, which would otherwise live as long as the segment and cost the collector more.
   */
  private runs: { buffer: ArrayBufferLike; start: number; end: number }[] = [];
  bytes = 0;
  /** Pending audio frames as pieces (ADTS header, raw frame, ...), joined only in the PES packets. */
  private pending: Buffer[] = [];
  private pendingFrames = 0;
  private pendingPts = 0;
  private pendingEnd = 0;

  constructor(opts: TsWriterOptions = {}) {
    this.framesPerPes = Math.max(1, opts.audioFramesPerPes ?? 5);
  }

  /** MPEG-TS carries H.264 video only here: another video codec is no track. */
  setTracks(tracks: SegmentTracks): void {
    this.tracks = tracks.video === undefined || tracks.video === 'h264' ? (tracks as TsTracks) : tracks.audio ? { audio: tracks.audio } : {};
    this.tracksChanged = true;
  }

  begin(): void {
    this.slab = new ByteSlab(this.nextSlabBytes);
    this.runs = [];
    this.bytes = 0;
  }

  writeVideo(au: VideoAccessUnit): void {
    const muxer = this.sync();
    // AUD first (required by TS for H.264), then parameter sets before every IDR that carries no SPS (an SPS comes with its PPS). The
    // pieces go to the PES as they are: no joined Annex B copy of the access unit.
    const pieces: Buffer[] = [START_CODE, AUD_NALU];
    let hasParams = false;
    for (const u of au.nalus) if (nalType(u) === NalType.Sps) hasParams = true;
    const h264 = this.video?.h264;
    if (au.key && !hasParams && h264) {
      for (const u of h264.config.sps) pieces.push(START_CODE, u);
      for (const u of h264.config.pps) pieces.push(START_CODE, u);
    }
    for (const u of au.nalus) if (nalType(u) !== NalType.Aud) pieces.push(START_CODE, u);
    this.append(muxer.video(pieces, msToTicks90k(ms(au.pts)), msToTicks90k(ms(au.dts)), au.key));
  }

  writeAudio(au: AudioAccessUnit): void {
    this.sync();
    // Frames are grouped only while they follow each other; a gap starts a new PES with its own PTS.
    if (this.pendingFrames > 0 && Math.abs(au.pts - this.pendingEnd) > Math.max(2, au.durationMs / 2)) this.flushAudio();
    if (this.pendingFrames === 0) {
      this.pendingPts = au.pts;
      this.pendingEnd = au.pts;
    }
    if (au.codec === 'aac' && this.asc) this.pending.push(adtsHeader(this.asc, au.frame.length), au.frame);
    else this.pending.push(au.frame);
    this.pendingFrames++;
    this.pendingEnd += au.durationMs;
    if (this.pendingFrames >= this.framesPerPes) this.flushAudio();
  }

  finish(): Buffer {
    this.flushAudio();
    let data = joinContiguous(this.runs.map((r) => Buffer.from(r.buffer, r.start, r.end - r.start)));
    this.runs = [];
    this.nextSlabBytes = Math.max(TS_PACKET_SIZE, Math.ceil(data.length * SLAB_HEADROOM));
    // A view keeps its whole slab alive as long as the segment is kept: trim one that is mostly unused.
    if (data.buffer.byteLength > data.length * 1.25) data = Buffer.from(data);
    return data;
  }

  discard(): void {
    this.runs = [];
    this.pending = [];
    this.pendingFrames = 0;
  }

  // Brings the PMT up to date; a track that appears mid-segment gets a new PMT version in place.
  private sync(): TsMuxer {
    const changed = this.tracksChanged;
    this.tracksChanged = false;
    if (!this.muxer) {
      this.muxer = new TsMuxer(this.tracks, (bytes) => this.slab.alloc(bytes));
      this.append(this.muxer.tables());
    } else if ((changed && this.muxer.setTracks(this.tracks)) || this.runs.length === 0) {
      this.append(this.muxer.tables());
    }
    return this.muxer;
  }

  private flushAudio(): void {
    if (this.pendingFrames === 0 || !this.muxer) return;
    const frames = this.pending;
    this.pending = [];
    this.pendingFrames = 0;
    if (!this.muxer.currentTracks.audio) return;
    this.append(this.muxer.audio(frames, msToTicks90k(ms(this.pendingPts))));
  }

  private append(chunk: Buffer): void {
    this.bytes += chunk.length;
    const last = this.runs[this.runs.length - 1];
    if (last && last.buffer === chunk.buffer && last.end === chunk.byteOffset) last.end += chunk.length;
    else this.runs.push({ buffer: chunk.buffer, start: chunk.byteOffset, end: chunk.byteOffset + chunk.length });
  }
}
