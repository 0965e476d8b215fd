// FlvFileWriter against real FFmpeg: a recording of an FFmpeg-made FLV (fed tag by tag as the hub
// serialises them) has the source's frames and duration, seeks through its keyframes index, and that
// index names the real keyframe tags; a file cut at a flush boundary (a crash) decodes cleanly; a full
// disk reports once and stops. Synthetic tags check rebasing, batching and the index limit.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdir, mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { open } from 'node:fs/promises';
import type { FileHandle } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { classify } from '../../src/hub/out-packet.js';
import { FLV_HEADER_SIZE } from '../../src/media/flv/header.js';
import { parseKeyframesIndex } from '../../src/media/flv/file-meta.js';
import { FlvReader } from '../../src/media/flv/reader.js';
import { parseScriptData } from '../../src/media/flv/script.js';
import { flvTagDataSize, flvTagTimestamp, flvTagType } from '../../src/media/flv/tag-header.js';
import { FLV_TAG_HEADER_SIZE } from '../../src/media/flv/tag-writer.js';
import { TagType } from '../../src/media/packet.js';
import type { MediaPacket } from '../../src/media/packet.js';
import { ms } from '../../src/media/time.js';
import { FlvFileWriter } from '../../src/record/flv-file.js';
import type { FlvFileOptions } from '../../src/record/flv-file.js';
import { ffmpegPath, runFfmpeg } from '../helpers/ffmpeg.js';
import { aacFrame, aacHeader, videoHeader, videoInter, videoKey } from '../helpers/packets.js';
import { sleep, waitFor } from '../helpers/wait.js';

const run = promisify(execFile);
const OPTS: FlvFileOptions = { flushMs: 250, flushBytes: 256 * 1024 };
/** A hub stream that has run a while: the recording must still start at 0. */
const HUB_OFFSET = 123_456;
const FPS = 25;
const FRAME_MS = 1000 / FPS;
const GOP_MS = 2000;

let dir: string;
let source: string;
let packets: MediaPacket[];
let sourceMeta: Record<string, unknown>;

before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'livecdn-rec-'));
  source = join(dir, 'src.flv');
  // 32 s, GOP 2 s exactly (no scene-cut keyframes), AAC: small and quick with ultrafast.
  await run(
    ffmpegPath(),
    ['-v', 'error', '-f', 'lavfi', '-i', `testsrc2=size=320x240:rate=${FPS}`, '-f', 'lavfi', '-i', 'sine=frequency=440:sample_rate=44100', '-t', '32',
      '-c:v', 'libx264', '-preset', 'ultrafast', '-g', String((GOP_MS / 1000) * FPS), '-keyint_min', String((GOP_MS / 1000) * FPS), '-sc_threshold', '0', '-b:v', '300k',
      '-c:a', 'aac', '-b:a', '64k', '-f', 'flv', source],
    { timeout: 120_000 },
  );
  packets = new FlvReader().push(await readFile(source));
  sourceMeta = parseScriptData(packets.find((p) => p.type === TagType.Script)!.payload).value as Record<string, unknown>;
});
after(() => rm(dir, { recursive: true, force: true }));

/** Feeds packets [from, to) as the recorder would: the packets, hub timestamps, keyframe flag. */
function feed(w: FlvFileWriter, from = 0, to = packets.length): void {
  for (const p of packets.slice(from, to)) {
    if (p.type === TagType.Script) continue;
    const hub = { ...p, timestamp: ms(p.timestamp + HUB_OFFSET) };
    w.write(hub, hub.timestamp, classify(hub) === 'video-key');
  }
}

interface ScannedTag {
  pos: number;
  type: number;
  timestamp: number;
  key: boolean;
  end: number;
}

/** Every whole tag of a file, with its offset (what a player seeking by byte offset lands on). */
function scan(file: Buffer): ScannedTag[] {
  const tags: ScannedTag[] = [];
  for (let pos = FLV_HEADER_SIZE; pos + FLV_TAG_HEADER_SIZE <= file.length; ) {
    const size = flvTagDataSize(file, pos);
    const end = pos + FLV_TAG_HEADER_SIZE + size + 4;
    if (end > file.length) break;
    const p: MediaPacket = { type: flvTagType(file, pos) as TagType, timestamp: ms(flvTagTimestamp(file, pos)), payload: file.subarray(pos + FLV_TAG_HEADER_SIZE, end - 4) };
    assert.equal(file.readUInt32BE(end - 4), FLV_TAG_HEADER_SIZE + size, `PreviousTagSize at ${end - 4}`);
    tags.push({ pos, type: p.type, timestamp: p.timestamp, key: classify(p) === 'video-key', end });
    pos = end;
  }
  return tags;
}

