// The last stage of the HLS pipeline (demux -> cut -> write): a container format receives the access
// units of one segment at a time. MPEG-TS (ts-writer.ts) is the first; fMP4/CMAF plugs in here.
import type { AudioSpecificConfig } from '../aac/asc.js';
import type { AudioAccessUnit, H264Config, VideoAccessUnit } from '../flv/demux.js';

/** The tracks a segment carries (what the writer announces, e.g. in a TS PMT). */
export interface SegmentTracks {
  readonly video?: 'h264';
  readonly audio?: 'aac' | 'mp3';
}

export interface SegmentWriter {
  /** The configuration that keyframes are made decodable with (SPS/PPS); undefined before the first. */
  h264: H264Config | undefined;
  /** The AAC configuration of the audio frames (ADTS headers, fMP4 esds); undefined before the first. */
  asc: AudioSpecificConfig | undefined;
  /** The track set from the next write on (a track may appear mid-segment). */
  setTracks(tracks: SegmentTracks): void;
  /** Starts a new segment. */
  begin(): void;
  writeVideo(au: VideoAccessUnit): void;
  writeAudio(au: AudioAccessUnit): void;
  /** Bytes of the open segment so far (for the size cap). */
  readonly bytes: number;
  /** Ends the open segment: its bytes. */
  finish(): Buffer;
  /** Abandons the open segment. */
  discard(): void;
}
