// The last stage of the HLS pipeline (demux -> cut -> write): a container format receives the access
// units of one segment at a time. MPEG-TS (ts-writer.ts) and fMP4/CMAF (fmp4-writer.ts) implement it.
import type { AudioSpecificConfig } from '../aac/asc.js';
import type { AudioAccessUnit, VideoAccessUnit, VideoConfig } from '../flv/demux.js';
import type { MpegAudioFrameHeader } from '../mp3/frame-header.js';

/** The tracks a segment carries (what the writer announces, e.g. in a TS PMT or an fMP4 init segment). */
export interface SegmentTracks {
  readonly video?: VideoConfig['codec'];
  readonly audio?: 'aac' | 'mp3';
}

export interface SegmentWriter {
  /** The video decoder configuration (TS: the SPS/PPS keyframes are made decodable with); undefined before the first. */
  video: VideoConfig | undefined;
  /** The AAC configuration of the audio frames (ADTS headers); undefined before the first. */
  asc: AudioSpecificConfig | undefined;
  /** The bytes `asc` came from (fMP4 esds). */
  ascRecord: Buffer | undefined;
  /** The last MP3 frame header (fMP4: sample rate and channels). */
  mp3: MpegAudioFrameHeader | undefined;
  /** The track set from the next write on (TS: a track may appear mid-segment; fMP4: from the next segment). */
  setTracks(tracks: SegmentTracks): void;
  /** Starts a new segment. */
  begin(): void;
  writeVideo(au: VideoAccessUnit): void;
  writeAudio(au: AudioAccessUnit): void;
  /** Bytes of the open segment so far (for the size cap). */
  readonly bytes: number;
  /** Ends the open segment at `endMs` (the next segment's start, on the input timeline): its bytes. */
  finish(endMs: number): Buffer;
  /** Abandons the open segment. */
  discard(): void;
}
