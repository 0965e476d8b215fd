// Regenerates the seed corpus (fuzz/corpus/<target>/) from real FFmpeg output:
//   node --import tsx fuzz/seeds.ts
// FFmpeg encodes a lavfi test pattern to FLV (H.264 + AAC, H.264 + MP3), MPEG-TS, HLS and raw H.264/HEVC,
// and publishes it over RTMP to a local capture server (our ServerSession completes the handshake; every
// byte the client sends is recorded). Seeds are cut small: the corpus stays well under 2 MB.
// Streaming targets read byte 0 as the piece size (fuzz/targets/util.ts): seeds carry one.
import { mkdtempSync, readFileSync, rmSync, mkdirSync, writeFileSync, readdirSync } from 'node:fs';
import { createServer, type AddressInfo, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runFfmpeg } from '../test/helpers/ffmpeg.js';
import { RFC_LL_EXAMPLE } from '../test/helpers/llhls-vectors.js';
import { decodeAmf0 } from '../src/media/amf/amf0.js';
import { encodeAmf3 } from '../src/media/amf/amf3.js';
import { encodeFileMetadata, OPEN_FILE_VALUES } from '../src/media/flv/file-meta.js';
import { FlvReader } from '../src/media/flv/reader.js';
import { encodeScriptData } from '../src/media/flv/script.js';
import { parseAudioTagHeader, parseVideoTagHeader } from '../src/media/flv/tag-header.js';
import { splitAnnexB } from '../src/media/h264/annexb.js';
import { parseHvcc, HevcNalType } from '../src/media/hevc/hvcc.js';
import { parseAv1c } from '../src/media/av1/av1c.js';
import { AV1C, HVCC, record } from '../test/helpers/codec-records.js';
import { parseAvcConfig, writeAvcConfig } from '../src/media/h264/avc-config.js';
import { writeMediaPlaylist, writeMultivariantPlaylist } from '../src/media/hls/playlist.js';
import { thumbnailLayout, thumbnailVtt } from '../src/media/thumbnail-track.js';
import { TagType, type MediaPacket } from '../src/media/packet.js';
import { ms } from '../src/media/time.js';
import { TS_PACKET_SIZE } from '../src/media/mpegts/packetizer.js';
import { ChunkReader } from '../src/rtmp/chunk-reader.js';
import { HANDSHAKE_SIZE } from '../src/rtmp/handshake.js';
import { ServerSession } from '../src/rtmp/session.js';
import { RelayApp } from '../test/rtmp/relay-app.js';
import { corpusDir } from './corpus.js';
import { segmenterInput } from './targets/hls-segmenter.js';
import { keyframeInput } from './targets/keyframe-annexb.js';
import { continuitySeeds } from './targets/playlist-continuity.js';

/** Byte 0 of a streaming seed: index 7 of PIECE_SIZES (whole input), 0 (1-byte pieces), 4 (188). */
const WHOLE = 7;
const BYTEWISE = 0;
const TS_PIECES = 4;
const MAX_SEED = 16 * 1024;

const tmp = mkdtempSync(join(tmpdir(), 'livecdn-seeds-'));
const seeds = new Map<string, Map<string, Buffer>>();
const put = (target: string, name: string, data: Buffer): void => {
  if (!seeds.has(target)) seeds.set(target, new Map());
  seeds.get(target)!.set(name, data.subarray(0, MAX_SEED));
};
const withByte = (b: number, data: Buffer): Buffer => Buffer.concat([Buffer.from([b]), data]);
const text = (s: string): Buffer => Buffer.from(s, 'utf8');

async function ffmpeg(args: string[]): Promise<void> {
  const r = await runFfmpeg(['-hide_banner', '-loglevel', 'error', '-y', ...args], { timeoutMs: 60_000 });
  if (r.code !== 0) throw new Error(`ffmpeg ${args.join(' ')} exited ${r.code}: ${r.stderr}`);
}

