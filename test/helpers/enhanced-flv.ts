// FLV packets crafted from an .mp4 FFmpeg wrote, for codecs FFmpeg 5.1 cannot put into FLV itself:
// enhanced RTMP video ('hvc1', 'av01', or 'avc1') or HEVC as legacy codec id 12, with AAC audio. mp4box
// reads the decoder configuration records and samples; the samples go out as they are (an ISO BMFF
// sample is exactly an FLV coded frame body), timestamps in ms as RTMP has them.
import { TagType } from '../../src/media/packet.js';
import type { MediaPacket } from '../../src/media/packet.js';
import { ms } from '../../src/media/time.js';
import { readMp4 } from './mp4box.js';

type Box = { start: number; size: number; hdr_size: number };

const si24 = (n: number): Buffer => Buffer.from([(n >> 16) & 0xff, (n >> 8) & 0xff, n & 0xff]);

const FOURCC = { avcC: 'avc1', hvcC: 'hvc1', av1C: 'av01' } as const;

export interface CraftedFlv {
  packets: MediaPacket[];
  videoCodec: 'h264' | 'hevc' | 'av1';
  videoFrames: number;
  audioFrames: number;
}

/** `legacyHevc`: HEVC as FLV codec id 12 (as many encoders send it) instead of enhanced 'hvc1'. */
export function flvFromMp4(file: Buffer, opts: { legacyHevc?: boolean } = {}): CraftedFlv {
  const r = readMp4([file]);
  const vt = r.info.videoTracks[0];
  if (!vt) throw new Error('no video track');
  const entry = r.file.getTrackById(vt.id).mdia.minf.stbl.stsd.entries[0] as unknown as Record<string, Box | undefined>;
  const kind = (['avcC', 'hvcC', 'av1C'] as const).find((k) => entry[k]);
  if (!kind) throw new Error('no avcC, hvcC or av1C');
  const b = entry[kind] as Box;
  // mp4box keeps the box's place in the file, not its raw bytes.
  const record = file.subarray(b.start + b.hdr_size, b.start + b.size);
  const videoCodec = kind === 'avcC' ? 'h264' : kind === 'hvcC' ? 'hevc' : 'av1';
  const legacy = videoCodec === 'h264' || (videoCodec === 'hevc' && opts.legacyHevc === true);
  const codecId = videoCodec === 'h264' ? 7 : 12;
  const fourCc = Buffer.from(FOURCC[kind], 'latin1');
  const withCto = videoCodec !== 'av1';

  const timed: { t: number; order: number; p: MediaPacket }[] = [];
  const add = (t: number, order: number, type: TagType, payload: Buffer): void => {
    timed.push({ t, order, p: { type, timestamp: ms(t), payload } });
  };
  add(0, 0, TagType.Video, legacy ? Buffer.concat([Buffer.from([0x10 | codecId, 0]), si24(0), record]) : Buffer.concat([Buffer.from([0x80 | 0x10 | 0]), fourCc, record]));
  const videoSamples = r.samples.get(vt.id) ?? [];
  for (const s of videoSamples) {
    const dts = Math.round((s.dts * 1000) / s.timescale);
    const cto = Math.round((s.cts * 1000) / s.timescale) - dts;
    const frameType = s.is_sync ? 1 : 2;
    const data = Buffer.from(s.data as Uint8Array);
    const payload = legacy
      ? Buffer.concat([Buffer.from([(frameType << 4) | codecId, 1]), si24(cto), data])
      : Buffer.concat([Buffer.from([0x80 | (frameType << 4) | 1]), fourCc, withCto ? si24(cto) : Buffer.alloc(0), data]);
    add(dts, 2, TagType.Video, payload);
  }

  let audioFrames = 0;
  const at = r.info.audioTracks[0];
  if (at) {
    const aentry = r.file.getTrackById(at.id).mdia.minf.stbl.stsd.entries[0] as unknown as { esds: { esd: { descs: { descs: { data: Uint8Array }[] }[] } } };
    const asc = Buffer.from(aentry.esds.esd.descs[0]?.descs[0]?.data ?? []);
    add(0, 1, TagType.Audio, Buffer.concat([Buffer.from([0xaf, 0]), asc]));
    for (const s of r.samples.get(at.id) ?? []) {
      add(Math.round((s.dts * 1000) / s.timescale), 3, TagType.Audio, Buffer.concat([Buffer.from([0xaf, 1]), Buffer.from(s.data as Uint8Array)]));
      audioFrames++;
    }
  }
  timed.sort((a, b) => a.t - b.t || a.order - b.order);
  return { packets: timed.map((x) => x.p), videoCodec, videoFrames: videoSamples.length, audioFrames };
}
