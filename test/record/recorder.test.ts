// A recording is what was published: FFmpeg publishes over RTMP and writes the same packets to a local
// FLV (tee); the origin's recording of that publish has the same video packets (data, keyframes, time
// steps) and audio packets (from the first keyframe on), ffprobe's duration within one frame, a keyframes
// index naming the keyframes ffprobe finds, and decodes cleanly.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startOrigin } from '../helpers/origin.js';
import { aacFrame, aacHeader, videoHeader, videoInter, videoKey } from '../helpers/packets.js';
import { sleep, waitFor } from '../helpers/wait.js';
import { Hub } from '../../src/hub/hub.js';
import type { Stream } from '../../src/hub/stream.js';
import { parseKeyframesIndex } from '../../src/media/flv/file-meta.js';
import { FlvReader } from '../../src/media/flv/reader.js';
import { encodeScriptData, parseScriptData } from '../../src/media/flv/script.js';
import { TagType } from '../../src/media/packet.js';
import type { MediaPacket } from '../../src/media/packet.js';
import { ms } from '../../src/media/time.js';
import { RecordingCatalogue } from '../../src/record/catalogue.js';
import { parseRecordPatterns } from '../../src/record/patterns.js';
import { Recorder } from '../../src/record/recorder.js';
import { createLogger } from '../../src/shared/log.js';
import { probeDuration, probePackets, publishTee, recordingsEnded } from './record-helpers.js';
import { decodeErrors } from '../helpers/hls.js';
import { ffprobeJson } from '../helpers/ffmpeg.js';

const FRAME_S = 1 / 25;

test('a publish session is recorded packet for packet into one FLV under {app}/{stream}/{day}/', { timeout: 120_000 }, async (t) => {
  const dir = await mkdtemp(join(tmpdir(), 'rs-rec-'));
  t.after(() => rm(dir, { recursive: true, force: true }));
  const o = await startOrigin({ record: { dir, patterns: ['live/*'] } }, t);
  const catalogue = o.origin.recordings;
  assert.ok(catalogue);
  const copy = join(dir, 'published.flv');
  const pub = publishTee(o.rtmpUrl('live', 'cam1'), copy, 6);
  t.after(() => pub.stop());

  // While it records: /api/streams says so, and the entry grows.
  const live = await waitFor('the recording in /api/streams', async () => {
    const res = await fetch(`${o.httpBase}/api/streams`);
    const body = (await res.json()) as { streams: { name: string; recording: { id: string; bytes: number } | null }[] };
    const r = body.streams.find((s) => s.name === 'cam1')?.recording;
    return r && r.bytes > 0 ? r : undefined;
  }, 20_000);
  assert.match(live.id, /^live\/cam1\/\d{8}-\d{6}$/);

  assert.equal(await pub.exited, 0, pub.log());
  const [rec, ...more] = await recordingsEnded(catalogue, 'live', 'cam1');
  assert.ok(rec);
  assert.equal(more.length, 0, 'one file per publish session');
  assert.equal(rec.state, 'done');
  assert.equal(rec.id, live.id);
  assert.equal(rec.part, 0);
  assert.equal(rec.session, rec.name);
  const d = new Date(rec.startedAt).toISOString();
  assert.equal(rec.file, join(dir, 'live', 'cam1', d.slice(0, 10), `${d.slice(11, 19).replace(/:/g, '')}.flv`));

  const [want, got] = await Promise.all([probePackets(copy, 'v'), probePackets(rec.file, 'v')]);
  assert.ok(want.length >= 140, `published ${want.length} video packets`);
  assert.equal(got.length, want.length, 'equal video frame counts');
  assert.deepEqual(got.map((p) => p.hash), want.map((p) => p.hash), 'the same video packets');
  assert.deepEqual(got.map((p) => p.key), want.map((p) => p.key), 'keyframes where they were');
  assert.deepEqual(got.map((p) => p.pts - (got[0]?.pts ?? 0)), want.map((p) => p.pts - (want[0]?.pts ?? 0)), 'the same frame times');

  // Audio: every published frame from the first video keyframe on (the file starts there).
  const [wantA, gotA] = await Promise.all([probePackets(copy, 'a'), probePackets(rec.file, 'a')]);
  const skipped = wantA.length - gotA.length;
  assert.ok(skipped >= 0 && skipped <= 5, `${skipped} audio frames before the first keyframe`);
  assert.deepEqual(gotA.map((p) => p.hash), wantA.slice(skipped).map((p) => p.hash), 'the same audio frames, in order');

  // The keyframes index of the clean close names the keyframes FFmpeg finds in the file (times, tag offsets).
  const index = parseKeyframesIndex((await fileTags(rec.file))[0]?.payload ?? Buffer.alloc(0));
  assert.ok(index, 'the closed file has a keyframes index');
  const probed = (await ffprobeJson(rec.file, ['-select_streams', 'v', '-show_entries', 'packet=pts,pos,flags'])) as { packets: { pts: number; pos: string; flags: string }[] };
  const keyPackets = probed.packets.filter((p) => p.flags.startsWith('K'));
  assert.equal(keyPackets.length, got.filter((p) => p.key).length);
  assert.deepEqual(index.timesMs, keyPackets.map((p) => p.pts), 'index times: the keyframes');
  assert.deepEqual(index.positions, keyPackets.map((p) => Number(p.pos)), 'index filepositions: the keyframe tags');
  assert.equal(index.filesize, rec.bytes);

  const [durWant, durGot] = await Promise.all([probeDuration(copy), probeDuration(rec.file)]);
  assert.ok(Math.abs(durGot - durWant) <= FRAME_S + 1e-6, `duration ${durGot} s vs published ${durWant} s`);
  assert.ok(Math.abs(rec.durationMs / 1000 - durWant) <= 2 * FRAME_S, `catalogue duration ${rec.durationMs} ms vs ${durWant} s`);
  assert.equal(await decodeErrors(rec.file), '');

  const metrics = await (await fetch(`${o.httpBase}/metrics`)).text();
  assert.match(metrics, /^livecdn_record_active 0$/m);
  const bytes = Number(/^livecdn_record_bytes_total (\d+)$/m.exec(metrics)?.[1]);
  assert.ok(bytes > 100_000 && bytes <= rec.bytes, `bytes_total ${bytes}, file ${rec.bytes}`);
});