const PATTERN = ['-f', 'lavfi', '-i', 'testsrc2=size=64x48:rate=10', '-f', 'lavfi', '-i', 'sine=frequency=440:sample_rate=44100'];
const X264 = ['-c:v', 'libx264', '-preset', 'ultrafast', '-g', '5', '-bf', '2', '-b:v', '50k'];

function flvPackets(file: Buffer): MediaPacket[] {
  return new FlvReader().push(file);
}

/** The first packet of each kind (type and the tag header's first two bytes), cut to 64 bytes. */
function tagSeeds(name: string, packets: MediaPacket[]): void {
  const seen = new Set<string>();
  const selector = { [TagType.Video]: 0, [TagType.Audio]: 1, [TagType.Script]: 2 } as Record<number, number>;
  for (const p of packets) {
    const key = `${p.type}-${p.payload.subarray(0, 2).toString('hex')}`;
    if (seen.has(key)) continue;
    seen.add(key);
    put('flv-tags', `${name}-${key}`, withByte(selector[p.type]!, p.payload.subarray(0, p.type === TagType.Script ? 1024 : 64)));
  }
}

function avcSeeds(name: string, avcConfig: Buffer): void {
  put('h264-sps', `${name}-avcc`, withByte(1, avcConfig));
  parseAvcConfig(avcConfig).sps.forEach((sps, i) => put('h264-sps', `${name}-sps${i}`, withByte(0, sps)));
}

