// The DVR store on a real directory, fed as the HLS service feeds it (no FFmpeg): files follow the index
// (pruned by the wall-clock window, init segments kept while used), writes stay in order, a backlog
// past the cap stops the stream's DVR, a removed playlist takes its files along. And the CLI flags.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DvrStore } from '../../src/origin/dvr-store.js';
import type { StoredSegment } from '../../src/origin/hls-playlist.js';
import { parseMediaPlaylist } from '../../src/media/hls/playlist.js';
import { createLogger } from '../../src/shared/log.js';
import { OptionsError } from '../../src/cli/options.js';
import { originCliConfig } from '../helpers/origin.js';
import { waitFor } from '../helpers/wait.js';

const T0 = Date.UTC(2026, 10, 30, 9, 0, 0);
const KEY = 'live/cam';

const segment = (seq: number, extra: Partial<StoredSegment> = {}): StoredSegment => ({
  sequence: seq,
  durationS: 2,
  discontinuity: false,
  keyframeStart: true,
  format: 'fmp4',
  initId: 100,
  programDateTime: T0 + (seq - 100) * 2000,
  data: Buffer.alloc(1000, seq & 0xff),
  ...extra,
});

/** retainMs 0: files go as soon as they leave the window (the retain test sets its own). */
async function store(t: { after(fn: () => unknown): void }, windowMs: number, maxPendingBytes = 1 << 20, retainMs = 0): Promise<{ dvr: DvrStore; dir: string }> {
  const dir = mkdtempSync(join(tmpdir(), 'livecdn-dvr-store-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const dvr = new DvrStore({ dir, windowMs, maxPendingBytes, maxSegments: 1000, retainMs }, createLogger('test', 'silent'));
  await dvr.start();
  return { dvr, dir };
}

const files = (dir: string): string[] => readdirSync(join(dir, 'live', 'cam', '1')).sort();

test('files follow the index: written before listed, pruned by the window, init segments kept while a segment uses them', async (t) => {
  const { dvr, dir } = await store(t, 10_000);
  dvr.onPlaylist('live', 'cam', 2000);
  dvr.onInit(KEY, { id: 100, data: Buffer.from('init-a'), codecs: {} });
  for (let seq = 100; seq < 104; seq++) dvr.onSegment(KEY, segment(seq));
  // Nothing is listed before its file is written.
  assert.equal(dvr.stream('live', 'cam'), undefined);
  await dvr.close();
  assert.deepEqual(files(dir), ['100.m4s', '101.m4s', '102.m4s', '103.m4s', 'init-100.mp4']);
  // A new init at 104 (a new codec config), a gap at 106; the window (10 s) slides past 100..103.
  dvr.onInit(KEY, { id: 104, data: Buffer.from('init-b'), codecs: {} });
  for (let seq = 104; seq < 110; seq++) dvr.onSegment(KEY, segment(seq, { initId: 104, ...(seq === 106 ? { gap: true, data: Buffer.alloc(0) } : {}) }));
  await dvr.close();
  await waitFor('pruned files to go', () => !files(dir).includes('init-100.mp4'), 2000, 20);
  assert.deepEqual(files(dir), ['105.m4s', '107.m4s', '108.m4s', '109.m4s', 'init-104.mp4']);
  const s = dvr.stream('live', 'cam');
  assert.ok(s);
  assert.deepEqual(s.entries.map((e) => e.sequence), [105, 106, 107, 108, 109]);
  assert.equal(s.segment(106, 'fmp4'), undefined, 'a gap has no file');
  assert.equal(s.segment(105, 'ts'), undefined, 'the format is part of the URL');
  assert.equal(s.segment(105, 'fmp4')?.bytes, 1000);
  assert.equal(s.init(100), undefined);
  const p = parseMediaPlaylist(s.playlist() ?? '');
  assert.equal(p.mediaSequence, 105);
  assert.equal(p.segments[0]?.map, 'init-104.mp4');
  assert.equal(p.segments[1]?.gap, true);
  assert.deepEqual(dvr.info('live', 'cam'), { windowMs: 10_000, fromMs: T0 + 5 * 2000, segments: 5 });
  // ?start=: the segment holding the time; the text is rendered once until the next change.
  assert.equal(parseMediaPlaylist(s.playlist(T0 + 16_500) ?? '').mediaSequence, 108);
  assert.equal(s.playlist(T0 + 16_500), s.playlist(T0 + 17_000));

  dvr.onEnd(KEY);
  await dvr.close();
  assert.equal(parseMediaPlaylist(s.playlist() ?? '').endList, true);
  dvr.onRemove(KEY);
  await waitFor('the session directory to go', () => !existsSync(join(dir, 'live', 'cam', '1')), 2000, 20);
  assert.equal(dvr.stream('live', 'cam'), undefined);
});

test('a segment that left the window is still served (not listed) for retainMs of the stream\'s clock, then its file goes', async (t) => {
  // Window 10 s, retain 6 s, 2 s segments: a player that loaded the playlist listing 100 first still gets 100.
  const { dvr, dir } = await store(t, 10_000, 1 << 20, 6000);
  dvr.onPlaylist('live', 'cam', 2000);
  dvr.onInit(KEY, { id: 100, data: Buffer.from('init-a'), codecs: {} });
  for (let seq = 100; seq < 106; seq++) dvr.onSegment(KEY, segment(seq));
  await dvr.close();
  const s = dvr.stream('live', 'cam');
  assert.ok(s);
  assert.equal(parseMediaPlaylist(s.playlist() ?? '').mediaSequence, 101, '100 left the window');
  assert.equal(s.segment(100, 'fmp4')?.bytes, 1000, 'but is still served');
  assert.ok(files(dir).includes('100.m4s'));
  // 100 left at 12 s of the stream's clock; at 16 s it has been out for 4 s (kept), at 18 s for 6 s (gone).
  for (let seq = 106; seq < 108; seq++) dvr.onSegment(KEY, segment(seq));
  await dvr.close();
  assert.equal(s.segment(100, 'fmp4')?.bytes, 1000, 'kept for retainMs');
  dvr.onSegment(KEY, segment(108));
  await dvr.close();
  assert.equal(s.segment(100, 'fmp4'), undefined);
  await waitFor('the retired file to go', () => !files(dir).includes('100.m4s'), 2000, 20);
  assert.ok(files(dir).includes('101.m4s'), 'left the window at 14 s: still retained');
  assert.ok(files(dir).includes('init-100.mp4'), 'the init segment stays while a kept segment uses it');
  await dvr.close();
});

test('a backlog past the cap stops that stream\'s DVR (EBACKLOG); a new playlist starts a new session', async (t) => {
  const { dvr, dir } = await store(t, 60_000, 2500);
  dvr.onPlaylist('live', 'cam', 2000);
  dvr.onPlaylist('live', 'other', 2000);
  // Three segments of 1000 bytes queued at once: the third is past 2500.
  for (let seq = 100; seq < 103; seq++) dvr.onSegment(KEY, segment(seq));
  dvr.onSegment('live/other', segment(100));
  await dvr.close();
  assert.equal(dvr.stream('live', 'cam'), undefined);
  assert.deepEqual([...dvr.errors], [['EBACKLOG', 1]]);
  assert.ok(dvr.stream('live', 'other'), 'the other stream carries on');
  await waitFor('the stopped stream\'s files to go', () => !existsSync(join(dir, 'live', 'cam', '1')), 2000, 20);
  dvr.onSegment(KEY, segment(103));
  await dvr.close();
  assert.equal(dvr.stream('live', 'cam'), undefined, 'stopped until the next publish');
  dvr.onPlaylist('live', 'cam', 2000);
  dvr.onSegment(KEY, segment(200));
  await dvr.close();
  assert.deepEqual(readdirSync(join(dir, 'live', 'cam', '3')), ['200.m4s']);
});

test('CLI: --dvr-window takes 2h, 90m, 3600s (0: off), at least 3 segments; --dvr-dir', () => {
  assert.equal(originCliConfig([]).dvr, undefined);
  assert.deepEqual(originCliConfig(['--dvr-window', '90m']).dvr, { windowMs: 5_400_000, dir: undefined });
  assert.deepEqual(originCliConfig(['--dvr-window', '2h', '--dvr-dir', '/tmp/x']).dvr, { windowMs: 7_200_000, dir: '/tmp/x' });
  assert.deepEqual(originCliConfig(['--dvr-window', '3600s']).dvr?.windowMs, 3_600_000);
  assert.deepEqual(originCliConfig(['--dvr-window', '45']).dvr?.windowMs, 45_000);
  for (const bad of [['--dvr-window', '5s'], ['--dvr-window', '2x'], ['--dvr-window', '8d'], ['--dvr-window', '100MB']]) {
    assert.throws(() => originCliConfig(bad), OptionsError, bad.join(' '));
  }
});
