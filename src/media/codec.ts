// The one home of codec names and RFC 6381 CODECS strings. Names are ffprobe's (h264, hevc, aac...), as the
// cluster contract, the API, the dashboard and the FLV parsers all use them; CODECS strings are what HLS
// playlists (EXT-X-STREAM-INF CODECS) and MSE expect.

export type VideoCodec = 'h264' | 'hevc' | 'av1' | 'vp9' | 'unknown';
export type AudioCodec = 'aac' | 'mp3' | 'unknown';

import type { AudioSpecificConfig } from './aac/asc.js';

const hex2 = (n: number): string => n.toString(16).padStart(2, '0');

/** RFC 6381 3.3 for H.264: "avc1." + profile_idc, constraint flags and level_idc as hex, e.g. avc1.64001f. */
export const h264CodecString = (profile: number, compat: number, level: number): string => `avc1.${hex2(profile)}${hex2(compat)}${hex2(level)}`;

/**
 * RFC 6381 3.3 for MPEG-4 audio: "mp4a.40." + the audio object type, e.g. mp4a.40.2 for AAC LC. Explicit
 * SBR (HE-AAC) is signalled as object type 5, as players expect.
 */
export const aacCodecString = (asc: Pick<AudioSpecificConfig, 'objectType' | 'extensionSampleRate'>): string =>
  `mp4a.40.${asc.extensionSampleRate !== undefined ? 5 : asc.objectType}`;

/** MP3 as HLS lists it (MPEG-1/2 Layer III inside the MPEG-4 registration, object type 34). */
export const MP3_CODEC_STRING = 'mp4a.40.34';
