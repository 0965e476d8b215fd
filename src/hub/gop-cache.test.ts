import { test } from 'node:test';
import assert from 'node:assert/strict';
import { GopCache } from './gop-cache.js';
import { OutPacket, classify } from './out-packet.js';
import { aacFrame, videoInter, videoKey } from '../../test/helpers/packets.js';
import type { MediaPacket } from '../media/packet.js';

let seq = 0;
const out = (p: MediaPacket): OutPacket => {
  const kind = classify(p);
  return new OutPacket(seq++, p, kind, kind === 'video-key', 0);
};
const stamps = (c: GopCache): number[] => c.packets().map((p) => p.packet.timestamp);

test('holds everything from the last keyframe, audio included', () => {
  const c = new GopCache();
  for (const p of [videoInter(0), videoKey(40), aacFrame(50), videoInter(80), videoKey(120), aacFrame(130), videoInter(160)]) c.push(out(p));
  assert.deepEqual(stamps(c), [120, 130, 160]);
  assert.equal(c.packets()[0]?.kind, 'video-key');
  assert.equal(c.needsKeyframe, false);
  assert.equal(c.keyframe()?.packet.timestamp, 120, 'the latest keyframe');
});

test('no keyframe to hand out: none yet, audio only, or the GOP overflowed', () => {
  const c = new GopCache({ maxBytes: 1000 });
  c.push(out(aacFrame(0)));
  assert.equal(c.keyframe(), undefined);
  c.push(out(videoKey(40, 600)));
  assert.equal(c.keyframe()?.packet.timestamp, 40);
  c.push(out(videoInter(80, 600)));
  assert.equal(c.keyframe(), undefined);
});

test('inter frames before the first keyframe are not cached', () => {
  const c = new GopCache();
  c.push(out(videoInter(0)));
  c.push(out(videoInter(40)));
  assert.equal(c.count, 0);
});

test('audio-only: keeps about the last second', () => {
  const c = new GopCache({ audioWindowMs: 1000 });
  for (let t = 0; t <= 5000; t += 23) c.push(out(aacFrame(t)));
  const s = stamps(c);
  const last = s[s.length - 1] as number;
  assert.ok(last - (s[0] as number) <= 1000);
  assert.ok(last - (s[0] as number) >= 950);
  assert.equal(c.bytes, c.packets().reduce((n, p) => n + p.size, 0));
});

test('a GOP over the byte limit is dropped until the next keyframe', () => {
  const c = new GopCache({ maxBytes: 1000 });
  c.push(out(videoKey(0, 400)));
  c.push(out(videoInter(40, 400)));
  assert.equal(c.count, 2);
  c.push(out(videoInter(80, 400)));
  assert.equal(c.count, 0);
  assert.equal(c.needsKeyframe, true);
  c.push(out(videoInter(120, 10)));
  assert.equal(c.count, 0, 'nothing cached while waiting for a keyframe');
  c.push(out(videoKey(160, 100)));
  assert.deepEqual(stamps(c), [160]);
  assert.equal(c.needsKeyframe, false);
});

test('a GOP over the count limit is dropped too', () => {
  const c = new GopCache({ maxPackets: 3 });
  c.push(out(videoKey(0)));
  for (let i = 1; i <= 3; i++) c.push(out(videoInter(i * 40)));
  assert.equal(c.count, 0);
  assert.equal(c.needsKeyframe, true);
});

test('audio-only with a timestamp that never advances: the window is capped in packets and bytes, newest kept', () => {
  const byCount = new GopCache({ maxPackets: 100 });
  for (let i = 0; i < 10_000; i++) byCount.push(out(aacFrame(1000, 20)));
  assert.equal(byCount.count, 100);
  assert.equal(byCount.packets().length, 100);
  assert.equal(byCount.packets().at(-1)?.seq, seq - 1);
  assert.equal(byCount.needsKeyframe, false);

  const byBytes = new GopCache({ maxBytes: 10_000 });
  for (let i = 0; i < 10_000; i++) byBytes.push(out(aacFrame(1000, 1000)));
  assert.equal(byBytes.count, 10);
  assert.equal(byBytes.bytes, 10_000);
  assert.equal(byBytes.bytes, byBytes.packets().reduce((n, p) => n + p.size, 0));
});
