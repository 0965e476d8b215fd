// Real peer: FFmpeg's ADTS muxer against ours.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { adtsHeader } from '../../src/media/aac/adts.js';
import { parseAsc } from '../../src/media/aac/asc.js';
import { ffmpegPath } from '../helpers/ffmpeg.js';

test('real peer: FFmpeg writes the same ADTS header for its first AAC frame', async (t) => {
  const dir = await mkdtemp(join(tmpdir(), 'livecdn-adts-'));
  t.after(() => rm(dir, { recursive: true, force: true }));
  const out = join(dir, 'a.aac');
  await promisify(execFile)(ffmpegPath(), ['-v', 'error', '-f', 'lavfi', '-i', 'sine=duration=0.2:sample_rate=44100', '-c:a', 'aac', '-ac', '2', '-f', 'adts', out]);
  const data = await readFile(out);
  const len = (((data[3] ?? 0) & 3) << 11) | ((data[4] ?? 0) << 3) | ((data[5] ?? 0) >> 5);
  assert.equal(adtsHeader(parseAsc(Buffer.from('1210', 'hex')), len - 7).toString('hex'), data.subarray(0, 7).toString('hex'));
});