/** The tags of a recorded file (FlvReader), without the file's own onMetaData. */
async function fileTags(file: string): Promise<MediaPacket[]> {
  return new FlvReader().push(await readFile(file));
}

test('synthetic frames: split by size and by a full index, started mid-stream at a keyframe, a bad directory fails only its stream', { timeout: 60_000 }, async (t) => {
  const dir = await mkdtemp(join(tmpdir(), 'rs-syn-'));
  t.after(() => rm(dir, { recursive: true, force: true }));
  // 'broken' is a file where the app's directory should be: its recordings cannot open (ENOTDIR).
  await writeFile(join(dir, 'broken'), 'not a directory');
  const log = createLogger('test');
  const hub = new Hub({ writeBatchMs: 0 });
  const catalogue = new RecordingCatalogue(dir, log);
  const ended: string[] = [];
  catalogue.onEnded((r) => ended.push(`${r.id} ${r.state}`));
  // Two recorders on one hub: one splits by size (before its index of 4 fills), one only when the index is full.
  const recorderOf = (patterns: string, splitBytes: number): Recorder => {
    const r = new Recorder({ catalogue, patterns: parseRecordPatterns([patterns]), splitMs: 0, splitBytes, file: { flushMs: 20, flushBytes: 64 * 1024, indexCapacity: 4 }, log });
    hub.observe(r);
    t.after(() => r.close());
    return r;
  };
  const recorder = recorderOf('sized/*,broken/*', 15_000);
  const byIndexRecorder = recorderOf('indexed/*', 0);

  /** Publishes `gops` GOPs of 10 frames (1000-byte keyframes, 500-byte others) at 40 ms, yielding between GOPs. */
  async function publish(app: string, name: string, gops: number, onStart?: (s: Stream) => void): Promise<number> {
    const out = hub.publish(app, name, { id: name, remoteAddress: '127.0.0.1', query: {}, close: () => undefined });
    assert.ok(out.ok);
    out.push({ type: TagType.Script, timestamp: ms(0), payload: encodeScriptData('onMetaData', { width: 320, height: 240, encoder: 'synthetic' }) });
    out.push(videoHeader());
    out.push(aacHeader());
    let frames = 0;
    for (let g = 0; g < gops; g++) {
      for (let i = 0; i < 10; i++) {
        const ts = (g * 10 + i) * 40;
        out.push(i === 0 ? videoKey(ts, 1000) : videoInter(ts, 500));
        out.push(aacFrame(ts + 1));
        frames++;
        if (g === 0 && i === 4) onStart?.(out.stream);
      }
      await sleep(15);
    }
    out.end();
    return frames;
  }

  const [sized, indexed] = await Promise.all([publish('sized', 's', 9), publish('indexed', 'i', 9), publish('broken', 'b', 2)]);
  // Started by hand in the middle of the first GOP: the file starts at the second keyframe.
  const manual = publish('other', 'm', 3, (s) => assert.equal(recorder.start(s), 'started'));
  await manual;
  await Promise.all([recorder.close(), byIndexRecorder.close()]);

  const bySize = catalogue.list({ app: 'sized' });
  assert.equal(bySize.length, 3, `${bySize.length} parts of 3 GOPs (~18 kB)`);
  let videoFrames = 0;
  for (const r of bySize) {
    assert.equal(r.state, 'done');
    const tags = await fileTags(r.file);
    const video = tags.filter((p) => p.type === TagType.Video && p.payload[1] === 1);
    assert.equal(video[0]?.payload[0], 0x17, `${r.name} starts at a keyframe`);
    const meta = parseScriptData(tags[0]?.payload as Buffer).value as Record<string, unknown>;
    assert.equal(meta.encoder, 'synthetic', 'the publisher metadata in every part');
    assert.deepEqual(tags.slice(1, 3).map((p) => p.payload[1]), [0, 0], 'codec headers after the metadata');
    if (r !== bySize.at(-1)) assert.ok(r.bytes >= 15_000 && r.bytes < 25_000, `${r.bytes} bytes`);
    videoFrames += video.length;
  }
  assert.equal(videoFrames, sized, 'every frame in one part');

  const byIndex = catalogue.list({ app: 'indexed' });
  assert.equal(byIndex.length, 3, 'a new part every 4 keyframes (9 GOPs)');
  assert.deepEqual(byIndex.map((r) => r.part), [0, 1, 2]);
  let indexedFrames = 0;
  for (const r of byIndex) indexedFrames += (await fileTags(r.file)).filter((p) => p.type === TagType.Video && p.payload[1] === 1).length;
  assert.equal(indexedFrames, indexed);

  const [broken] = catalogue.list({ app: 'broken' });
  assert.equal(broken?.state, 'failed');
  assert.equal(broken?.error, 'ENOTDIR');
  assert.deepEqual(Object.fromEntries(recorder.totals().errors), { ENOTDIR: 1 });

  const [m] = catalogue.list({ app: 'other' });
  assert.ok(m);
  const mVideo = (await fileTags(m.file)).filter((p) => p.type === TagType.Video && p.payload[1] === 1);
  assert.equal(mVideo.length, 20, 'from the second keyframe on');
  assert.equal(mVideo[0]?.timestamp, 0);

  assert.equal(ended.length, bySize.length + byIndex.length + 2, 'onEnded once per file');
  assert.equal(recorder.totals().active, 0);
});

