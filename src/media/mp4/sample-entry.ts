// The sample entries of stsd (14496-12 8.5.2, 12.1.3, 12.2.3): avc1/avcC (14496-15 5.4), hvc1/hvcC
// (14496-15 8.4; hvc1 because HLS requires it), av01/av1C (AV1-ISOBMFF 2.2), mp4a/esds (14496-14 5.6).
// The decoder configuration records are written as received: the FLV/E-RTMP sequence header carries
// exactly the record body.
import { box, uint, zeros } from './box.js';
import { OTI_MPEG1_AUDIO, OTI_MPEG4_AUDIO, writeEsds } from './esds.js';
import { Mp4Error } from './error.js';
import type { Mp4AudioTrack, Mp4VideoTrack } from './init.js';

const VISUAL: Record<Mp4VideoTrack['codec'], { entry: string; config: string }> = {
  h264: { entry: 'avc1', config: 'avcC' },
  hevc: { entry: 'hvc1', config: 'hvcC' },
  av1: { entry: 'av01', config: 'av1C' },
};

/** SampleEntry: 6 reserved bytes, data_reference_index 1 (the one dref entry). */
const sampleEntryHeader = (): Buffer => Buffer.concat([zeros(6), uint(16, 1)]);

export function writeVisualSampleEntry(t: Mp4VideoTrack): Buffer {
  const names = VISUAL[t.codec];
  if (!names) throw new Mp4Error(`no sample entry for video codec ${String(t.codec)}`);
  return box(
    names.entry,
    sampleEntryHeader(),
    zeros(16), // pre_defined, reserved, pre_defined[3]
    uint(16, t.width),
    uint(16, t.height),
    uint(32, 0x00480000), // 72 dpi horizontally
    uint(32, 0x00480000), // and vertically
    zeros(4),
    uint(16, 1), // frame_count
    zeros(32), // compressorname: empty
    uint(16, 0x0018), // depth: colour, no alpha
    uint(16, 0xffff), // pre_defined -1
    box(names.config, t.config),
  );
}

export function writeAudioSampleEntry(t: Mp4AudioTrack): Buffer {
  if (t.codec === 'aac' && !t.asc) throw new Mp4Error('AAC track without an AudioSpecificConfig');
  // samplerate is 16.16 fixed point; rates of 64 kHz and above do not fit and are left 0 (the ASC and mdhd carry them).
  const rate = t.sampleRate < 0x10000 ? t.sampleRate * 0x10000 : 0;
  return box(
    'mp4a',
    sampleEntryHeader(),
    zeros(8), // reserved
    uint(16, t.channels),
    uint(16, 16), // samplesize
    zeros(4), // pre_defined, reserved
    uint(32, rate),
    t.codec === 'aac' ? writeEsds(OTI_MPEG4_AUDIO, t.asc) : writeEsds(OTI_MPEG1_AUDIO),
  );
}
