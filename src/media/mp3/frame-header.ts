// MPEG-1/2/2.5 audio frame header (ISO 11172-3 2.4.1.3, ISO 13818-3): codec info and frame duration for MP3 streams.
import { MediaFormatError } from '../error.js';

/** Not an MPEG audio frame header (bad sync or reserved values). The only error this parser throws. */
export class Mp3Error extends MediaFormatError {
  override name = 'Mp3Error';
}

export type MpegVersion = 1 | 2 | 2.5;

export interface MpegAudioFrameHeader {
  version: MpegVersion;
  layer: 1 | 2 | 3;
  /** kbit/s; 0 for the "free format" index. */
  bitrateKbps: number;
  sampleRate: number;
  channels: 1 | 2;
  samplesPerFrame: number;
  padding: boolean;
  /** Whole frame length in bytes, header included; 0 for free format (unknown). */
  frameLength: number;
}

// Bitrates in kbit/s by [version 1 | 2/2.5][layer 1..3][index].
const BITRATES: Record<'v1' | 'v2', readonly (readonly number[])[]> = {
  v1: [
    [0, 32, 64, 96, 128, 160, 192, 224, 256, 288, 320, 352, 384, 416, 448],
    [0, 32, 48, 56, 64, 80, 96, 112, 128, 160, 192, 224, 256, 320, 384],
    [0, 32, 40, 48, 56, 64, 80, 96, 112, 128, 160, 192, 224, 256, 320],
  ],
  v2: [
    [0, 32, 48, 56, 64, 80, 96, 112, 128, 144, 160, 176, 192, 224, 256],
    [0, 8, 16, 24, 32, 40, 48, 56, 64, 80, 96, 112, 128, 144, 160],
    [0, 8, 16, 24, 32, 40, 48, 56, 64, 80, 96, 112, 128, 144, 160],
  ],
};
const RATES: Record<MpegVersion, readonly number[]> = { 1: [44100, 48000, 32000], 2: [22050, 24000, 16000], 2.5: [11025, 12000, 8000] };

/** Parses the 4-byte header at `at`. Throws Mp3Error. */
export function parseMpegAudioHeader(data: Buffer, at = 0): MpegAudioFrameHeader {
  if (at < 0 || at + 4 > data.length) throw new Mp3Error('truncated MPEG audio header');
  const h = data.readUInt32BE(at);
  if (h >>> 21 !== 0x7ff) throw new Mp3Error('no MPEG audio frame sync');
  const v = (h >>> 19) & 3;
  const l = (h >>> 17) & 3;
  const bri = (h >>> 12) & 0xf;
  const sri = (h >>> 10) & 3;
  if (v === 1) throw new Mp3Error('reserved MPEG audio version');
  if (l === 0) throw new Mp3Error('reserved MPEG audio layer');
  if (bri === 15) throw new Mp3Error('bad bitrate index 15');
  if (sri === 3) throw new Mp3Error('reserved sample rate index');
  const version: MpegVersion = v === 3 ? 1 : v === 2 ? 2 : 2.5;
  const layer = (4 - l) as 1 | 2 | 3;
  const bitrateKbps = BITRATES[version === 1 ? 'v1' : 'v2'][layer - 1]?.[bri] ?? 0;
  const sampleRate = RATES[version][sri] ?? 44100;
  const padding = ((h >>> 9) & 1) === 1;
  const channels = ((h >>> 6) & 3) === 3 ? 1 : 2;
  const samplesPerFrame = layer === 1 ? 384 : layer === 2 || version === 1 ? 1152 : 576;
  let frameLength = 0;
  if (bitrateKbps > 0) {
    // Layer I counts 4-byte slots; layers II/III count bytes (slot = 1).
    frameLength =
      layer === 1
        ? (Math.floor((12 * bitrateKbps * 1000) / sampleRate) + (padding ? 1 : 0)) * 4
        : Math.floor(((samplesPerFrame / 8) * bitrateKbps * 1000) / sampleRate) + (padding ? 1 : 0);
  }
  return { version, layer, bitrateKbps, sampleRate, channels, samplesPerFrame, padding, frameLength };
}
