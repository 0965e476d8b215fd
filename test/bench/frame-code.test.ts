// The latency benchmark's frame-number code (bench/lib/frame-code.ts): FFmpeg paints it, x264 codes it
// at a low bit rate, FFmpeg decodes and scales the strip as the page's canvas would; every frame must
// read back as its own number. Synthetic strips check the reader's refusals.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { CODE_BITS, CODE_HEIGHT, CODE_WIDTH, decodeFrameCode, frameCodeFilter } from '../../bench/lib/frame-code.js';
import { spawnFfmpeg } from '../helpers/ffmpeg.js';

/** An RGBA strip of `width` x `height` carrying `n`, with pixel noise of +-`noise`. */
function strip(n: number, width: number, height: number, noise = 0): Uint8ClampedArray {
  const out = new Uint8ClampedArray(width * height * 4);
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      const bit = Math.floor(n / 2 ** Math.floor((x * CODE_BITS) / width)) % 2;
      const white = y < height / 2 ? bit === 1 : bit === 0;
      const v = (white ? 235 : 16) + Math.round((Math.random() * 2 - 1) * noise);
      out.set([v, v, v, 255], (y * width + x) * 4);
    }
  }
  return out;
}

describe('frame code', () => {
  it('reads synthetic strips at several scales, with noise', () => {
    for (const [w, h] of [
      [CODE_WIDTH, CODE_HEIGHT],
      [192, 20],
      [96, 10],
    ] as const) {
      for (const n of [0, 1, 37, 1799, 2 ** CODE_BITS - 1]) assert.equal(decodeFrameCode(strip(n, w, h, 30), w, h, CODE_BITS), n, `${n} at ${w}x${h}`);
    }
  });

  it('refuses a strip with a blurred bit or no code at all', () => {
    const s = strip(37, 192, 20);
    // Grey out block 3 in both rows: a frame caught mid-transition.
    for (let y = 0; y < 20; y++) for (let x = 48; x < 64; x++) s.set([128, 128, 128, 255], (y * 192 + x) * 4);
    assert.equal(decodeFrameCode(s, 192, 20, CODE_BITS), undefined);
    assert.equal(decodeFrameCode(new Uint8ClampedArray(192 * 20 * 4).fill(90), 192, 20, CODE_BITS), undefined);
  });

  it('survives x264 at 300 kbit/s: FFmpeg paints, codes, decodes; every frame reads as its number', async () => {
    const frames = 75;
    const [w, h] = [192, 20];
    // Paint and code in one FFmpeg, decode and scale the strip in a second, as the page does.
    const enc = spawnFfmpeg([
      '-hide_banner', '-loglevel', 'error',
      '-f', 'lavfi', '-i', 'testsrc2=size=1280x720:rate=30',
      '-filter_complex', frameCodeFilter('0:v', 'v', 30),
      '-map', '[v]', '-frames:v', String(frames),
      '-c:v', 'libx264', '-preset', 'ultrafast', '-b:v', '300k', '-g', '30', '-bf', '0', '-pix_fmt', 'yuv420p',
      '-f', 'h264', '-',
    ]);
    const dec = spawnFfmpeg([
      '-hide_banner', '-loglevel', 'error', '-f', 'h264', '-i', '-',
      '-vf', `crop=${CODE_WIDTH}:${CODE_HEIGHT}:0:0,scale=${w}:${h}`, '-f', 'rawvideo', '-pix_fmt', 'rgba', '-',
    ], { stdio: ['pipe', 'pipe', 'pipe'] });
    const errs: string[] = [];
    enc.child.stderr?.on('data', (b: Buffer) => errs.push(b.toString()));
    dec.child.stderr?.on('data', (b: Buffer) => errs.push(b.toString()));
    const raw: Buffer[] = [];
    dec.child.stdout?.on('data', (b: Buffer) => raw.push(b));
    const stdin = dec.child.stdin;
    assert.ok(stdin && enc.child.stdout);
    enc.child.stdout.pipe(stdin);
    try {
      assert.equal(await enc.exited, 0, errs.join(''));
      assert.equal(await dec.exited, 0, errs.join(''));
    } finally {
      await enc.stop();
      await dec.stop();
    }
    assert.deepEqual(errs, []);
    const all = Buffer.concat(raw);
    const size = w * h * 4;
    assert.equal(all.length, frames * size);
    const read = Array.from({ length: frames }, (_, i) => decodeFrameCode(all.subarray(i * size, (i + 1) * size), w, h, CODE_BITS));
    assert.deepEqual(read, Array.from({ length: frames }, (_, i) => i));
  });
});