async function media(): Promise<void> {
  const flv = join(tmp, 'a.flv');
  await ffmpeg([...PATTERN, '-t', '1', ...X264, '-c:a', 'aac', '-b:a', '32k', '-f', 'flv', flv]);
  const a = readFileSync(flv);
  put('flv-reader', 'h264-aac-whole', withByte(WHOLE, a.subarray(0, MAX_SEED - 1)));
  put('flv-reader', 'h264-aac-bytewise', withByte(BYTEWISE, a.subarray(0, 2048)));
  // A recorded file from its first tag: VOD scans it (and cuts segments) when it has no keyframes index.
  put('flv-scan', 'h264-aac-whole', withByte(WHOLE, a.subarray(13, MAX_SEED + 12)));
  put('flv-scan', 'h264-aac-bytewise', withByte(BYTEWISE, a.subarray(13, 4096)));
  // A remote transcoder's feed reads the same bytes (an origin's HTTP-FLV).
  put('remote-feed', 'h264-aac-whole', withByte(WHOLE, a.subarray(0, MAX_SEED - 1)));
  const packets = flvPackets(a);
  tagSeeds('h264-aac', packets);
  const avcHeader = packets.find((p) => p.type === TagType.Video && parseVideoTagHeader(p.payload).kind === 'sequence-header');
  const avcKey = packets.find((p) => p.type === TagType.Video && parseVideoTagHeader(p.payload).frameType === 'key' && parseVideoTagHeader(p.payload).kind === 'coded-frames');
  if (avcHeader && avcKey) put('keyframe-annexb', 'h264', keyframeInput(avcHeader.payload, avcKey.payload.subarray(0, 4096)));
  // The HLS pipeline in its three modes (byte 0: TS, fMP4, LL-HLS with 500 ms segments), and TS in follow mode (ABR).
  for (const [mode, name] of [[0x00, 'ts'], [0x01, 'fmp4'], [0x06, 'llhls'], [0x20, 'ts-follow']] as const) put('hls-segmenter', `h264-aac-${name}`, segmenterInput(mode, packets));
  for (const p of packets) {
    if (p.type === TagType.Script) {
      put('amf0', 'onMetaData', p.payload);
      put('flv-keyframes', 'ffmpeg-onMetaData', p.payload);
      put('amf3', 'onMetaData', encodeAmf3(...decodeAmf0(p.payload)));
    } else if (p.type === TagType.Video && parseVideoTagHeader(p.payload).kind === 'sequence-header') {
      avcSeeds('high', parseVideoTagHeader(p.payload).data);
    } else if (p.type === TagType.Audio && parseAudioTagHeader(p.payload).kind === 'sequence-header') {
      const asc = parseAudioTagHeader(p.payload).data;
      put('aac-asc', 'lc-44100-stereo', asc);
      put('aac-adts', 'lc-44100-stereo', Buffer.concat([Buffer.from([0x01, 0x70]), asc]));
    }
  }

  const mp3Flv = join(tmp, 'mp3.flv');
  await ffmpeg([...PATTERN, '-t', '1', ...X264, '-c:a', 'libmp3lame', '-b:a', '32k', '-f', 'flv', mp3Flv]);
  const mp3Packets = flvPackets(readFileSync(mp3Flv));
  tagSeeds('h264-mp3', mp3Packets);
  const mp3Frames = mp3Packets.filter((p) => p.type === TagType.Audio).slice(0, 2);
  put('mp3-header', 'flv-frames-44100', Buffer.concat(mp3Frames.map((p) => p.payload.subarray(1))));

  // More SPS shapes: baseline, 4:4:4 (the chroma_format branch) and interlaced (frame_mbs_only 0).
  for (const [name, opts] of [
    ['baseline', ['-profile:v', 'baseline']],
    ['high444', ['-pix_fmt', 'yuv444p']],
    ['interlaced', ['-flags', '+ildct+ilme', '-x264opts', 'interlaced=1']],
  ] as const) {
    const file = join(tmp, `${name}.h264`);
    await ffmpeg(['-f', 'lavfi', '-i', 'testsrc2=size=64x48:rate=10', '-frames:v', '1', '-c:v', 'libx264', ...opts, '-f', 'h264', file]);
    const nalus = splitAnnexB(readFileSync(file));
    const sps = nalus.filter((n) => (n[0]! & 0x1f) === 7);
    const pps = nalus.filter((n) => (n[0]! & 0x1f) === 8);
    avcSeeds(name, writeAvcConfig(sps, pps));
  }

  // AAC at other rates and channel counts; MP3 at MPEG-2 and 2.5 rates.
  for (const [rate, channels] of [
    [8000, 1],
    [48000, 6],
  ] as const) {
    const file = join(tmp, `aac-${rate}.flv`);
    await ffmpeg(['-f', 'lavfi', '-i', `sine=sample_rate=${rate}`, '-t', '0.2', '-ac', String(channels), '-c:a', 'aac', '-f', 'flv', file]);
    for (const p of flvPackets(readFileSync(file))) {
      if (p.type !== TagType.Audio || parseAudioTagHeader(p.payload).kind !== 'sequence-header') continue;
      const asc = parseAudioTagHeader(p.payload).data;
      put('aac-asc', `lc-${rate}-${channels}ch`, asc);
      put('aac-adts', `lc-${rate}-${channels}ch`, Buffer.concat([Buffer.from([0x1f, 0xf9]), asc]));
    }
  }
  for (const rate of [22050, 8000]) {
    const file = join(tmp, `${rate}.mp3`);
    await ffmpeg(['-f', 'lavfi', '-i', `sine=sample_rate=${rate}`, '-t', '0.3', '-c:a', 'libmp3lame', '-write_xing', '0', '-id3v2_version', '0', '-f', 'mp3', file]);
    put('mp3-header', `mp3-${rate}`, readFileSync(file).subarray(0, 1024));
  }

  // Enhanced RTMP tags (FFmpeg 5 does not write them): real HEVC NAL units behind enhanced headers.
  const hevc = join(tmp, 'a.hevc');
  await ffmpeg(['-f', 'lavfi', '-i', 'testsrc2=size=64x48:rate=10', '-frames:v', '2', '-c:v', 'libx265', '-x265-params', 'log-level=error', '-f', 'hevc', hevc]);
  const nalus = splitAnnexB(readFileSync(hevc));
  const lengthPrefixed = Buffer.concat(nalus.slice(0, 4).map((n) => Buffer.concat([Buffer.from([0, 0, n.length >> 8, n.length & 0xff]), n.subarray(0, 24)])));
  const enhanced = (b0: number, body: Buffer): Buffer => Buffer.concat([Buffer.from([0, b0]), text('hvc1'), body]);
  put('flv-tags', 'enhanced-hvc1-sequence-start', enhanced(0x90, lengthPrefixed));
  put('flv-tags', 'enhanced-hvc1-coded-frames', enhanced(0x91, Buffer.concat([Buffer.from([0, 0, 0x28]), lengthPrefixed])));
  put('flv-tags', 'enhanced-hvc1-coded-frames-x', enhanced(0xa3, lengthPrefixed));
  put('flv-tags', 'enhanced-modex', Buffer.concat([Buffer.from([0, 0x97, 0x02, 0, 0, 0, 0x01]), text('hvc1'), lengthPrefixed.subarray(0, 16)]));
  const hevcKey = Buffer.concat(nalus.filter((n) => ((n[0]! >> 1) & 0x3f) < 32).slice(0, 1).map((n) => Buffer.concat([Buffer.from([0, 0, n.length >> 8, n.length & 0xff]), n])));
  put('keyframe-annexb', 'hevc-enhanced', keyframeInput(enhanced(0x90, record(HVCC.main330x250)).subarray(1), enhanced(0x91, Buffer.concat([Buffer.from([0, 0, 0]), hevcKey])).subarray(1)));
  put('keyframe-annexb', 'hevc-legacy', keyframeInput(Buffer.concat([Buffer.from([0x1c, 0, 0, 0, 0]), record(HVCC.main330x250)]), Buffer.concat([Buffer.from([0x1c, 1, 0, 0, 0]), hevcKey])));
  put('flv-tags', 'enhanced-audio-mp4a', Buffer.concat([Buffer.from([1, 0x90]), text('mp4a'), Buffer.from([0x12, 0x10])]));

  // HEVC and AV1 decoder configuration records libx265, libaom and SVT-AV1 wrote (test/helpers/codec-records.ts),
  // the SPS and sequence header OBU each carries, and the SPS of the raw stream above.
  for (const [name, hex] of Object.entries(HVCC)) {
    put('hevc-hvcc', name, record(hex));
    put('hevc-sps', name, parseHvcc(record(hex)).sps[0]!);
  }
  put('hevc-sps', 'x265-64x48-raw', nalus.find((n) => ((n[0]! >> 1) & 0x3f) === HevcNalType.Sps)!);
  for (const [name, hex] of Object.entries(AV1C)) {
    put('av1-av1c', name, record(hex));
    put('av1-sequence-header', name, parseAv1c(record(hex)).sequenceHeader!);
  }
  // The HLS pipeline on enhanced-RTMP HEVC and AV1 (records above; the raw HEVC slices, a temporal delimiter OBU), fMP4 with parts.
  const exVideo = (t: number, b0: number, fourCc: string, body: Buffer): MediaPacket => ({ type: TagType.Video, timestamp: ms(t), payload: Buffer.concat([Buffer.from([b0]), text(fourCc), body]) });
  const gop = (fourCc: string, config: Buffer, key: number, inter: number, frame: Buffer): MediaPacket[] =>
    [exVideo(0, 0x90, fourCc, config), ...Array.from({ length: 25 }, (_, i) => exVideo(i * 40, i % 10 === 0 ? key : inter, fourCc, frame))];
  put('hls-segmenter', 'hevc-llhls', segmenterInput(0x02, gop('hvc1', record(HVCC.main330x250), 0x93, 0xa3, lengthPrefixed)));
  put('hls-segmenter', 'av1-llhls', segmenterInput(0x02, gop('av01', record(AV1C.svt320x240), 0x91, 0xa1, Buffer.from([0x12, 0x00]))));

  const ts = join(tmp, 'a.ts');
  await ffmpeg([...PATTERN, '-t', '1', ...X264, '-c:a', 'aac', '-f', 'mpegts', ts]);
  const tsBytes = readFileSync(ts);
  put('mpegts', 'start', tsBytes.subarray(0, 8 * TS_PACKET_SIZE));
  put('mpegts', 'middle', tsBytes.subarray(40 * TS_PACKET_SIZE, 48 * TS_PACKET_SIZE));
  put('mpegts', 'misaligned', tsBytes.subarray(3, 3 + 2 * TS_PACKET_SIZE + 5));

  const hlsDir = join(tmp, 'hls');
  mkdirSync(hlsDir);
  await ffmpeg([...PATTERN, '-t', '2', ...X264, '-c:a', 'aac', '-f', 'hls', '-hls_time', '0.5', '-hls_list_size', '0', '-hls_flags', 'discont_start', join(hlsDir, 's.m3u8')]);
  put('hls-playlist', 'ffmpeg', readFileSync(join(hlsDir, 's.m3u8')));
  put(
    'hls-playlist',
    'livecdn',
    text(
      writeMediaPlaylist({
        targetDurationS: 2,
        mediaSequence: 41,
        discontinuitySequence: 1,
        endList: false,
        segments: [
          { uri: 's/41.ts', durationS: 2, discontinuity: false },
          { uri: 's/42.ts', durationS: 1.96, discontinuity: true },
        ],
      }),
    ),
  );
  put('hls-playlist', 'livecdn-llhls', text(writeMediaPlaylist(LLHLS_SEED)));
  put('hls-playlist', 'livecdn-llhls-delta', text(writeMediaPlaylist({ ...LLHLS_SEED, skippedSegments: 1 })));
  put('hls-playlist', 'rfc8216bis-ll-example', text(RFC_LL_EXAMPLE));
  put('hls-playlist', 'livecdn-rung-gap', text(writeMediaPlaylist(RUNG_GAP_SEED)));
  put('hls-playlist', 'livecdn-dvr-start', text(DVR_START_SEED));
  put('hls-playlist', 'livecdn-multivariant', text(writeMultivariantPlaylist(MULTIVARIANT_SEED)));
  await progressSeeds();
  // A recording's thumbnail track as the origin writes it (95 s, 10 s a tile, 5 a row) and one past 100 hours.
  put('thumbs-vtt', 'livecdn-track', text(thumbnailVtt(thumbnailLayout(95_000, { intervalMs: 10_000, columns: 5, maxTiles: 1000 }), 95_000, 160, 90, 'thumbs.jpg')));
  put('thumbs-vtt', 'long-hours', text('WEBVTT\r\n\r\n100:00:00.000 --> 100:00:10.000 align:start\r\nthumbs.jpg?token=t#xywh=320,90,160,90\r\n'));
  for (const [name, body] of Object.entries(ROUTE_ANSWER_SEEDS)) put('route-answer', name, text(body));
  for (const [name, body] of Object.entries(continuitySeeds())) put('playlist-continuity', name, body);
  for (const [name, body] of Object.entries(RECORDINGS_SEEDS)) put('recordings-merge', name, text(body));
}

