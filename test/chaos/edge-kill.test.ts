// Chaos: `kill -9` of the edge the signal places a stream's viewers on. The dead edge never deregisters;
// the signal drops it once its TTL passes without a heartbeat, and from then on places new viewers on
// the other edge, where they play.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { startCli, waitListening, type CliProcess } from '../helpers/cli-process.js';
import { FlvViewer } from '../helpers/http.js';
import { publishTestStream } from '../helpers/publish.js';
import { TagType } from '../../src/media/packet.js';
import { SECRET, timed } from './cluster.js';
import { waitFor } from '../helpers/wait.js';
import { freePort } from '../helpers/net.js';

const TTL_S = 2;

interface PlayAnswer {
  via: string;
  node?: { id: string };
  flv: string;
  fallbacks: Array<{ node?: { id: string }; id?: string }>;
}

const isKeyframe = (p: { type: number; payload: Buffer }): boolean => p.type === TagType.Video && ((p.payload[0] ?? 0) >> 4) === 1;

test('kill -9 of an edge: the signal drops it after its TTL and places new viewers on the other edge', async () => {
  const [rtmpPort, originPort, signalPort] = [await freePort(), await freePort(), await freePort()];
  const signalBase = `http://127.0.0.1:${signalPort}`;
  const originBase = `http://127.0.0.1:${originPort}`;
  const procs: CliProcess[] = [];
  const viewers: FlvViewer[] = [];
  let publisher: ReturnType<typeof publishTestStream> | undefined;
  try {
    const signal = startCli(
      'signal',
      ['--api-port', String(signalPort), '--host', '127.0.0.1', '--node-ttl', String(TTL_S), '--origin-rtmp', `rtmp://127.0.0.1:${rtmpPort}`, '--origin-http', originBase],
      { LIVECDN_SECRET: SECRET },
    );
    procs.push(signal);
    // The origin is not registered here (loopback, no secret): the edges pull from it directly.
    const origin = startCli('origin', ['--host', '127.0.0.1', '--rtmp-port', String(rtmpPort), '--http-port', String(originPort)]);
    procs.push(origin);
    await waitListening(signal, `${signalBase}/api/health`);
    await waitListening(origin, `${originBase}/healthz`);
    const edges = new Map<string, { proc: CliProcess; base: string }>();
    for (let i = 0; i < 2; i++) {
      const port = await freePort();
      const base = `http://127.0.0.1:${port}`;
      const id = `edge-chaos-${i}`;
      const proc = startCli(
        'edge',
        ['--host', '127.0.0.1', '--http-port', String(port), '--upstream', originBase, '--signal', signalBase, '--public-url', base, '--node-id', id, '--region', 'eu', '--heartbeat', '0.5'],
        { LIVECDN_SECRET: SECRET },
      );
      procs.push(proc);
      edges.set(id, { proc, base });
      await waitListening(proc, `${base}/healthz`);
    }
    const listed = async (): Promise<string[]> => {
      const r = await timed(`${signalBase}/api/nodes`);
      return r.status === 200 ? (JSON.parse(r.text) as { nodes: Array<{ id: string }> }).nodes.map((n) => n.id) : [];
    };
    await waitFor('both edges registered', async () => ((await listed()).filter((id) => edges.has(id)).length === 2 ? true : undefined), 20_000, 100);
    publisher = publishTestStream(`rtmp://127.0.0.1:${rtmpPort}/live/chaos`, 'baseline+aac-mono', { gopS: 1 });
    await waitFor('the stream on the origin', async () => ((await timed(`${originBase}/live/chaos.m3u8`)).status === 200 ? true : undefined), 20_000, 200);

    const play = async (): Promise<PlayAnswer> => JSON.parse((await timed(`${signalBase}/api/play/live/chaos`)).text) as PlayAnswer;
    const first = await play();
    assert.equal(first.via, 'edge');
    const victimId = first.node?.id ?? '';
    const victim = edges.get(victimId);
    assert.ok(victim, `placed on one of the edges: ${JSON.stringify(first)}`);
    const [survivorId] = [...edges.keys()].filter((id) => id !== victimId);
    const v0 = await FlvViewer.open(first.flv);
    viewers.push(v0);
    await v0.waitFor(isKeyframe, 15_000);

    await victim.proc.kill();
    const killedAt = Date.now();
    // Until the TTL passes the signal cannot know; after it, the victim is gone from every answer.
    const movedAt = await waitFor(
      'placement on the other edge',
      async () => {
        const a = await play();
        return a.node?.id === survivorId ? Date.now() : undefined;
      },
      TTL_S * 1000 + 8000,
      100,
    );
    assert.ok(movedAt - killedAt <= TTL_S * 1000 + 5000, `moved ${movedAt - killedAt} ms after the kill (TTL ${TTL_S} s)`);
    assert.ok(!(await listed()).includes(victimId), 'the dead edge is no longer listed');
    for (let i = 0; i < 5; i++) {
      const a = await play();
      assert.equal(a.node?.id, survivorId);
      assert.ok(!JSON.stringify(a.fallbacks).includes(victimId), 'nor offered as a fallback');
    }

    // A new viewer plays where it was placed.
    const answer = await play();
    assert.ok(answer.flv.startsWith(edges.get(survivorId ?? '')?.base ?? '-'), answer.flv);
    const v1 = await FlvViewer.open(answer.flv);
    viewers.push(v1);
    assert.equal(v1.status, 200);
    await v1.waitFor(isKeyframe, 15_000);
    assert.ok(signal.alive() && origin.alive());
  } finally {
    publisher?.stop();
    for (const v of viewers) v.close();
    await Promise.all(procs.map((p) => p.stop()));
  }
});
