import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { ProgressParser } from './progress.js';

// FFmpeg 5.1's block for two outputs, as printed with -progress pipe:1 (out_time_ms is µs: FFmpeg's naming).
const BLOCK =
  'frame=300\nfps=24.97\nstream_0_0_q=31.0\nstream_1_0_q=30.0\nbitrate= 340.2kbits/s\ntotal_size=510380\n' +
  'out_time_us=12003000\nout_time_ms=12003000\nout_time=00:00:12.003000\ndup_frames=0\ndrop_frames=0\nspeed=1.02x\nprogress=continue\n';

test('a block gives frame, fps, speed and output time', () => {
  assert.deepEqual(new ProgressParser().push(BLOCK), [{ frame: 300, fps: 24.97, speed: 1.02, outTimeMs: 12003, end: false }]);
});

test('any split of the text gives the same blocks', () => {
  const text = BLOCK + BLOCK.replace('progress=continue', 'progress=end');
  const whole = new ProgressParser().push(text);
  assert.equal(whole.length, 2);
  assert.equal(whole[1]?.end, true);
  fc.assert(
    fc.property(fc.array(fc.nat({ max: text.length }), { maxLength: 20 }), (cuts) => {
      const p = new ProgressParser();
      const at = [0, ...[...cuts].sort((a, b) => a - b), text.length];
      const got = at.slice(1).flatMap((end, i) => p.push(text.slice(at[i], end)));
      assert.deepEqual(got, whole);
    }),
  );
});

test('N/A and missing values are undefined; CRLF, out_time fallbacks', () => {
  const [a] = new ProgressParser().push('frame=0\r\nfps=0.00\r\nspeed=N/A\r\nout_time_ms=N/A\r\nout_time=N/A\r\nprogress=continue\r\n');
  assert.deepEqual(a, { frame: 0, fps: 0, speed: undefined, outTimeMs: undefined, end: false });
  const [b] = new ProgressParser().push('out_time=01:02:03.500000\nprogress=continue\n');
  assert.equal(b?.outTimeMs, 3_723_500);
  const [c] = new ProgressParser().push('out_time_ms=2500000\nprogress=continue\n');
  assert.equal(c?.outTimeMs, 2500);
  const [d] = new ProgressParser().push('progress=continue\n');
  assert.deepEqual(d, { frame: undefined, fps: undefined, speed: undefined, outTimeMs: undefined, end: false });
});

test('malformed lines are ignored: negative, non-numeric, no key, no =', () => {
  const [a] = new ProgressParser().push('frame=-3\nfps=abc\n=5\nspeed\nspeed=2.5x\nout_time=1:2\nprogress=continue\n');
  assert.deepEqual(a, { frame: undefined, fps: undefined, speed: 2.5, outTimeMs: undefined, end: false });
});

test('over-long lines are dropped up to their newline; a block keeps at most 64 keys', () => {
  const p = new ProgressParser();
  const long = 'frame=' + '9'.repeat(100_000);
  assert.deepEqual(p.push(long.slice(0, 50_000)), []);
  const [a] = p.push(long.slice(50_000) + '\nfps=5\nprogress=continue\n');
  assert.deepEqual(a, { frame: undefined, fps: 5, speed: undefined, outTimeMs: undefined, end: false });
  const many = Array.from({ length: 1000 }, (_, i) => `k${i}=1\n`).join('');
  const [b] = p.push(many + 'frame=7\nprogress=continue\n');
  // frame came after the cap: not kept. A block never grows past the cap.
  assert.equal(b?.frame, undefined);
  const [c] = p.push('frame=8\nprogress=continue\n');
  assert.equal(c?.frame, 8);
});