test('synthetic frames: a new video decoder configuration starts a new part at its keyframe; the same header again, or a change within 1 s of a part\'s start, does not',  { timeout: 60_000 }, async (t) => {
  const dir = await mkdtemp(join(tmpdir(), 'rs-cfg-'));
  t.after(() => rm(dir, { recursive: true, force: true }));
  const log = createLogger('test');
  const hub = new Hub({ writeBatchMs: 0 });
  const catalogue = new RecordingCatalogue(dir, log);
  const recorder = new Recorder({ catalogue, patterns: parseRecordPatterns(['live/*']), splitMs: 0, splitBytes: 0, file: { flushMs: 20, flushBytes: 64 * 1024 }, log });
  hub.observe(recorder);
  t.after(() => recorder.close());
  // Main profile instead of baseline: another configuration (as after an encoder's resolution change).
  const otherHeader: MediaPacket = { ...videoHeader(), payload: Buffer.from([0x17, 0x00, 0, 0, 0, 0x01, 0x4d, 0x40, 0x1f, 0xff, 0xe0, 0x00]) };
  const out = hub.publish('live', 'cfg', { id: 'cfg', remoteAddress: '127.0.0.1', query: {}, close: () => undefined });
  assert.ok(out.ok);
  out.push(videoHeader());
  for (let g = 0; g < 5; g++) {
    // GOPs of 400 ms. Before GOP 1 the same header again (some encoders repeat it); before GOP 3 (1.2 s
    // in) another one; before GOP 4 the first one back, 400 ms into the new part: no file per keyframe.
    if (g === 1) out.push(videoHeader(g * 400));
    if (g === 3) out.push({ ...otherHeader, timestamp: ms(g * 400) });
    if (g === 4) out.push(videoHeader(g * 400));
    for (let i = 0; i < 10; i++) out.push(i === 0 ? videoKey((g * 10 + i) * 40, 1000) : videoInter((g * 10 + i) * 40, 500));
    await sleep(15);
  }
  out.end();
  await recorder.close();

  const parts = catalogue.list({ app: 'live' });
  assert.deepEqual(parts.map((r) => [r.part, r.state]), [[0, 'done'], [1, 'done']]);
  const [first, second] = await Promise.all(parts.map((r) => fileTags(r.file)));
  const headersOf = (tags: MediaPacket[]): string[] => tags.filter((p) => p.type === TagType.Video && p.payload[1] === 0).map((p) => p.payload.toString('hex'));
  const framesOf = (tags: MediaPacket[]): number => tags.filter((p) => p.type === TagType.Video && p.payload[1] === 1).length;
  assert.deepEqual(new Set(headersOf(first ?? [])), new Set([videoHeader().payload.toString('hex')]), 'the first part has the first configuration only');
  assert.deepEqual(headersOf(second ?? []), [otherHeader.payload.toString('hex'), videoHeader().payload.toString('hex')], 'the second starts with the new one');
  assert.equal(second?.find((p) => p.type === TagType.Video && p.payload[1] === 1)?.payload[0], 0x17, 'then its keyframe');
  assert.deepEqual([framesOf(first ?? []), framesOf(second ?? [])], [30, 20], 'every frame once');
});
