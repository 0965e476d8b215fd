import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { NodeRecord, StreamStat, TranscodeJob } from '../shared/cluster.js';
import { assignTranscodes, transcodeAssignments } from './transcode-assignment.js';

const JOB: TranscodeJob = { rungs: [{ name: '240p', height: 240, videoKbps: 400, maxFps: 30, audioKbps: 64 }], preset: 'veryfast', tune: 'zerolatency', audio: 'copy', sourceFps: 30 };

const origin = (id: string, stats: StreamStat[], rtmp = true): NodeRecord => ({
  id,
  kind: 'origin',
  region: 'eu',
  publicUrl: `http://${id}:8080`,
  ...(rtmp ? { rtmpUrl: `rtmp://${id}:1935` } : {}),
  capacity: 100,
  load: { viewers: 0, publishers: stats.length, egressBps: 0, cpu: 0, streams: stats.map((s) => s.stream), streamStats: stats },
  lastSeen: 1,
});
const remote = (key: string, job: TranscodeJob | null = JOB, publishing = true): StreamStat => ({ stream: key, viewers: 0, publishing, ...(job ? { transcodeJob: job } : {}) });
const transcoder = (id: string, capacity = 100, streams: string[] = []): NodeRecord => ({
  id,
  kind: 'transcoder',
  region: 'eu',
  publicUrl: `http://${id}:8095`,
  capacity,
  load: { viewers: 0, publishers: 0, egressBps: 0, cpu: 0, streams },
  lastSeen: 1,
});

/** source key -> transcoder id */
const owners = (a: Map<string, { app: string; stream: string }[]>): Map<string, string> => {
  const m = new Map<string, string>();
  for (const [t, list] of a) for (const s of list) {
    const key = `${s.app}/${s.stream}`;
    assert.equal(m.has(key), false, `${key} assigned twice`);
    m.set(key, t);
  }
  return m;
};

test('each publishing source with a transcode job goes to exactly one transcoder, with its origin URLs and job', () => {
  const keys = Array.from({ length: 40 }, (_, i) => `live/s${i}`);
  const o = origin('o1', [...keys.map((k) => remote(k)), remote('live/local', null), remote('live/ended', JOB, false)]);
  const ts = ['t1', 't2', 't3'].map((id) => transcoder(id));
  const a = assignTranscodes([o, ...ts]);
  const own = owners(a);
  assert.deepEqual([...own.keys()].sort(), [...keys].sort());
  // spread: rendezvous hashing gives each of 3 transcoders a share of 40
  for (const t of ts) assert.ok((a.get(t.id)?.length ?? 0) >= 5, `${t.id} got ${a.get(t.id)?.length ?? 0}`);
  const one = a.get('t1')?.[0];
  assert.ok(one);
  assert.equal(one.origin, 'o1');
  assert.equal(one.httpUrl, 'http://o1:8080');
  assert.equal(one.rtmpUrl, 'rtmp://o1:1935');
  assert.deepEqual(one.rungs, JOB.rungs);
  assert.equal(one.preset, 'veryfast');
  assert.equal(one.tune, 'zerolatency');
});

test('a transcoder leaving moves only its own sources; one joining moves none it does not win while the others run them', () => {
  const keys = Array.from({ length: 60 }, (_, i) => `live/s${i}`);
  const o = origin('o1', keys.map((k) => remote(k)));
  const before = owners(assignTranscodes([o, transcoder('t1'), transcoder('t2'), transcoder('t3')]));
  const after = owners(assignTranscodes([o, transcoder('t1'), transcoder('t3')]));
  for (const k of keys) {
    if (before.get(k) !== 't2') assert.equal(after.get(k), before.get(k), `${k} moved though its transcoder stayed`);
    else assert.notEqual(after.get(k), 't2');
  }
  // Sticky: t1 and t3 report what they run; t4 joins and takes nothing from them.
  const runs = (id: string) => keys.filter((k) => after.get(k) === id);
  const joined = owners(assignTranscodes([o, transcoder('t1', 100, runs('t1')), transcoder('t3', 100, runs('t3')), transcoder('t4')]));
  for (const k of keys) assert.equal(joined.get(k), after.get(k));
});

test('without claims the answer is the same whatever the node order (every signal instance agrees)', () => {
  const o = origin('o1', Array.from({ length: 20 }, (_, i) => remote(`live/s${i}`)));
  const ts = ['a', 'b', 'c', 'd'].map((id) => transcoder(id));
  assert.deepEqual(owners(assignTranscodes([o, ...ts])), owners(assignTranscodes([...ts].reverse().concat(o))));
});

test('capacity bounds a transcoder; what fits nowhere is unassigned; an origin without RTMP URL gets none', () => {
  const o = origin('o1', Array.from({ length: 5 }, (_, i) => remote(`live/s${i}`)));
  const a = assignTranscodes([o, transcoder('t1', 2), transcoder('t2', 1), transcoder('t0', 0)]);
  assert.equal(a.get('t1')?.length, 2);
  assert.equal(a.get('t2')?.length, 1);
  assert.equal(a.has('t0'), false);
  assert.equal(assignTranscodes([origin('o2', [remote('live/x')], false), transcoder('t1')]).size, 0);
});

test('two claimants of one source (a hand-over in flight): one keeps it', () => {
  const o = origin('o1', [remote('live/x')]);
  const own = owners(assignTranscodes([o, transcoder('t1', 5, ['live/x']), transcoder('t2', 5, ['live/x'])]));
  assert.equal(own.size, 1);
});

test('a source two origins list goes to the first; invalid keys are skipped; the answer is cached per node list', () => {
  const nodes = [origin('o1', [remote('live/x'), remote('bad key/x')]), origin('o2', [remote('live/x')]), transcoder('t1')];
  const a = transcodeAssignments(nodes);
  assert.deepEqual(a.get('t1')?.map((s) => [s.origin, s.stream]), [['o1', 'x']]);
  assert.equal(transcodeAssignments(nodes), a);
});