/** The signal's route answers: found on two origins, not found, and one with entries an edge must drop. */
const ROUTE_ANSWER_SEEDS: Record<string, string> = {
  'found-two': JSON.stringify({ app: 'live', stream: 's', origins: [{ id: 'origin-a', url: 'http://10.0.0.1:8080', rtmpUrl: 'rtmp://10.0.0.1:1935', publishing: true }, { id: 'origin-b', url: 'https://b.example/cdn/', publishing: false }], ttlMs: 2000 }),
  'not-found': JSON.stringify({ app: 'live', stream: 's', origins: [], ttlMs: 2000 }),
  'bad-entries': JSON.stringify({ origins: [null, 'x', { id: 'a' }, { id: 'b', url: 'ftp://b' }, { id: 'c', url: 'http://[' }, { id: 'd', url: 'http://d:1', publishing: 'yes' }], ttlMs: -5 }),
};

/** An origin's GET /api/recordings answers: two good entries (one with thumbnails), and entries the signal must drop. */
const RECORDINGS_SEEDS: Record<string, string> = {
  listed: JSON.stringify({
    recordings: [
      { app: 'live', stream: 'cam1', name: '20261130-101500', startedAt: '2026-11-30T10:15:00.000Z', endedAt: '2026-11-30T10:45:00.000Z', durationMs: 1800000, bytes: 600000000, state: 'done', session: 's1', part: 0, thumbs: { sprite: 'x.jpg' } },
      { app: 'live', stream: 'cam1', name: '20261130-104500-2', startedAt: '2026-11-30T10:45:00.000Z', state: 'recording', durationMs: 5000, bytes: 1000 },
    ],
  }),
  dropped: JSON.stringify({
    recordings: [null, 'x', { app: '..', stream: 'a', name: '20261130-101500', startedAt: '2026-11-30T10:15:00Z', state: 'done' }, { app: 'live', stream: 'a', name: '../etc', startedAt: 'x', state: 'done' }, { app: 'live', stream: 'a', name: '20261130-101500', startedAt: '2026-11-30T10:15:00Z', state: 'weird', durationMs: -1 }],
  }),
};