/** The onMetaData body at the file's head. */
function headMeta(file: Buffer): Buffer {
  assert.equal(flvTagType(file, FLV_HEADER_SIZE), TagType.Script);
  const start = FLV_HEADER_SIZE + FLV_TAG_HEADER_SIZE;
  return file.subarray(start, start + flvTagDataSize(file, FLV_HEADER_SIZE));
}

async function probe(file: string): Promise<{ duration: number; frames: Record<string, number> }> {
  const r = await runFfmpeg(['-v', 'error', '-count_frames', '-show_entries', 'format=duration:stream=codec_type,nb_read_frames', '-of', 'json', file], { probe: true, timeoutMs: 60_000 });
  assert.equal(r.code, 0, r.stderr);
  assert.equal(r.stderr, '', 'ffprobe is silent');
  const j = JSON.parse(r.stdout) as { format: { duration: string }; streams: { codec_type: string; nb_read_frames: string }[] };
  return { duration: Number(j.format.duration), frames: Object.fromEntries(j.streams.map((s) => [s.codec_type, Number(s.nb_read_frames)])) };
}

async function decodeSilently(file: string): Promise<void> {
  const r = await runFfmpeg(['-v', 'error', '-i', file, '-f', 'null', '-'], { timeoutMs: 60_000 });
  assert.equal(r.code, 0, r.stderr);
  assert.equal(r.stderr, '', `ffmpeg -v error is silent on ${file}`);
}

test('a recording of an FFmpeg FLV: one write per batch, same frames and duration, starts at 0, seeks by its index, which names the real keyframe tags', async (t) => {
  const file = join(dir, 'rec.flv');
  const errors: Error[] = [];
  const w = await FlvFileWriter.open(file, { audio: true, video: true }, sourceMeta, OPTS, (e) => errors.push(e));
  // Every write of every FileHandle, counted (FileHandle has no exported class: its prototype).
  const probeHandle = await open(source, 'r');
  const writes = t.mock.method(Object.getPrototypeOf(probeHandle) as FileHandle, 'write');
  await probeHandle.close();
  feed(w);
  const fed = packets.filter((p) => p.type !== TagType.Script).length;
  await w.close();
  assert.deepEqual(errors, []);
  // One write per 256 KiB batch plus the patch, not one per tag.
  const batches = Math.ceil(w.bytes / OPTS.flushBytes);
  t.diagnostic(`${writes.mock.callCount()} writes for ${fed} tags, ${w.bytes} bytes`);
  assert.ok(writes.mock.callCount() >= 2 && writes.mock.callCount() <= batches + 2, `${writes.mock.callCount()} writes for ${fed} tags`);

  const bytes = await readFile(file);
  assert.equal(bytes.length, w.bytes);
  const [src, rec] = await Promise.all([probe(source), probe(file)]);
  assert.deepEqual(rec.frames, src.frames, 'ffprobe -count_frames: the same frames');
  assert.ok(Math.abs(rec.duration - src.duration) <= FRAME_MS / 1000, `duration ${rec.duration} s vs the source's ${src.duration} s`);
  assert.ok(Math.abs(w.durationMs / 1000 - src.duration) <= FRAME_MS / 1000, `writer's durationMs ${w.durationMs}`);

  const tags = scan(bytes);
  assert.equal(tags.at(-1)!.end, bytes.length, 'the file ends on a tag');
  assert.equal(tags.length, 1 + fed, 'onMetaData and every tag fed');
  const media = tags.filter((t) => t.type !== TagType.Script);
  assert.equal(Math.min(...media.map((t) => t.timestamp)), 0, 'rebased to start at 0');
  const firstSource = packets.find((p) => p.type !== TagType.Script && classify(p) !== 'video-header' && classify(p) !== 'audio-header')!.timestamp;
  assert.equal(media.at(-1)!.timestamp, packets.at(-1)!.timestamp - firstSource);

  const keys = tags.filter((t) => t.key);
  assert.equal(keys.length, 16, '32 s at a 2 s GOP');
  const index = parseKeyframesIndex(headMeta(bytes));
  assert.ok(index, 'the closed file has an index');
  assert.deepEqual(index.positions, keys.map((k) => k.pos), 'filepositions are the keyframe tags');
  assert.deepEqual(index.timesMs, keys.map((k) => k.timestamp), 'times are their timestamps');
  assert.equal(index.filesize, bytes.length);
  assert.equal(index.durationMs, w.durationMs);
  assert.equal(w.keyframeCount, 16);
  assert.equal(w.indexFull, false);

  // Input seeking lands on the keyframe at or before 20 s (FFmpeg reads the index in whole seconds:
  // within one GOP either way).
  const r = await runFfmpeg(['-v', 'error', '-ss', '20', '-i', file, '-map', '0:v', '-c', 'copy', '-copyts', '-frames:v', '1', '-f', 'framecrc', '-'], { timeoutMs: 60_000 });
  assert.equal(r.code, 0, r.stderr);
  const first = /^0,\s*(\d+),/m.exec(r.stdout);
  assert.ok(first, r.stdout);
  const landed = Number(first[1]);
  assert.ok(Math.abs(landed - 20_000) < GOP_MS, `-ss 20 starts at ${landed} ms`);
  assert.ok(index.timesMs.includes(landed), 'on an indexed keyframe');
  const decoded = await runFfmpeg(['-v', 'error', '-ss', '20', '-i', file, '-t', '1', '-f', 'null', '-'], { timeoutMs: 60_000 });
  assert.equal(decoded.stderr, '', 'a decode from 20 s is silent');
});

