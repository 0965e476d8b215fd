// MP4 clips of recordings (issue 12): an origin records FFmpeg's 10 s of H.264 (1 s GOP) + AAC; GET
// /api/recordings/{id}/clip?from=&to= (admin bearer) answers an MP4 that starts at the keyframe at or
// before `from` and ends at the keyframe at or after `to`: ffprobe reads its duration, which covers
// [from, to] and exceeds it by less than two GOPs; it holds exactly the recording's frames between those
// keyframes, starts with a keyframe, decodes with `ffmpeg -v error` silent and reads in mp4box. `to`
// past the end clips to the end. Bad bounds are 400s, no bearer a 401, and past the concurrency cap a
// 503 with Retry-After.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { HttpServer } from '../../src/origin/http-server.js';
import type { Recording } from '../../src/record/catalogue.js';
import { vodRoutes } from '../../src/record/vod-routes.js';
import { adminToken, deriveKeys } from '../../src/shared/keys.js';
import { createLogger } from '../../src/shared/log.js';
import { signPublishToken } from '../../src/shared/token.js';
import { recordingClipPath, vodPlaylistPath } from '../../src/shared/url-contract.js';
import { ffprobeJson } from '../helpers/ffmpeg.js';
import { decodeErrors } from '../helpers/hls.js';
import { readMp4 } from '../helpers/mp4box.js';
import { startOrigin } from '../helpers/origin.js';
import type { TestOrigin } from '../helpers/origin.js';
import { probePackets, recordTestStream } from './record-helpers.js';

const APP = 'live';
const SECONDS = 10;
const GOP_S = 1;
const FRAME_S = 0.04;
const keys = deriveKeys('clip-test-secret-0123456789abcdefghijklmnopqrstuvwxyz');
const bearer = { Authorization: `Bearer ${adminToken(keys)}` };

/** Video packets of a file: pts (s) and keyframe flag, in decode order. */
async function videoPackets(file: string): Promise<{ pts: number; key: boolean }[]> {
  return (await probePackets(file, 'v')).map((p) => ({ pts: p.time, key: p.key }));
}

interface Clip {
  status: number;
  headers: Headers;
  body: Buffer;
}