/** A transcoder's -progress output (two outputs, as a ladder has), whole and bytewise. */
async function progressSeeds(): Promise<void> {
  const output = ['-map', '0:v', '-t', '3', ...X264, '-f', 'null', '-'];
  const r = await runFfmpeg(['-hide_banner', '-loglevel', 'error', ...PATTERN, '-stats_period', '0.5', '-nostats', '-progress', 'pipe:1', ...output, ...output], { timeoutMs: 60_000 });
  if (r.code !== 0) throw new Error(`ffmpeg -progress exited ${r.code}: ${r.stderr}`);
  const progress = Buffer.from(r.stdout, 'latin1');
  put('transcode-progress', 'ffmpeg-whole', withByte(WHOLE, progress));
  put('transcode-progress', 'ffmpeg-bytewise', withByte(BYTEWISE, progress.subarray(0, 1024)));
}

/** An ABR rung's playlist with a gap (a transcoder restart lost a segment). */
const RUNG_GAP_SEED: Parameters<typeof writeMediaPlaylist>[0] = {
  targetDurationS: 2,
  mediaSequence: 41,
  discontinuitySequence: 0,
  endList: false,
  segments: [
    { uri: 's_360p/41.ts', durationS: 2, discontinuity: false },
    { uri: 's_360p/42.ts', durationS: 2.04, discontinuity: false, gap: true },
    { uri: 's_360p/43.ts', durationS: 1.96, discontinuity: true },
  ],
};