test('a file cut at flush boundaries (the process killed, no close) decodes cleanly to its last tag', async () => {
  // Size flushes at arbitrary tags (64 KiB batches, the timer far away), then a timer flush.
  const file = join(dir, 'crash.flv');
  const w = await FlvFileWriter.open(file, { audio: true, video: true }, sourceMeta, { flushMs: 60_000, flushBytes: 64 * 1024 }, () => assert.fail('no error expected'));
  const cut = Math.floor(packets.length * 0.37);
  feed(w, 0, cut);
  const bySize = await waitFor('the size flushes written', async () => {
    const size = (await stat(file)).size;
    await sleep(100);
    return size === (await stat(file)).size && size > 64 * 1024 && size;
  });
  assert.ok(bySize < w.bytes, 'a part of a batch still in memory');
  const sizeCut = join(dir, 'crash-size.flv');
  await writeFile(sizeCut, (await readFile(file)).subarray(0, bySize));

  const t = await FlvFileWriter.open(join(dir, 'crash-timer.flv'), { audio: true, video: true }, sourceMeta, { flushMs: 50, flushBytes: 1024 * 1024 }, () => assert.fail('no error expected'));
  feed(t, 0, cut);
  await waitFor('the timer flush written', async () => (await stat(join(dir, 'crash-timer.flv'))).size === t.bytes);
  const timerCut = join(dir, 'crash-timer-copy.flv');
  await writeFile(timerCut, await readFile(join(dir, 'crash-timer.flv')));
  await Promise.all([w.abort(), t.abort()]);

  for (const cutFile of [sizeCut, timerCut]) {
    const bytes = await readFile(cutFile);
    const tags = scan(bytes);
    assert.equal(tags.at(-1)!.end, bytes.length, `${cutFile} ends on a tag`);
    await decodeSilently(cutFile);
    // Not closed: the reserved index is empty and filesize 0, which tells a reader to scan instead.
    assert.deepEqual(parseKeyframesIndex(headMeta(bytes)), { timesMs: [], positions: [], durationMs: 0, filesize: 0, lastTimestampMs: 0 });
    const { duration } = await probe(cutFile);
    const lastTag = tags.at(-1)!.timestamp / 1000;
    assert.ok(Math.abs(duration - lastTag) <= 0.1, `ffprobe finds the end at ${duration} s (last tag ${lastTag} s)`);
  }
});

test('a full disk (tmpfs of 256 KiB): onError once with ENOSPC, then nothing more is written', async (t) => {
  const mnt = join(dir, 'tiny');
  await mkdir(mnt);
  try {
    await run('mount', ['-t', 'tmpfs', '-o', 'size=256k', 'tmpfs', mnt], { timeout: 10_000 });
  } catch (e) {
    t.skip(`cannot mount a tmpfs here: ${(e as Error).message.split('\n')[0]}`);
    return;
  }
  const errors: NodeJS.ErrnoException[] = [];
  const opened = FlvFileWriter.open(join(mnt, 'rec.flv'), { audio: true, video: true }, sourceMeta, OPTS, (e) => errors.push(e));
  t.after(async () => {
    await (await opened.catch(() => undefined))?.abort(); // the fd first, or the unmount finds the file system busy
    await run('umount', [mnt], { timeout: 10_000 });
  });
  const w = await opened;
  const half = Math.floor(packets.length / 2);
  feed(w, 0, half);
  await waitFor('the write error', () => errors.length > 0);
  const bytes = w.bytes;
  feed(w, half);
  await sleep(2 * OPTS.flushMs);
  assert.equal(errors.length, 1, 'reported once');
  assert.equal(errors[0]!.code, 'ENOSPC');
  assert.equal(w.bytes, bytes, 'no tag taken after the error');
  await w.abort();
  await w.close(); // after abort: the same settled close, no patch, no second error
  assert.equal(errors.length, 1);
});

