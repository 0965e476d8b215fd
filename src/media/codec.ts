// The one home of codec names and RFC 6381 CODECS strings. Names are ffprobe's (h264, hevc, aac...), as the
// cluster contract, the API, the dashboard and the FLV parsers all use them; CODECS strings are what HLS
// playlists (EXT-X-STREAM-INF CODECS) and MSE expect.

export type VideoCodec = 'h264' | 'hevc' | 'av1' | 'vp9' | 'unknown';
export type AudioCodec = 'aac' | 'mp3' | 'unknown';

import type { AudioSpecificConfig } from './aac/asc.js';
import type { Av1cConfig } from './av1/av1c.js';
import type { HvccConfig } from './hevc/hvcc.js';

const hex2 = (n: number): string => n.toString(16).padStart(2, '0');

/** RFC 6381 3.3 for H.264: "avc1." + profile_idc, constraint flags and level_idc as hex, e.g. avc1.64001f. */
export const h264CodecString = (profile: number, compat: number, level: number): string => `avc1.${hex2(profile)}${hex2(compat)}${hex2(level)}`;

/**
 * ISO 14496-15 E.3 for HEVC, e.g. hvc1.1.6.L93.B0: profile space (none, A, B, C) and profile_idc; the
 * 32 compatibility flags in reverse bit order, in hex; tier (L Main, H High) and level_idc; then the 6
 * constraint bytes in hex, trailing zero bytes omitted. hvc1, the sample entry HLS requires.
 */
export function hevcCodecString(c: Pick<HvccConfig, 'profileSpace' | 'profileIdc' | 'compatibilityFlags' | 'highTier' | 'levelIdc' | 'constraintBytes'>): string {
  let reversed = 0;
  for (let i = 0; i < 32; i++) if (c.compatibilityFlags & (2 ** (31 - i))) reversed += 2 ** i;
  const constraints = [...c.constraintBytes];
  while (constraints.length > 0 && constraints[constraints.length - 1] === 0) constraints.pop();
  const space = ['', 'A', 'B', 'C'][c.profileSpace] ?? '';
  return [`hvc1`, `${space}${c.profileIdc}`, reversed.toString(16).toUpperCase(), `${c.highTier ? 'H' : 'L'}${c.levelIdc}`, ...constraints.map((b) => b.toString(16).toUpperCase())].join('.');
}

/**
 * AV1-ISOBMFF "Codecs Parameter String", short form, e.g. av01.0.08M.08: profile, two-digit level and
 * tier (M Main, H High), two-digit bit depth. The optional colour fields are left to their defaults.
 */
export const av1CodecString = (c: Pick<Av1cConfig, 'profile' | 'level' | 'tier' | 'bitDepth'>): string =>
  `av01.${c.profile}.${String(c.level).padStart(2, '0')}${c.tier ? 'H' : 'M'}.${String(c.bitDepth).padStart(2, '0')}`;

/**
 * RFC 6381 3.3 for MPEG-4 audio: "mp4a.40." + the audio object type, e.g. mp4a.40.2 for AAC LC. Explicit
 * SBR (HE-AAC) is signalled as object type 5, as players expect.
 */
export const aacCodecString = (asc: Pick<AudioSpecificConfig, 'objectType' | 'extensionSampleRate'>): string =>
  `mp4a.40.${asc.extensionSampleRate !== undefined ? 5 : asc.objectType}`;

/** MP3 as HLS lists it (MPEG-1/2 Layer III inside the MPEG-4 registration, object type 34). */
export const MP3_CODEC_STRING = 'mp4a.40.34';
