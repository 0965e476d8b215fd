// The MPEG-4 elementary stream descriptor box (14496-14 5.6, descriptors of 14496-1 7.2.6) that an mp4a
// sample entry carries: object type 0x40 (MPEG-4 audio: AAC, with its AudioSpecificConfig) or 0x6B
// (MPEG-1 audio: MP3, no decoder-specific info).
import { fullBox, uint } from './box.js';
import { Mp4Error } from './error.js';

export const OTI_MPEG4_AUDIO = 0x40;
export const OTI_MPEG1_AUDIO = 0x6b;

const ES_DESCR_TAG = 0x03;
const DECODER_CONFIG_DESCR_TAG = 0x04;
const DEC_SPECIFIC_INFO_TAG = 0x05;
const SL_CONFIG_DESCR_TAG = 0x06;
/** streamType 5 (audio) << 2, upStream 0, reserved 1. */
const AUDIO_STREAM = (0x05 << 2) | 1;
const MAX_DESCRIPTOR = 2 ** 28 - 1;

/** A descriptor: tag, then the size in 7-bit groups, high bit meaning "more" (14496-1 8.3.3). */
function descriptor(tag: number, ...body: Buffer[]): Buffer {
  const size = body.reduce((n, b) => n + b.length, 0);
  if (size > MAX_DESCRIPTOR) throw new Mp4Error(`descriptor of ${size} bytes`);
  const len: number[] = [size & 0x7f];
  for (let rest = size >>> 7; rest > 0; rest >>>= 7) len.unshift((rest & 0x7f) | 0x80);
  return Buffer.concat([Buffer.from([tag, ...len]), ...body]);
}

export function writeEsds(objectTypeIndication: number, decoderSpecificInfo?: Buffer): Buffer {
  const decoderConfig = descriptor(
    DECODER_CONFIG_DESCR_TAG,
    Buffer.from([objectTypeIndication, AUDIO_STREAM]),
    uint(24, 0), // bufferSizeDB: unknown
    uint(32, 0), // maxBitrate: unknown
    uint(32, 0), // avgBitrate: unknown (variable)
    ...(decoderSpecificInfo ? [descriptor(DEC_SPECIFIC_INFO_TAG, decoderSpecificInfo)] : []),
  );
  // ES_ID 0 (ignored in MP4 files), no stream dependence/URL/OCR; SLConfig predefined 2 (reserved for MP4).
  const es = descriptor(ES_DESCR_TAG, uint(16, 0), Buffer.from([0]), decoderConfig, descriptor(SL_CONFIG_DESCR_TAG, Buffer.from([2])));
  return fullBox('esds', 0, 0, es);
}