/** An ABR ladder's multivariant playlist, with a play token on the URIs. */
const MULTIVARIANT_SEED: Parameters<typeof writeMultivariantPlaylist>[0] = {
  independentSegments: true,
  variants: [
    { uri: 's_source.m3u8?token=1.abc', bandwidthBps: 2_800_000, averageBandwidthBps: 2_500_000, codecs: 'avc1.64001f,mp4a.40.2', resolution: { width: 1280, height: 720 }, frameRate: 29.97 },
    { uri: 's_360p.m3u8?token=1.abc', bandwidthBps: 880_000, codecs: 'avc1.64001e,mp4a.40.2', resolution: { width: 640, height: 360 }, frameRate: 30 },
  ],
};

/** An LL-HLS fMP4 playlist using every tag the writer knows (the delta seed skips its first segment). */
const LLHLS_SEED: Parameters<typeof writeMediaPlaylist>[0] = {
  targetDurationS: 1,
  mediaSequence: 41,
  discontinuitySequence: 1,
  endList: false,
  independentSegments: true,
  partTargetS: 0.2,
  serverControl: { canBlockReload: true, partHoldBackS: 0.6, canSkipUntilS: 6, holdBackS: 3 },
  segments: [
    { uri: 's/41.m4s', durationS: 1, discontinuity: false, map: 's/init-41.mp4', programDateTime: 1_767_225_600_000 },
    {
      uri: 's/42.m4s',
      durationS: 0.4,
      discontinuity: true,
      map: 's/init-42.mp4',
      programDateTime: 1_767_225_601_000,
      parts: [
        { uri: 's/42.0.m4s', durationS: 0.2, independent: true },
        { uri: 's/42.1.m4s', durationS: 0.2, independent: false },
      ],
    },
  ],
  openSegment: { discontinuity: false, programDateTime: 1_767_225_601_400 },
  trailingParts: [{ uri: 's/43.0.m4s', durationS: 0.2, independent: true }],
  preloadHint: { uri: 's/43.1.m4s' },
  renditionReports: [{ uri: 'audio.m3u8', lastMsn: 43, lastPart: 0 }],
};

