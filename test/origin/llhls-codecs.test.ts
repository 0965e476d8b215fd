// HEVC and AV1 over RTMP into fMP4 HLS at the origin. FFmpeg 5.1 cannot write enhanced FLV, so FFmpeg
// encodes (libx265, libsvtav1) into an .mp4 and test/helpers/enhanced-flv.ts turns its samples into
// enhanced-RTMP tags ('hvc1', 'av01') or legacy codec id 12 HEVC, published with the test RTMP client.
// The origin picks fMP4 by itself ('auto'); its playlists pass the conformance checker; FFmpeg decodes
// init + segments (and init + parts) silently, and mp4box finds every frame that was sent.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { RtmpClient } from '../rtmp/client.js';
import { startOrigin } from '../helpers/origin.js';
import { hasEncoder, runFfmpeg } from '../helpers/ffmpeg.js';
import { flvFromMp4 } from '../helpers/enhanced-flv.js';
import { fetchText } from '../helpers/http.js';
import { decodeBytesErrors, fetchOk, mapUriOf, segmentUrl } from '../helpers/hls.js';
import { checkMediaPlaylist, fetchKeyframeOracle } from '../helpers/hls-conformance.js';
import { crossCheckPlaylist } from '../helpers/m3u8-crosscheck.js';
import { readMp4 } from '../helpers/mp4box.js';
import { waitFor } from '../helpers/wait.js';
import { parseMediaPlaylist } from '../../src/media/hls/playlist.js';

const SECONDS = 4;
const SOURCE = ['-f', 'lavfi', '-i', `testsrc2=size=320x240:rate=25:duration=${SECONDS}`, '-f', 'lavfi', '-i', `sine=frequency=440:sample_rate=48000:duration=${SECONDS}`, '-pix_fmt', 'yuv420p'];
const X265 = ['-c:v', 'libx265', '-preset', 'ultrafast', '-x265-params', 'log-level=error:keyint=25:min-keyint=25:bframes=3:scenecut=0', '-tag:v', 'hvc1'];

interface Case {
  readonly name: string;
  readonly encoder: string;
  readonly args: readonly string[];
  readonly legacyHevc?: boolean;
  readonly partMs: number;
  /** The video sample entry mp4box must find, and the CODECS the API must report. */
  readonly entry: 'hvc1' | 'av01';
  readonly codecs: RegExp;
}

const CASES: readonly Case[] = [
  { name: 'HEVC (x265, B-frames) as enhanced-RTMP hvc1 + AAC: fMP4 chosen by auto', encoder: 'libx265', args: X265, partMs: 0, entry: 'hvc1', codecs: /^hvc1\.1\.6\.L\d+\.[0-9A-F]+,mp4a\.40\.2$/ },
  { name: 'HEVC as legacy FLV codec id 12 + AAC, LL-HLS parts', encoder: 'libx265', args: X265, legacyHevc: true, partMs: 200, entry: 'hvc1', codecs: /^hvc1\.1\.6\.L\d+\.[0-9A-F]+,mp4a\.40\.2$/ },
  { name: 'AV1 (SVT-AV1) as enhanced-RTMP av01 + AAC, LL-HLS parts', encoder: 'libsvtav1', args: ['-c:v', 'libsvtav1', '-preset', '12', '-g', '25'], partMs: 200, entry: 'av01', codecs: /^av01\.0\.\d\dM\.08,mp4a\.40\.2$/ },
];

for (const c of CASES) {
  test(`origin fMP4 HLS: ${c.name}`, { timeout: 240_000 }, async (t) => {
    if (!(await hasEncoder(c.encoder))) return t.skip(`FFmpeg has no ${c.encoder}`);
    const dir = await mkdtemp(join(tmpdir(), 'livecdn-llhls-'));
    t.after(() => rm(dir, { recursive: true, force: true }));
    const src = join(dir, 'in.mp4');
    const made = await runFfmpeg(['-v', 'error', ...SOURCE, ...c.args, '-c:a', 'aac', '-f', 'mp4', src], { timeoutMs: 180_000 });
    assert.equal(made.code, 0, made.stderr);
    const crafted = flvFromMp4(await readFile(src), { legacyHevc: c.legacyHevc === true });

    // Grace 0: the playlist ends (ENDLIST, last segment flushed) as soon as the publisher leaves.
    const o = await startOrigin({ hlsSegmentMs: 1000, hlsPartMs: c.partMs, hlsGraceMs: 0, playWaitMs: 0 }, t);
    const pub = await RtmpClient.connect(`rtmp://127.0.0.1:${o.rtmpPort}/live`);
    t.after(() => pub.close());
    await pub.publish('c');
    for (const p of crafted.packets) pub.send(p);
    const url = o.hlsUrl('live', 'c');

    const live = await waitFor('3 segments listed', async () => {
      const r = await fetchText(url);
      return r.status === 200 && parseMediaPlaylist(r.text).segments.length >= SECONDS - 1 ? r.text : undefined;
    }, 20_000);
    const keyframe = await fetchKeyframeOracle(url, live);
    assert.deepEqual(checkMediaPlaylist(live, { keyframe }), [], live);
    assert.deepEqual(crossCheckPlaylist(live), [], live);
    const api = (await (await fetch(`${o.httpBase}/api/streams`)).json()) as { streams: Array<{ hls: { format: string; codecs: string } }> };
    assert.equal(api.streams[0]?.hls.format, 'fmp4');
    assert.match(api.streams[0]?.hls.codecs ?? '', c.codecs);
    const init = await fetchOk(segmentUrl(url, mapUriOf(live)));
    if (c.partMs > 0) {
      const lp = parseMediaPlaylist(live);
      const s = lp.segments.find((x) => (x.parts?.length ?? 0) > 0);
      assert.ok(s, live);
      const parts = await Promise.all((s.parts ?? []).map((x) => fetchOk(segmentUrl(url, x.uri))));
      assert.ok(Buffer.concat(parts).equals(await fetchOk(segmentUrl(url, s.uri))), 'a segment is its parts');
      assert.equal(await decodeBytesErrors([init, ...parts]), '', 'init + parts');
    }

    pub.close();
    const final = await waitFor('ENDLIST', async () => {
      const r = await fetchText(url);
      return /#EXT-X-ENDLIST/.test(r.text) ? r.text : undefined;
    }, 10_000);
    const p = parseMediaPlaylist(final);
    // The end of the stream flushes the held frames: the last segment's last parts may come out short.
    const lastSegment = p.segments.at(-1)?.uri.replace(/\.m4s$/, '') ?? '';
    const atEnd = (v: string): boolean => v.startsWith(`part-min-duration: ${lastSegment}.`);
    assert.deepEqual(checkMediaPlaylist(final).filter((v) => !atEnd(v)), [], final);
    assert.deepEqual(crossCheckPlaylist(final), [], final);
    const segs = await Promise.all(p.segments.map((s) => fetchOk(segmentUrl(url, s.uri))));
    assert.equal(await decodeBytesErrors([init, ...segs]), '', 'init + every segment');
    const read = readMp4([init, ...segs]);
    assert.deepEqual(read.errors, []);
    const video = read.info.videoTracks[0];
    assert.equal(video?.codec.slice(0, 4), c.entry);
    assert.equal(read.samples.get(video.id)?.length, crafted.videoFrames, 'every video frame sent is in the segments');
    const audio = read.info.audioTracks[0];
    assert.ok(audio && (read.samples.get(audio.id)?.length ?? 0) >= crafted.audioFrames - 2, 'the audio frames sent');
  });
}
