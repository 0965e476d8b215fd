// VOD of recordings (issue 12): an origin records FFmpeg's H.264 (High, B-frames, 1 s GOP) + AAC publish,
// with play tokens on. While the file is being written its VOD playlist is a 409; once it is done the
// playlist is EXT-X-PLAYLIST-TYPE:VOD with ENDLIST, conforms (test/helpers/hls-conformance.ts), reads
// the same in m3u8-parser, dates each segment from the recording's start and adds up to the file's
// duration within a frame; its segments (MPEG-TS, remuxed from the file's byte ranges) each decode with
// `ffmpeg -v error` silent, start with a keyframe and together hold exactly the recording's frames. A
// copy cut mid-tag and left without a clean close (an interrupted recording) is served the same way
// from a scan of its tags; malformed and truncated files are answered (404/500), never a crash; bad
// names are 400s. With libx265: an HEVC recording is served as fMP4 (init.mp4 + .m4s), read by mp4box
// and decoded by FFmpeg. A Node edge serves the playlist and segments, cached.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdir, mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseMediaPlaylist } from '../../src/media/hls/playlist.js';
import { encodeFlvHeader } from '../../src/media/flv/header.js';
import { encodeFlvTag } from '../../src/media/flv/tag-writer.js';
import { encodeScriptData } from '../../src/media/flv/script.js';
import { TagType } from '../../src/media/packet.js';
import { ms } from '../../src/media/time.js';
import { Edge } from '../../src/edge/edge.js';
import { indexFlvFile } from '../../src/record/flv-scan.js';
import type { Recording, RecordingCatalogue } from '../../src/record/catalogue.js';
import { deriveKeys } from '../../src/shared/keys.js';
import { signPlayToken, signPublishToken } from '../../src/shared/token.js';
import { vodPlaylistPath } from '../../src/shared/url-contract.js';
import { flvFromMp4 } from '../helpers/enhanced-flv.js';
import { hasEncoder, runFfmpeg } from '../helpers/ffmpeg.js';
import { checkMediaPlaylist } from '../helpers/hls-conformance.js';
import { decodeBytesErrors, decodeErrors, mapUriOf, probeSegment, segmentUrl } from '../helpers/hls.js';
import { fetchBuffer, fetchText } from '../helpers/http.js';
import { crossCheckPlaylist } from '../helpers/m3u8-crosscheck.js';
import { readMp4 } from '../helpers/mp4box.js';
import { startOrigin } from '../helpers/origin.js';
import type { TestOrigin } from '../helpers/origin.js';
import { publishTestStream } from '../helpers/publish.js';
import { waitFor } from '../helpers/wait.js';
import { probeDuration, probePackets, recordingsEnded } from './record-helpers.js';

const APP = 'live';
const SECONDS = 10;
const FRAME_S = 0.04;
const keys = deriveKeys('vod-test-secret-0123456789abcdefghijklmnopqrstuvwxyz');
const expSec = Math.floor(Date.now() / 1000) + 3600;
const playToken = (stream: string): string => signPlayToken({ app: APP, stream, expSec }, keys.play);

/** Presentation times (ms) of one stream of a file, sorted (B-frames reorder them). */
async function ptsList(file: string, stream: 'v' | 'a'): Promise<number[]> {
  return (await probePackets(file, stream)).map((p) => Math.round(p.time * 1000)).sort((a, b) => a - b);
}

/** A recording's VOD playlist URL with a play token for its stream. */
const vodUrl = (o: TestOrigin, r: Recording): string => `${o.httpBase}${vodPlaylistPath(r.app, r.stream, r.name)}?token=${playToken(r.stream)}`;

/** Places `bytes` as a recording file of live/{stream} (no sidecar: listed 'interrupted'). */
async function placeFile(dir: string, stream: string, time: string, bytes: Buffer): Promise<void> {
  const day = join(dir, APP, stream, '2026-01-02');
  await mkdir(day, { recursive: true });
  await writeFile(join(day, `${time}.flv`), bytes);
}

