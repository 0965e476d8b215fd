// The ABR benchmark's segment start reader (bench/lib/segment-start.ts): the first video PTS of an
// MPEG-TS segment, from our muxer and from FFmpeg's (checked against ffprobe), and its refusals.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { firstVideoPtsMs } from '../../bench/lib/segment-start.js';
import { TsMuxer } from '../../src/media/mpegts/muxer.js';
import { ticks90k } from '../../src/media/time.js';
import { rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ffprobeJson, spawnFfmpeg } from '../helpers/ffmpeg.js';

const AU = Buffer.from([0, 0, 0, 1, 0x65, 0x88, 0x84, 0x00]);

describe('firstVideoPtsMs', () => {
  it('reads the video PTS (not the DTS, not the audio PTS before it) of our muxer', () => {
    const m = new TsMuxer({ video: 'h264', audio: 'aac' });
    const seg = Buffer.concat([m.tables(), m.audio(Buffer.alloc(40), ticks90k(900_000)), m.video(AU, ticks90k(903_600), ticks90k(900_600), true), m.video(AU, ticks90k(906_600), ticks90k(906_600), false)]);
    assert.equal(firstVideoPtsMs(seg), 903_600 / 90);
  });

  it('undefined without video; throws on bytes that are not TS packets', () => {
    const m = new TsMuxer({ audio: 'aac' });
    assert.equal(firstVideoPtsMs(Buffer.concat([m.tables(), m.audio(Buffer.alloc(40), ticks90k(90_000))])), undefined);
    assert.equal(firstVideoPtsMs(Buffer.alloc(0)), undefined);
    assert.throws(() => firstVideoPtsMs(Buffer.alloc(100)));
    assert.throws(() => firstVideoPtsMs(Buffer.alloc(188, 0x46)));
  });

  it("agrees with ffprobe on FFmpeg's MPEG-TS (B-frames: PTS after DTS)", async (t) => {
    const out: Buffer[] = [];
    const p = spawnFfmpeg(
      ['-v', 'error', '-f', 'lavfi', '-i', 'testsrc2=size=160x120:rate=25', '-f', 'lavfi', '-i', 'sine=sample_rate=48000', '-t', '1', '-c:v', 'libx264', '-preset', 'ultrafast', '-bf', '2', '-c:a', 'aac', '-output_ts_offset', '12.345', '-f', 'mpegts', 'pipe:1'],
    );
    t.after(() => p.stop());
    p.child.stdout?.on('data', (b: Buffer) => out.push(b));
    assert.equal(await p.exited, 0);
    const seg = Buffer.concat(out);
    const file = join(tmpdir(), `segment-start-${process.pid}.ts`);
    await writeFile(file, seg);
    t.after(() => rm(file, { force: true }));
    const probed = (await ffprobeJson(file, ['-select_streams', 'v', '-show_entries', 'packet=pts_time', '-read_intervals', '%+#1'])) as { packets: { pts_time: string }[] };
    const expected = Number(probed.packets[0]?.pts_time) * 1000;
    assert.ok(expected > 12_000, `ffprobe says ${expected}`);
    assert.ok(Math.abs((firstVideoPtsMs(seg) ?? NaN) - expected) < 0.02, `${firstVideoPtsMs(seg)} vs ${expected}`);
  });
});
