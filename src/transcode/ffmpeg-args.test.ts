import { test } from 'node:test';
import assert from 'node:assert/strict';
import { pipeOutputs, transcodeArgs } from './ffmpeg-args.js';
import type { Rung } from './ladder.js';

const low: Rung = { name: 'low', height: 180, videoKbps: 250, maxFps: 30, audioKbps: 64 };
const tiny: Rung = { name: 'tiny', height: 120, videoKbps: 120, maxFps: 15, audioKbps: 48 };
const settings = { preset: 'veryfast', tune: 'zerolatency' };

/** The arguments of output `i`: from its -map to its output name. */
function outputArgs(args: readonly string[], output: string): string[] {
  const end = args.indexOf(output);
  let start = end;
  while (start > 0 && !(args[start] === '-map' && args[start + 1]?.startsWith('[o'))) start--;
  return args.slice(start, end + 1);
}

test('pipe outputs start at fd 3', () => {
  assert.deepEqual(pipeOutputs(3), ['pipe:3', 'pipe:4', 'pipe:5']);
});

test('one input on the source timeline, one split, one scaled encode per rung', () => {
  const args = transcodeArgs({ input: 'pipe:0', rungs: [low, tiny], outputs: pipeOutputs(2), settings, sourceFps: 25, audio: 'copy' });
  const at = (flag: string): string | undefined => args[args.indexOf(flag) + 1];
  assert.ok(args.includes('-copyts'));
  assert.ok(args.indexOf('-copyts') < args.indexOf('-i'));
  assert.equal(at('-i'), 'pipe:0');
  assert.equal(at('-progress'), 'pipe:1');
  assert.ok(args.includes('-nostats'));
  assert.ok(!args.includes('-nostdin'));
  // 25 fps is over tiny's cap (15): tiny keeps fewer frames (every keyframe among them); low (30) all.
  assert.equal(
    at('-filter_complex'),
    "[0:v]split=2[s0][s1];[s0]scale=-2:180,setsar=1[o0];[s1]select='isnan(prev_selected_t)+key+gte(t-prev_selected_t,0.0662)',scale=-2:120,setsar=1[o1]",
  );
  const o0 = outputArgs(args, 'pipe:3');
  const o1 = outputArgs(args, 'pipe:4');
  assert.deepEqual(o0.slice(0, 6), ['-map', '[o0]', '-map', '0:a?', '-c:a', 'copy']);
  const of = (o: string[], flag: string): string | undefined => o[o.indexOf(flag) + 1];
  assert.equal(of(o0, '-b:v'), '250k');
  assert.equal(of(o0, '-maxrate'), '250k');
  assert.equal(of(o0, '-bufsize'), '500k');
  assert.equal(of(o1, '-b:v'), '120k');
  for (const o of [o0, o1]) {
    assert.equal(of(o, '-c:v'), 'libx264');
    assert.equal(of(o, '-preset'), 'veryfast');
    assert.equal(of(o, '-tune'), 'zerolatency');
    assert.equal(of(o, '-force_key_frames'), 'source');
    assert.equal(of(o, '-sc_threshold'), '0');
    assert.equal(of(o, '-enc_time_base:v'), '1:1000');
    assert.equal(of(o, '-f'), 'flv');
    assert.equal(of(o, '-flush_packets'), '1');
  }
});

test('audio: encoded per rung at its rate when not AAC, absent when the source has none', () => {
  const enc = transcodeArgs({ input: 'pipe:0', rungs: [low], outputs: ['pipe:3'], settings, audio: 'encode' });
  assert.deepEqual(outputArgs(enc, 'pipe:3').slice(2, 8), ['-map', '0:a?', '-c:a', 'aac', '-b:a', '64k']);
  const none = transcodeArgs({ input: 'pipe:0', rungs: [low], outputs: ['pipe:3'], settings, audio: 'none' });
  assert.ok(!none.includes('0:a?'));
  assert.ok(!none.includes('-c:a'));
});

test('one rung needs no split; no tune and unknown fps leave those out; a URL input gets -nostdin', () => {
  const args = transcodeArgs({
    input: 'http://127.0.0.1:8080/live/a.flv',
    rungs: [tiny],
    outputs: ['rtmp://127.0.0.1/live/a_tiny'],
    settings: { preset: 'ultrafast', tune: undefined },
    audio: 'copy',
  });
  assert.equal(args[args.indexOf('-filter_complex') + 1], '[0:v]null[s0];[s0]scale=-2:120,setsar=1[o0]');
  assert.ok(!args.includes('-tune'));
  assert.ok(args.includes('-nostdin'));
  assert.equal(args.at(-1), 'rtmp://127.0.0.1/live/a_tiny');
});

test('a 29.97 source under a 30 fps cap is left alone', () => {
  const args = transcodeArgs({ input: 'pipe:0', rungs: [low], outputs: ['pipe:3'], settings, sourceFps: 29.97, audio: 'copy' });
  assert.ok(!args[args.indexOf('-filter_complex') + 1]?.includes('select'));
});

test('mismatched outputs and empty ladders are refused', () => {
  assert.throws(() => transcodeArgs({ input: 'pipe:0', rungs: [low, tiny], outputs: ['pipe:3'], settings, audio: 'copy' }), /one output per rung/);
  assert.throws(() => transcodeArgs({ input: 'pipe:0', rungs: [], outputs: [], settings, audio: 'copy' }), /no rungs/);
});