describe('VOD of recordings', () => {
  let dir = '';
  let work = '';
  let o: TestOrigin | undefined;
  let catalogue: RecordingCatalogue | undefined;
  let rec: Recording | undefined;
  let whileRecording = 0;

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'livecdn-vod-'));
    work = await mkdtemp(join(tmpdir(), 'livecdn-vod-work-'));
    o = await startOrigin({ keys, playTokens: true, hlsSegmentMs: 2000, hlsGraceMs: 0, record: { dir, patterns: [`${APP}/*`] } });
    catalogue = o.origin.recordings;
    assert.ok(catalogue);
    const token = signPublishToken({ app: APP, stream: 'cam', expSec }, keys.publish);
    const pub = publishTestStream(o.rtmpUrl(APP, 'cam', `token=${token}`), 'h264-high-bframes+aac-stereo', { gopS: 1, durationS: SECONDS });
    try {
      const writing = await waitFor('the recording to start', () => catalogue?.list({ app: APP, stream: 'cam' })[0], 15_000, 100);
      whileRecording = (await fetchText(vodUrl(o, writing))).status;
      assert.equal(await pub.exited, 0, pub.log());
    } finally {
      await pub.stop();
    }
    [rec] = await recordingsEnded(catalogue, APP, 'cam');
  });

  after(async () => {
    await o?.stop();
    await rm(dir, { recursive: true, force: true });
    await rm(work, { recursive: true, force: true });
  });

  it('answers 409 while the recording is being written', () => {
    assert.equal(whileRecording, 409);
  });

  it('lists a conforming VOD playlist that adds up to the recording', async () => {
    assert.ok(o && rec);
    assert.equal(rec.state, 'done');
    assert.equal((await fetchText(`${o.httpBase}${vodPlaylistPath(APP, 'cam', rec.name)}`)).status, 403, 'a play token is needed');
    const r = await fetchText(vodUrl(o, rec));
    assert.equal(r.status, 200, r.text);
    assert.equal(r.headers.get('content-type'), 'application/vnd.apple.mpegurl');
    assert.equal(r.headers.get('cache-control'), 'public, max-age=3600, immutable');
    assert.deepEqual(checkMediaPlaylist(r.text), [], r.text);
    assert.deepEqual(crossCheckPlaylist(r.text), [], r.text);
    const p = parseMediaPlaylist(r.text);
    assert.equal(p.playlistType, 'VOD');
    assert.ok(p.endList);
    assert.ok(p.independentSegments);
    assert.ok(p.segments.length >= SECONDS / 2 - 1, r.text);
    for (const [n, s] of p.segments.entries()) {
      assert.match(s.uri, new RegExp(`^${rec.name}/${n}\\.ts\\?token=`), 'relative URIs that carry the token');
      if (n < p.segments.length - 1) assert.ok(s.durationS >= 1.8 && s.durationS <= 2.2, `segment ${n}: ${s.durationS} s (1 s GOPs, 2 s target)`);
    }
    assert.equal(p.segments[0]?.programDateTime, rec.startedAt, 'dated from the recording start');
    const total = p.segments.reduce((t, s) => t + s.durationS, 0);
    const file = await probeDuration(rec.file);
    assert.ok(Math.abs(total - file) <= FRAME_S + 0.001, `playlist ${total} s, file ${file} s`);
    assert.ok(Math.abs(total - SECONDS) < 0.5, `${total} s for ${SECONDS} s published`);
    assert.equal((await indexFlvFile(rec.file, (await stat(rec.file)).size)).source, 'index', "cut by the file's own keyframes index");
  });

  /** Fetches every segment of `url`'s playlist into `prefix`-n.ts, checks each decodes cleanly from a keyframe, and returns the files. */
  async function segmentsOf(url: string, prefix: string): Promise<string[]> {
    const p = parseMediaPlaylist((await fetchText(url)).text);
    const files: string[] = [];
    for (const [n, s] of p.segments.entries()) {
      const got = await fetchBuffer(segmentUrl(url, s.uri));
      assert.equal(got.status, 200, `segment ${n}`);
      assert.equal(got.headers.get('content-type'), 'video/mp2t');
      assert.equal(got.headers.get('cache-control'), 'public, max-age=3600, immutable');
      const f = join(work, `${prefix}-${n}.ts`);
      await writeFile(f, got.body);
      assert.equal(await decodeErrors(f), '', `segment ${n} decodes silently`);
      assert.equal((await probeSegment(f)).firstVideoKey, true, `segment ${n} starts with a keyframe`);
      files.push(f);
    }
    return files;
  }

  /** The segments hold exactly the file's frames: every video and audio presentation time, once. */
  async function assertSameFrames(segments: string[], flv: string): Promise<void> {
    for (const track of ['v', 'a'] as const) {
      const vod = (await Promise.all(segments.map((f) => ptsList(f, track)))).flat().sort((a, b) => a - b);
      const source = await ptsList(flv, track);
      assert.equal(vod.length, source.length, `${track} frames: ${vod.length} in the segments, ${source.length} in the file`);
      const off = vod.findIndex((t, i) => Math.abs(t - (source[i] as number)) > 1);
      assert.equal(off, -1, `${track} frame ${off}: ${vod[off]} ms in the segments, ${source[off]} ms in the file`);
    }
  }

  it('serves segments that decode alone and together hold every frame of the recording once', async () => {
    assert.ok(o && rec);
    await assertSameFrames(await segmentsOf(vodUrl(o, rec), 'cam'), rec.file);
  });

  it('serves an interrupted recording (cut mid-tag, never closed) from a scan of its tags', async () => {
    assert.ok(o && rec && catalogue);
    const full = await readFile(rec.file);
    // Past the middle and into a tag: what a kill -9 during a write leaves.
    const cut = Math.floor(full.length * 0.6) + 7;
    await placeFile(dir, 'cut', '010203', full.subarray(0, cut));
    await catalogue.scan();
    const r = catalogue.get(APP, 'cut', '20260102-010203');
    assert.equal(r?.state, 'interrupted');
    const index = await indexFlvFile(r.file, cut);
    assert.equal(index.source, 'scan', 'its index (patched for the whole file) does not fit: scanned');
    assert.ok(index.dataEnd < cut && index.dataEnd > cut - 64 * 1024, `valid tags up to ${index.dataEnd} of ${cut}`);
    const url = vodUrl(o, r);
    const text = (await fetchText(url)).text;
    assert.deepEqual(checkMediaPlaylist(text), [], text);
    // The last complete tag is the end: FFmpeg reads the same frames from the cut file.
    const whole = join(work, 'cut.flv');
    await writeFile(whole, full.subarray(0, index.dataEnd));
    await assertSameFrames(await segmentsOf(url, 'cut'), whole);
  });

  it('is served through an edge like any playlist and stream object', async (t) => {
    assert.ok(o && rec);
    const edge = new Edge({ upstreams: [o.httpBase], httpPort: 0, host: '127.0.0.1', keys, playTokens: true, defaultMetrics: false });
    const { httpPort } = await edge.start();
    t.after(() => edge.stop());
    const url = `http://127.0.0.1:${httpPort}${vodPlaylistPath(APP, 'cam', rec.name)}?token=${playToken('cam')}`;
    const text = (await fetchText(url)).text;
    assert.equal(text, (await fetchText(vodUrl(o, rec))).text, 'the same playlist, the same token on its URIs');
    const seg = parseMediaPlaylist(text).segments[1];
    assert.ok(seg);
    const [first, again, direct] = [await fetchBuffer(segmentUrl(url, seg.uri)), await fetchBuffer(segmentUrl(url, seg.uri)), await fetchBuffer(segmentUrl(vodUrl(o, rec), seg.uri))];
    assert.equal(first.status, 200);
    assert.ok(first.body.equals(direct.body) && again.body.equals(direct.body), 'the same bytes through the edge');
    assert.equal(again.headers.get('x-cache'), 'HIT', 'kept by the edge (immutable)');
  });

  it('answers malformed and truncated files without crashing', async () => {
    assert.ok(o && catalogue);
    const header = encodeFlvHeader({ audio: true, video: true });
    const meta = encodeFlvTag({ type: TagType.Script, timestamp: ms(0), payload: encodeScriptData('onMetaData', { duration: 5, keyframes: { times: [0, 1, 2], filepositions: [13, 999_999, 5] } }) });
    const cases: [string, Buffer][] = [
      ['000001', Buffer.alloc(0)],
      ['000002', Buffer.from('this is not an FLV file at all')],
      ['000003', Buffer.concat([header, Buffer.alloc(4096, 0xab)])],
      ['000004', Buffer.concat([header, meta])],
      ['000005', Buffer.concat([header, meta, Buffer.from([9, 0, 0, 5, 0, 0, 0, 0, 0, 0, 0, 0x17, 0, 0])])],
      ['000006', Buffer.concat([header, encodeFlvTag({ type: TagType.Video, timestamp: ms(0), payload: Buffer.from([0x17, 0, 0, 0, 0, 1, 0x64, 0, 0x1e]) }), Buffer.alloc(100, 0xff)])],
    ];
    for (const [time, bytes] of cases) await placeFile(dir, 'bad', time, bytes);
    await catalogue.scan();
    for (const [time] of cases) {
      const r = catalogue.get(APP, 'bad', `20260102-${time}`);
      assert.ok(r, time);
      const p = await fetchText(vodUrl(o, r));
      assert.ok(p.status === 404 || p.status === 500, `${time}: ${p.status} ${p.text}`);
      const s = await fetchText(segmentUrl(vodUrl(o, r), `${r.name}/0.ts?token=${playToken('bad')}`));
      assert.ok(s.status === 404 || s.status === 500, `${time} segment: ${s.status}`);
    }
    assert.equal((await fetchText(`${o.httpBase}/healthz`)).status, 200);
  });

  it('answers bad names 400 and unknown objects 404', async () => {
    assert.ok(o && rec);
    const base = o.httpBase;
    const t = `?token=${playToken('cam')}`;
    assert.equal((await fetchText(`${base}/live/cam/rec/2026010212345678.m3u8${t}`)).status, 400, 'not a recording name');
    assert.equal((await fetchText(`${base}/li.ve/cam/rec/${rec.name}.m3u8${t}`)).status, 400, 'bad app');
    assert.equal((await fetchText(`${base}/live/cam/rec/20200101-000000.m3u8${t}`)).status, 404, 'unknown recording');
    assert.equal((await fetchText(`${base}/live/cam/rec/${rec.name}/999.ts${t}`)).status, 404, 'past the last segment');
    assert.equal((await fetchText(`${base}/live/cam/rec/${rec.name}/0.m4s${t}`)).status, 404, 'an H.264 recording is MPEG-TS');
    assert.equal((await fetchText(`${base}/live/cam/rec/${rec.name}/init.mp4${t}`)).status, 404, 'no init segment for MPEG-TS');
    assert.equal((await fetchText(`${base}/live/cam/rec/${rec.name}/0.ts`)).status, 403, 'segments need the token too');
  });

  it('serves an HEVC recording as fMP4: init.mp4 and .m4s segments', async (t) => {
    if (!(await hasEncoder('libx265'))) return t.skip('FFmpeg has no libx265');
    assert.ok(o && catalogue);
    const src = join(work, 'hevc.mp4');
    const made = await runFfmpeg(
      [
        ...['-v', 'error', '-f', 'lavfi', '-i', 'testsrc2=size=320x240:rate=25', '-f', 'lavfi', '-i', 'sine=sample_rate=44100', '-t', '6'],
        ...['-c:v', 'libx265', '-preset', 'ultrafast', '-g', '25', '-keyint_min', '25', '-x265-params', 'log-level=error:scenecut=0', '-pix_fmt', 'yuv420p', '-c:a', 'aac', '-f', 'mp4', src],
      ],
      { timeoutMs: 120_000 },
    );
    assert.equal(made.code, 0, made.stderr);
    const crafted = flvFromMp4(await readFile(src));
    const out = o.origin.hub.publish(APP, 'hevc', { id: 'hevc', remoteAddress: '127.0.0.1', query: {}, close: () => undefined });
    assert.ok(out.ok);
    for (const p of crafted.packets) out.push(p);
    out.end();
    const [r] = await recordingsEnded(catalogue, APP, 'hevc');
    assert.ok(r);
    const url = `${o.httpBase}${vodPlaylistPath(APP, 'hevc', r.name)}?token=${playToken('hevc')}`;
    const text = (await fetchText(url)).text;
    assert.deepEqual(checkMediaPlaylist(text), [], text);
    assert.deepEqual(crossCheckPlaylist(text), [], text);
    assert.match(mapUriOf(text), new RegExp(`^${r.name}/init\\.mp4\\?token=`));
    const init = await fetchBuffer(segmentUrl(url, mapUriOf(text)));
    assert.equal(init.status, 200);
    assert.equal(init.headers.get('content-type'), 'video/mp4');
    const p = parseMediaPlaylist(text);
    const segments: Buffer[] = [];
    for (const [n, s] of p.segments.entries()) {
      assert.match(s.uri, new RegExp(`^${r.name}/${n}\\.m4s\\?`));
      const got = await fetchBuffer(segmentUrl(url, s.uri));
      assert.equal(got.status, 200);
      assert.equal(got.headers.get('content-type'), 'video/iso.segment');
      assert.equal(await decodeBytesErrors([init.body, got.body]), '', `init + segment ${n} decode silently`);
      segments.push(got.body);
    }
    const read = readMp4([init.body, ...segments]);
    assert.deepEqual(read.errors, []);
    assert.equal(read.info.videoTracks[0]?.codec.slice(0, 4), 'hvc1');
    assert.equal(read.samples.get(read.info.videoTracks[0]?.id ?? 0)?.length, crafted.videoFrames, 'every video frame once');
    assert.equal(read.samples.get(read.info.audioTracks[0]?.id ?? 0)?.length, crafted.audioFrames, 'every audio frame once');
  });
});
