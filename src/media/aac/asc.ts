// AudioSpecificConfig (ISO 14496-3 1.6.2.1): the AAC sequence header of FLV/RTMP and MP4 esds.
import { AacError } from './error.js';

/** Table 1.18: samplingFrequencyIndex 0..12. */
export const AAC_SAMPLE_RATES: readonly number[] = [96000, 88200, 64000, 48000, 44100, 32000, 24000, 22050, 16000, 12000, 11025, 8000, 7350];

export interface AudioSpecificConfig {
  /** Audio object type of the core coder (2 = AAC LC). For explicit SBR/PS signalling this is the underlying type. */
  objectType: number;
  /** Core sampling rate in Hz. */
  sampleRate: number;
  /** samplingFrequencyIndex, or 15 when the rate was written explicitly. */
  samplingIndex: number;
  /** channelConfiguration as written (0 = defined by a program config element). */
  channelConfig: number;
  /** Channel count implied by channelConfig (7 means 7.1 = 8 channels); 0 when channelConfig is 0. */
  channels: number;
  /** Output rate with SBR (HE-AAC) when signalled explicitly. */
  extensionSampleRate?: number;
  /** Samples per frame: 960 when frameLengthFlag is set, otherwise 1024. */
  frameLength: number;
}

class Bits {
  private pos = 0;
  constructor(private readonly buf: Buffer) {}
  read(n: number): number {
    let v = 0;
    for (let i = 0; i < n; i++) {
      if (this.pos >= this.buf.length * 8) throw new AacError('truncated AudioSpecificConfig');
      v = v * 2 + (((this.buf[this.pos >> 3] ?? 0) >> (7 - (this.pos & 7))) & 1);
      this.pos++;
    }
    return v;
  }
  get left(): number {
    return this.buf.length * 8 - this.pos;
  }
}

function objectType(b: Bits): number {
  const t = b.read(5);
  return t === 31 ? 32 + b.read(6) : t;
}

function sampleRate(b: Bits): { index: number; rate: number } {
  const index = b.read(4);
  if (index === 15) {
    const rate = b.read(24);
    if (rate === 0) throw new AacError('explicit sampling frequency 0');
    return { index, rate };
  }
  const rate = AAC_SAMPLE_RATES[index];
  if (rate === undefined) throw new AacError(`reserved samplingFrequencyIndex ${index}`);
  return { index, rate };
}

/** Parses an AudioSpecificConfig. Throws AacError. */
export function parseAsc(data: Buffer): AudioSpecificConfig {
  const b = new Bits(data);
  let type = objectType(b);
  if (type === 0) throw new AacError('audio object type 0 (null)');
  const core = sampleRate(b);
  const channelConfig = b.read(4);
  if (channelConfig > 7 && channelConfig !== 11 && channelConfig !== 12 && channelConfig !== 14) {
    throw new AacError(`reserved channelConfiguration ${channelConfig}`);
  }
  let extensionSampleRate: number | undefined;
  if (type === 5 || type === 29) {
    // Explicit hierarchical SBR (HE-AAC) / PS (HE-AACv2): extension rate, then the real core object type.
    extensionSampleRate = sampleRate(b).rate;
    type = objectType(b);
    if (type === 0) throw new AacError('audio object type 0 (null) under SBR/PS');
  }
  // GASpecificConfig's frameLengthFlag, for the AAC object types that carry it.
  const gaTypes = [1, 2, 3, 4, 6, 7, 17, 19, 20, 21, 22, 23];
  const frameLength = gaTypes.includes(type) && b.left > 0 && b.read(1) === 1 ? 960 : 1024;
  const channels = channelConfig === 7 ? 8 : channelConfig === 11 ? 7 : channelConfig === 12 || channelConfig === 14 ? 8 : channelConfig;
  const out: AudioSpecificConfig = { objectType: type, sampleRate: core.rate, samplingIndex: core.index, channelConfig, channels, frameLength };
  if (extensionSampleRate !== undefined) out.extensionSampleRate = extensionSampleRate;
  return out;
}
