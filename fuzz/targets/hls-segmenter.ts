// The HLS pipeline on a publisher's packets: demux (legacy and enhanced FLV tag bodies: H.264, HEVC, AV1,
// AAC, MP3) -> cut (segments, LL-HLS parts, caps) -> write (MPEG-TS, fMP4). Nothing a publisher sends may
// throw out of HlsSegmenter; an LL-HLS segment is exactly its parts, a part exactly its chunks. In follow
// mode (an ABR rendition) a second segmenter follows the first on the same packets: it numbers only
// segments its leader made, in increasing order.
import fc from 'fast-check';
import { HlsSegmenter } from '../../src/media/hls/segmenter.js';
import type { HlsSegmenterOptions } from '../../src/media/hls/segmenter.js';
import { TagType } from '../../src/media/packet.js';
import type { MediaPacket } from '../../src/media/packet.js';
import { ms } from '../../src/media/time.js';
import type { FuzzTarget } from '../harness.js';
import { bound, text } from './util.js';

const TARGETS_MS = [200, 500, 1000, 2000];
/** Timestamp deltas are (byte >> 1) - 16 ms: mostly forward, sometimes back. */
const DT_BIAS = 16;

/** Byte 0: the mode (bits 0-1: 0 TS, 1 fMP4, 2-3 LL-HLS; bits 2-3 the target duration; bit 4 a small frame cap; bit 5 follow mode). */
function options(mode: number): HlsSegmenterOptions {
  const format = mode % 4;
  return {
    targetDurationMs: TARGETS_MS[(mode >> 2) & 3]!,
    format: format === 0 ? 'ts' : format === 1 ? 'fmp4' : 'auto',
    ...(format >= 2 ? { partTargetMs: 200 } : {}),
    ...(mode & 0x10 ? { maxSegmentFrames: 20 } : {}),
  };
}

/** The packets of an input: records of [bit 0 audio, bits 1-7 timestamp delta][u16 length][payload]. */
function packets(input: Buffer): MediaPacket[] {
  const out: MediaPacket[] = [];
  let at = 1;
  let t = 0;
  while (at + 3 <= input.length) {
    const k = input[at]!;
    const len = input.readUInt16BE(at + 1);
    at += 3;
    t = Math.max(0, t + (k >> 1) - DT_BIAS);
    out.push({ type: k & 1 ? TagType.Audio : TagType.Video, timestamp: ms(t), payload: input.subarray(at, at + len) });
    at += len;
  }
  return out;
}

/** An input for this target from real packets (the seeds): `mode` as byte 0. */
export function segmenterInput(mode: number, ps: readonly MediaPacket[]): Buffer {
  const parts: Buffer[] = [Buffer.from([mode])];
  let t = 0;
  for (const p of ps) {
    if (p.type !== TagType.Audio && p.type !== TagType.Video) continue;
    const dt = Math.min(127 - DT_BIAS, Math.max(-DT_BIAS, p.timestamp - t));
    t = Math.max(0, t + dt);
    const head = Buffer.from([((dt + DT_BIAS) << 1) | (p.type === TagType.Audio ? 1 : 0), 0, 0]);
    head.writeUInt16BE(Math.min(p.payload.length, 0xffff), 1);
    parts.push(head, p.payload.subarray(0, 0xffff));
  }
  return Buffer.concat(parts);
}

export const target: FuzzTarget = {
  name: 'hls-segmenter',
  description: 'HlsSegmenter.push/end in MPEG-TS, fMP4 and LL-HLS modes; segments are their parts, parts their chunks',
  expected: [],
  run(input) {
    if (input.length === 0) return;
    const chunks = new Map<string, Buffer[]>();
    let out = 0;
    const parts: { sequence: number; data: Buffer }[] = [];
    const leader = input[0]! & 0x20 ? new HlsSegmenter(options(input[0]!)) : undefined;
    const led = new Set<number>();
    const followed: number[] = [];
    const seg = new HlsSegmenter({
      ...options(input[0]!),
      ...(leader ? { follow: leader } : {}),
      sink: {
        onInit: (i) => (out += i.data.length),
        onChunk: (s, i, b) => chunks.set(`${s}.${i}`, [...(chunks.get(`${s}.${i}`) ?? []), b]),
        onPart: (p) => {
          if (!Buffer.concat(chunks.get(`${p.sequence}.${p.index}`) ?? []).equals(p.data)) throw new Error(`part ${p.sequence}.${p.index} is not its chunks`);
          if (!(p.durationMs >= 0)) throw new Error(`part duration ${p.durationMs}`);
          parts.push(p);
        },
      },
    });
    const check = (segments: ReturnType<HlsSegmenter['push']>): void => {
      for (const s of segments) {
        out += s.data.length;
        if (leader) followed.push(s.sequence);
        if (!(s.durationMs >= 0 && Number.isFinite(s.durationMs))) throw new Error(`segment duration ${s.durationMs}`);
        if (s.parts && !Buffer.concat(parts.filter((p) => p.sequence === s.sequence).map((p) => p.data)).equals(s.data)) throw new Error(`segment ${s.sequence} is not its parts`);
      }
    };
    const lead = (segments: ReturnType<HlsSegmenter['push']>): void => {
      for (const s of segments) led.add(s.sequence);
    };
    for (const p of packets(input)) {
      if (leader) lead(leader.push(p));
      check(seg.push(p));
    }
    if (leader) lead(leader.end());
    check(seg.end());
    // (A follower may close a segment before its leader does: compared once both are flushed.)
    followed.forEach((n, i) => {
      if (!led.has(n) || n <= (followed[i - 1] ?? -Infinity)) throw new Error(`follower made ${followed.join(',')}; the leader ${[...led].join(',')}`);
    });
    // A TS packet per access unit at worst (a few bytes of input each), a moof per chunk.
    bound('HLS output', out, input.length, 200, 64 * 1024);
  },
  arbitrary: fc
    .tuple(
      fc.nat(63),
      fc.array(
        fc.tuple(
          fc.nat(255),
          fc.constantFrom(
            Buffer.from('1700000000014d401effe1', 'hex'), // AVC sequence header, truncated
            Buffer.from('1701000000', 'hex'),
            Buffer.from('2701000000', 'hex'),
            Buffer.from('af00', 'hex'),
            Buffer.from('af01', 'hex'),
            Buffer.from('2f', 'hex'),
            Buffer.concat([Buffer.from([0x90]), text('hvc1')]),
            Buffer.concat([Buffer.from([0x91]), text('hvc1'), Buffer.from([0, 0, 0])]),
            Buffer.concat([Buffer.from([0x90]), text('av01')]),
            Buffer.concat([Buffer.from([0xa1]), text('av01')]),
          ),
          fc.uint8Array({ maxLength: 40 }),
        ),
        { maxLength: 40 },
      ),
    )
    .map(([mode, recs]) => {
      const parts: Buffer[] = [Buffer.from([mode])];
      for (const [k, head, rest] of recs) {
        const body = Buffer.concat([head, Buffer.from(rest)]);
        parts.push(Buffer.from([k, body.length >> 8, body.length & 0xff]), body);
      }
      return new Uint8Array(Buffer.concat(parts));
    }),
  dictionary: [text('hvc1'), text('av01'), text('avc1'), text('mp4a'), Buffer.from([0x17, 0x01]), Buffer.from([0xaf, 0x01]), Buffer.from([0x00, 0x00, 0x00, 0x05])],
};