describe('MP4 clips of recordings', () => {
  let dir = '';
  let o: TestOrigin | undefined;
  let rec: Recording | undefined;

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'livecdn-clip-'));
    o = await startOrigin({ keys, hlsGraceMs: 0, record: { dir, patterns: [`${APP}/*`] } });
    const token = signPublishToken({ app: APP, stream: 'cam', expSec: Math.floor(Date.now() / 1000) + 600 }, keys.publish);
    rec = await recordTestStream(o, APP, 'cam', 'baseline+aac-mono', { gopS: GOP_S, durationS: SECONDS, query: `token=${token}` });
  });

  after(async () => {
    await o?.stop();
    await rm(dir, { recursive: true, force: true });
  });

  const clip = async (query: string, headers: Record<string, string> = bearer): Promise<Clip> => {
    assert.ok(o && rec);
    const r = await fetch(`${o.httpBase}${recordingClipPath(APP, 'cam', rec.name)}${query}`, { headers, signal: AbortSignal.timeout(30_000) });
    return { status: r.status, headers: r.headers, body: Buffer.from(await r.arrayBuffer()) };
  };

  /** Writes the clip, checks what every clip must be, and returns its video duration (s) and packets. */
  async function checkClip(c: Clip, name: string): Promise<{ duration: number; format: number; packets: { pts: number; key: boolean }[] }> {
    assert.equal(c.status, 200, c.body.toString());
    assert.equal(c.headers.get('content-type'), 'video/mp4');
    assert.match(c.headers.get('content-disposition') ?? '', /^attachment; filename="cam-\d{8}-\d{6}-\d+-\d+\.mp4"$/);
    const file = join(dir, name);
    await writeFile(file, c.body);
    assert.equal(await decodeErrors(file), '', 'the clip decodes silently');
    const read = readMp4([c.body]);
    assert.deepEqual(read.errors, []);
    assert.equal(read.info.videoTracks.length, 1);
    assert.equal(read.info.audioTracks.length, 1);
    const probe = (await ffprobeJson(file, ['-show_entries', 'format=duration:stream=codec_type,duration'])) as { format: { duration: string }; streams: { codec_type: string; duration: string }[] };
    const format = Number(probe.format.duration);
    assert.ok(Number.isFinite(format) && format > 0, `ffprobe reads the duration: ${probe.format.duration}`);
    const duration = Number(probe.streams.find((s) => s.codec_type === 'video')?.duration);
    const packets = await videoPackets(file);
    assert.equal(packets[0]?.key, true, 'starts with a keyframe');
    return { duration, format, packets };
  }

  it('cuts [from, to] widened to the keyframes around it', async () => {
    assert.ok(rec);
    const from = 2.5;
    const to = 6.2;
    const c = await clip(`?from=${from}&to=${to}`);
    const start = Number(c.headers.get('x-clip-start-ms')) / 1000;
    const end = Number(c.headers.get('x-clip-end-ms')) / 1000;
    assert.ok(start <= from && start > from - GOP_S, `starts at ${start} s: the keyframe at or before ${from} s`);
    assert.ok(end >= to && end < to + GOP_S, `ends at ${end} s: the keyframe at or after ${to} s`);
    const { duration, format, packets } = await checkClip(c, 'mid.mp4');
    assert.ok(Math.abs(duration - (end - start)) <= FRAME_S / 2, `video ${duration} s for [${start}, ${end}]`);
    assert.ok(duration >= to - from && duration < to - from + 2 * GOP_S, `ffprobe: ${duration} s for [${from}, ${to}] (±1 GOP)`);
    assert.ok(Math.abs(format - duration) <= 2 * FRAME_S, `format ${format} s, video ${duration} s`);
    // Exactly the recording's frames in [start, end), shifted to 0.
    const source = (await videoPackets(rec.file)).filter((p) => p.pts >= start - 0.0005 && p.pts < end - 0.0005);
    assert.equal(packets.length, source.length, 'every frame of the span, once');
    assert.deepEqual(
      packets.map((p) => Math.round(p.pts * 1000)),
      source.map((p) => Math.round((p.pts - start) * 1000)),
    );
  });

  it('clips to the end when `to` is past it', async () => {
    assert.ok(rec);
    const c = await clip('?from=0&to=3600');
    assert.equal(Number(c.headers.get('x-clip-start-ms')), 0);
    const { duration, packets } = await checkClip(c, 'all.mp4');
    assert.ok(Math.abs(duration - SECONDS) < 0.5, `${duration} s of ${SECONDS} s`);
    assert.equal(packets.length, (await videoPackets(rec.file)).length, 'every frame of the recording');
  });

  it('refuses bad bounds (400) and a missing bearer (401)', async () => {
    for (const q of ['', '?from=1', '?to=2', '?from=abc&to=2', '?from=-1&to=2', '?from=1e1&to=20', '?from=3&to=3', '?from=4&to=2', '?from=500&to=600', '?from=1&to=2&to=3x']) {
      const c = await clip(q);
      assert.equal(c.status, 400, `${q}: ${c.body.toString()}`);
    }
    assert.equal((await clip('?from=1&to=2', {})).status, 401);
    assert.equal((await clip('?from=1&to=2', { Authorization: 'Bearer nope' })).status, 401);
    assert.ok(o);
    const unknown = await fetch(`${o.httpBase}${recordingClipPath(APP, 'cam', '20200101-000000')}?from=1&to=2`, { headers: bearer });
    assert.equal(unknown.status, 404);
  });

  it('answers 503 with Retry-After past the concurrency caps', async (t) => {
    assert.ok(o?.origin.recordings && rec);
    const http = new HttpServer(createLogger('test'));
    for (const r of vodRoutes({ recordings: o.origin.recordings, targetMs: 2000, keys, log: createLogger('test'), maxClips: 0, maxConcurrent: 0 })) http.route(r.methods, r.pattern, r.handler);
    const port = await http.listen(0, '127.0.0.1');
    t.after(() => http.close());
    const base = `http://127.0.0.1:${port}`;
    const c = await fetch(`${base}${recordingClipPath(APP, 'cam', rec.name)}?from=1&to=2`, { headers: bearer });
    assert.equal(c.status, 503);
    assert.equal(c.headers.get('retry-after'), '5');
    const p = await fetch(`${base}${vodPlaylistPath(APP, 'cam', rec.name)}`);
    assert.equal(p.status, 503);
    assert.equal(p.headers.get('retry-after'), '1');
  });
});