// Synthetic packets: what the hub hands over around a join, without FFmpeg.

test('rebasing: headers before the first frame at 0, the first frame at 0; batches reach disk by size or timer only', async () => {
  const file = join(dir, 'synthetic.flv');
  const w = await FlvFileWriter.open(file, { audio: true, video: true }, undefined, { flushMs: 60_000, flushBytes: 4096, indexCapacity: 4 }, () => assert.fail('no error expected'));
  const head = (await stat(file)).size;
  assert.equal(w.bytes, head);
  w.write(videoHeader(9000), 9000, false);
  w.write(aacHeader(9000), 9000, false);
  for (let i = 0; i < 10; i++) {
    const t = 10_000 + i * 40;
    w.write(i % 5 === 0 ? videoKey(t, 600) : videoInter(t, 600), t, i % 5 === 0);
    w.write(aacFrame(t + 5), t + 5, false);
  }
  await sleep(50);
  const onDisk = (await stat(file)).size;
  assert.ok(onDisk > head && onDisk < w.bytes, `${onDisk} of ${w.bytes} bytes on disk: full batches only`);
  assert.equal(scan(await readFile(file)).at(-1)!.end, onDisk, 'a batch ends on a tag');
  await w.close();
  const bytes = await readFile(file);
  const tags = scan(bytes).slice(1);
  assert.deepEqual(tags.slice(0, 4).map((t) => t.timestamp), [0, 0, 0, 5]);
  assert.equal(tags.at(-1)!.timestamp, 9 * 40 + 5);
  assert.equal(w.durationMs, 9 * 40 + 5 + 40, 'the last frame (audio) lasts as long as the one before it');
  assert.deepEqual(parseKeyframesIndex(headMeta(bytes))?.timesMs, [0, 200]);
  w.write(videoKey(20_000), 20_000, true);
  assert.equal(w.bytes, bytes.length, 'ignored after close');
});

test('indexFull once the reserved index is full; later keyframes are written but not indexed', async () => {
  const file = join(dir, 'full.flv');
  const w = await FlvFileWriter.open(file, { audio: false, video: true }, { width: 2 }, { ...OPTS, indexCapacity: 2 }, () => assert.fail('no error expected'));
  w.write(videoHeader(), 0, false);
  w.write(videoKey(0), 0, true);
  assert.equal(w.indexFull, false);
  w.write(videoKey(1000), 1000, true);
  assert.equal(w.indexFull, true);
  w.write(videoKey(2000), 2000, true);
  assert.equal(w.keyframeCount, 2);
  await w.close();
  const bytes = await readFile(file);
  const keys = scan(bytes).filter((t) => t.key);
  assert.equal(keys.length, 3);
  const index = parseKeyframesIndex(headMeta(bytes));
  assert.deepEqual(index?.positions, keys.slice(0, 2).map((k) => k.pos));
  assert.equal(index?.filesize, bytes.length);
});

test('open refuses an existing file and a missing directory; bad tags and options are RangeErrors; a backlog fails with ENOBUFS', async () => {
  const file = join(dir, 'exists.flv');
  await writeFile(file, 'x');
  await assert.rejects(FlvFileWriter.open(file, { audio: true, video: true }, undefined, OPTS, () => {}), { code: 'EEXIST' });
  await assert.rejects(FlvFileWriter.open(join(dir, 'no', 'such.flv'), { audio: true, video: true }, undefined, OPTS, () => {}), { code: 'ENOENT' });
  await assert.rejects(FlvFileWriter.open(join(dir, 'opts.flv'), { audio: true, video: true }, undefined, { flushMs: 0, flushBytes: 1 }, () => {}), RangeError);
  await assert.rejects(FlvFileWriter.open(join(dir, 'cap.flv'), { audio: true, video: true }, undefined, { ...OPTS, indexCapacity: 1 }, () => {}), RangeError);

  const errors: NodeJS.ErrnoException[] = [];
  const w = await FlvFileWriter.open(join(dir, 'backlog.flv'), { audio: true, video: true }, undefined, { flushMs: 60_000, flushBytes: 1024, maxBacklogBytes: 2048 }, (e) => errors.push(e));
  assert.throws(() => w.write({ type: TagType.Video, payload: Buffer.alloc(0x1000000) }, 0, false), RangeError, 'a body over the 24-bit size field');
  for (let i = 0; i < 10; i++) w.write(videoKey(i * 40, 900), i * 40, true);
  assert.equal(errors.length, 1, 'batches queued faster than the disk takes them');
  assert.equal(errors[0]!.code, 'ENOBUFS');
  await w.abort();
  assert.equal(errors.length, 1);
});
