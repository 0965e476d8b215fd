// One FLV video keyframe made decodable on its own: the parameter sets of its codec header followed by
// the frame's NAL units, as an Annex B elementary stream (what `ffmpeg -f h264|hevc -i pipe:0` reads).
// FLV carries both codecs length-prefixed (ISO 14496-15), with the parameter sets in the sequence
// header (avcC, hvcC); snapshots decode the GOP cache's keyframe this way. Pure: no I/O.
import { MediaFormatError } from '../error.js';
import { toAnnexB } from '../h264/annexb.js';
import { splitAvcc } from '../h264/avcc.js';
import { parseHvcc } from '../hevc/hvcc.js';
import type { MediaPacket } from '../packet.js';
import { FlvDemuxer } from './demux.js';

/** The elementary stream formats a keyframe comes out as (FFmpeg's demuxer names). */
export type AnnexBFormat = 'h264' | 'hevc';

export interface AnnexBKeyframe {
  readonly format: AnnexBFormat;
  /** Parameter sets, then the frame's NAL units, each after a 4-byte start code. A copy: the packets may be released. */
  readonly data: Buffer;
  /** From the SPS, when it parses. */
  readonly width?: number;
  readonly height?: number;
}

export type KeyframeAnnexBResult =
  | { readonly ok: true; readonly keyframe: AnnexBKeyframe }
  /** 'unsupported': a codec without an Annex B form (AV1); 'malformed': the header or frame does not parse, or the frame is no keyframe. */
  | { readonly ok: false; readonly reason: 'unsupported' | 'malformed'; readonly codec?: string };

/** `header`: the stream's video sequence header packet; `key`: a video keyframe packet of that stream. */
export function keyframeAnnexB(header: MediaPacket, key: MediaPacket): KeyframeAnnexBResult {
  const demuxer = new FlvDemuxer();
  const config = demuxer.push(header);
  if (config.kind !== 'video-config') return { ok: false, reason: 'malformed' };
  const video = config.video;
  if (video.codec !== 'h264' && video.codec !== 'hevc') return { ok: false, reason: 'unsupported', codec: video.codec };
  const frame = demuxer.push(key);
  if (frame.kind !== 'video' || !frame.key) return { ok: false, reason: 'malformed' };
  let params: readonly Buffer[];
  let units: readonly Buffer[];
  if (video.h264) {
    params = [...video.h264.config.sps, ...video.h264.config.pps];
    units = frame.nalus;
  } else {
    // The record parsed once already, in the demuxer: it cannot throw here.
    const hvcc = parseHvcc(video.record);
    params = hvcc.arrays.flatMap((a) => a.nalus);
    units = splitFrame(frame.data, hvcc.lengthSize);
  }
  if (units.length === 0) return { ok: false, reason: 'malformed' };
  const size = video.width !== undefined && video.height !== undefined ? { width: video.width, height: video.height } : {};
  return { ok: true, keyframe: { format: video.codec, data: toAnnexB([...params, ...units]), ...size } };
}

/** The frame's NAL units; none when its length prefixes do not add up (the caller reports it malformed). */
function splitFrame(data: Buffer, lengthSize: 1 | 2 | 4): Buffer[] {
  try {
    return splitAvcc(data, lengthSize);
  } catch (e) {
    if (e instanceof MediaFormatError) return [];
    throw e;
  }
}