/** FFmpeg publishes to a capture server; returns every byte the client sent. */
async function captureRtmp(): Promise<Buffer> {
  const received: Buffer[] = [];
  const sockets = new Set<Socket>();
  const server = createServer((socket) => {
    sockets.add(socket);
    const session = new ServerSession({
      app: new RelayApp(),
      connectionId: 'capture',
      remoteAddress: '127.0.0.1',
      host: {
        send: (b) => void socket.write(b),
        close: () => socket.end(),
        fail: () => socket.destroy(),
        playOutput: { chunkSize: 60000, streamId: 1, write: () => true, writev: () => true, writableLength: 0, close: () => {} },
        publisherControl: { close: () => socket.end() },
      },
    });
    socket.on('data', (d: Buffer) => {
      received.push(d);
      try {
        session.feed(d);
      } catch {
        socket.destroy();
      }
    });
    socket.on('error', () => {});
    socket.on('close', () => session.close());
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const { port } = server.address() as AddressInfo;
  try {
    await ffmpeg([...PATTERN, '-t', '1', ...X264, '-c:a', 'aac', '-b:a', '32k', '-f', 'flv', `rtmp://127.0.0.1:${port}/live/capture?token=abc`]);
  } finally {
    for (const s of sockets) s.destroy();
    await new Promise((r) => server.close(r));
  }
  return Buffer.concat(received);
}

async function rtmp(): Promise<void> {
  const capture = await captureRtmp();
  const handshakeEnd = 1 + 2 * HANDSHAKE_SIZE;
  put('rtmp-handshake', 'ffmpeg-c0c1c2', withByte(WHOLE, capture.subarray(0, handshakeEnd)));
  put('rtmp-handshake', 'ffmpeg-c0c1c2-bytewise', withByte(BYTEWISE, capture.subarray(0, handshakeEnd)));
  put('rtmp-session', 'ffmpeg-publish', withByte(WHOLE, capture.subarray(0, MAX_SEED - 1)));
  put('rtmp-session', 'ffmpeg-publish-188', withByte(TS_PIECES, capture.subarray(0, 6000)));
  const chunks = capture.subarray(handshakeEnd);
  put('rtmp-chunks', 'ffmpeg-publish', withByte(WHOLE, chunks.subarray(0, 8192)));
  put('rtmp-chunks', 'ffmpeg-publish-bytewise', withByte(BYTEWISE, chunks.subarray(0, 1024)));
  // Commands and data messages as AMF0 (and the same values as AMF3).
  let i = 0;
  for (const m of new ChunkReader().feed(chunks)) {
    if ((m.typeId !== 20 && m.typeId !== 18) || i >= 8) continue;
    const name = decodeAmf0(m.payload)[0];
    const label = `${i++}-${typeof name === 'string' ? name.replace(/[^A-Za-z]/g, '') : 'message'}`;
    put('amf0', label, m.payload);
    put('amf3', label, encodeAmf3(...decodeAmf0(m.payload)));
  }
}

/** Recorded files' onMetaData (media/flv/file-meta.ts): closed with an index, never closed, and yamdi's layout. */
function recordingSeeds(): void {
  const base = { tracks: { audio: true, video: true }, publisher: { width: 320, height: 240, videocodecid: 7, audiocodecid: 10, encoder: 'Lavf59.27.100' }, capacity: 8 };
  const closed = { durationMs: 6040, filesize: 210_000, lastTimestampMs: 6000, lastKeyframeTimestampMs: 4000, lastKeyframeLocation: 140_000 };
  put('flv-keyframes', 'recording-closed', encodeFileMetadata({ ...base, ...closed, keyframes: { timesMs: [0, 2000, 4000], positions: [400, 70_000, 140_000] } }));
  put('flv-keyframes', 'recording-unclosed', encodeFileMetadata({ ...base, ...OPEN_FILE_VALUES }));
  put('flv-keyframes', 'yamdi', encodeScriptData('onMetaData', { hasKeyframes: true, duration: 4.5, filesize: 900, keyframes: { filepositions: [13, 500], times: [0, 2.5] } }));
}

/** A DVR playlist from ?start= (origin/dvr-playlist.ts): EXT-X-START, a PDT and MAP on the first segment. */
const DVR_START_SEED =
  '#EXTM3U\n#EXT-X-VERSION:6\n#EXT-X-TARGETDURATION:2\n#EXT-X-MEDIA-SEQUENCE:1796029200\n#EXT-X-START:TIME-OFFSET=0.000\n' +
  '#EXT-X-MAP:URI="init-1796029198.mp4"\n#EXT-X-PROGRAM-DATE-TIME:2026-11-30T09:00:00.000Z\n#EXTINF:2.000,\n1796029200.m4s\n';

function handwritten(): void {
  // No capture exists for request paths and chat frames: the URL contract and the chat protocol.
  const paths = ['/live/s.flv', '/live/s.m3u8?token=abc', '/live/s/12.ts', '/live/s.m3u8 s/13.ts', '/live/s.m3u8 ../other/3.ts', '/api/streams', '/player/', '/live/a%20b.flv', '/live/s.m3u8?_HLS_msn=100&_HLS_part=2&_HLS_skip=YES&token=abc', '/live/s.m3u8?_HLS_part=1&_HLS_msn=0099 s/100.2.m4s', '/live/s/dvr.m3u8?start=2026-11-30T09:00:00%2B01:00&token=abc 100.m4s', '/live/s.jpg?width=0160&token=abc'];
  paths.forEach((p, i) => put('http-paths', `path-${i}`, text(p)));
  ['bytes=0-99', 'bytes=100-', 'bytes=-16', 'bytes=0-1,5-9', 'bytes=1000-'].forEach((r, i) => put('http-range', `range-${i}`, text(r)));
  const frames = ['{"type":"msg","text":"hello"}', '{"type":"msg","text":"  "}', '{"type":"join"}', '[1,2]'];
  frames.forEach((f, i) => put('chat', `frame-${i}`, Buffer.concat([Buffer.from([0]), text(f)])));
  ['live.s', 'live.s%20x', 'live'].forEach((r, i) => put('chat', `room-${i}`, Buffer.concat([Buffer.from([1]), text(r)])));
  // FFmpeg never sends AMF references; these give the mutator shared objects to multiply: AMF3 arrays
  // each holding the next one and a reference to it, and an AMF0 object referenced twice.
  put('amf3', 'shared-references', Buffer.from('0a0b01036b09050109050109030104010906090401', 'hex'));
  put('amf0', 'shared-references', Buffer.from('0a000000020300016102000178000009070001', 'hex'));
}

try {
  await media();
  await rtmp();
  handwritten();
  recordingSeeds();
  let total = 0;
  for (const [target, files] of seeds) {
    const dir = corpusDir(target);
    rmSync(dir, { recursive: true, force: true });
    mkdirSync(dir, { recursive: true });
    for (const [name, data] of files) {
      writeFileSync(join(dir, `${name}.bin`), data);
      total += data.length;
    }
    console.log(`${target.padEnd(15)} ${String(readdirSync(dir).length).padStart(3)} seeds`);
  }
  console.log(`${total} bytes in all`);
} finally {
  rmSync(tmp, { recursive: true, force: true });
}
