// Chaos: Redis dies under two signal instances that share their registry through it. While it is gone
// every request that needs the registry gets a prompt, clear 503 (no hang, no 500, no stack text) and
// both processes stay up; once a new redis-server listens on the same port both recover on their own
// and share the registry again.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { startCli, waitListening, type CliProcess } from '../helpers/cli-process.js';
import { startRedis, upgradeStatus, type RedisServer } from '../signal/util.js';
import { ADMIN, SECRET, STACK_TEXT, timed, type Timed } from './cluster.js';
import { waitFor } from '../helpers/wait.js';
import { freePort } from '../helpers/net.js';

const json = { 'content-type': 'application/json' };

test('Redis stopped under two signals: prompt 503s, no crash, recovery when Redis returns', async () => {
  const redisPort = await freePort();
  let redis: RedisServer | undefined = await startRedis(redisPort);
  const signals: Array<{ proc: CliProcess; base: string }> = [];
  try {
    for (let i = 0; i < 2; i++) {
      const port = await freePort();
      const proc = startCli(
        'signal',
        ['--api-port', String(port), '--host', '127.0.0.1', '--redis', redis.url, '--origin-rtmp', 'rtmp://127.0.0.1:1935', '--origin-http', 'http://127.0.0.1:8080'],
        { LIVECDN_SECRET: SECRET },
      );
      const base = `http://127.0.0.1:${port}`;
      signals.push({ proc, base });
      await waitListening(proc, `${base}/api/health`);
    }
    const [a, b] = signals as [(typeof signals)[0], (typeof signals)[0]];
    const create = (base: string, name: string): Promise<Timed> =>
      timed(`${base}/api/streams`, { method: 'POST', headers: { ...json, ...ADMIN }, body: JSON.stringify({ app: 'live', name }) });
    const listed = async (base: string, name: string): Promise<boolean> => {
      const r = await timed(`${base}/api/streams`);
      return r.status === 200 && (JSON.parse(r.text) as { streams: Array<{ stream: string }> }).streams.some((s) => s.stream === name);
    };

    // Healthy: a stream created on one instance is listed by the other.
    assert.equal((await create(a.base, 'before')).status, 201);
    assert.ok(await listed(b.base, 'before'));

    await redis.stop();
    redis = undefined;
    // Every registry-backed route, on both instances, a few rounds while Redis is gone.
    const during: Array<Timed & { what: string }> = [];
    for (let round = 0; round < 2; round++) {
      for (const s of signals) {
        const results = await Promise.all([
          create(s.base, `during${round}`).then((r) => ({ ...r, what: `POST /api/streams on ${s.base}` })),
          timed(`${s.base}/api/streams`).then((r) => ({ ...r, what: `GET /api/streams on ${s.base}` })),
          timed(`${s.base}/api/streams/live.before`).then((r) => ({ ...r, what: `GET /api/streams/live.before on ${s.base}` })),
          timed(`${s.base}/api/play/live/before`).then((r) => ({ ...r, what: `GET /api/play on ${s.base}` })),
          timed(`${s.base}/api/nodes`).then((r) => ({ ...r, what: `GET /api/nodes on ${s.base}` })),
        ]);
        during.push(...results);
      }
    }
    for (const r of during) {
      // Placement may still answer from the cluster view it holds; everything else needs the store.
      if (r.what.startsWith('GET /api/play')) assert.ok(r.status === 200 || r.status === 503, `${r.what}: ${r.status} ${r.text}`);
      else assert.equal(r.status, 503, `${r.what}: ${r.status} ${r.text}`);
      assert.ok(r.ms < 8000, `${r.what} answered within 8 s (took ${r.ms} ms)`);
      assert.doesNotMatch(r.text, STACK_TEXT, `${r.what}: no stack text`);
      if (r.status !== 503) continue;
      const body = JSON.parse(r.text) as { error?: unknown; message?: unknown };
      assert.equal(typeof body.error, 'string', r.text);
      assert.equal(typeof body.message, 'string', r.text);
    }
    // A chat join needs the store too (the room must exist): refused at once, not left hanging.
    await Promise.all(
      signals.map(async (s) => {
        const t0 = Date.now();
        assert.equal(await upgradeStatus(`${s.base.replace('http', 'ws')}/api/streams/live.before/chat`), 503);
        assert.ok(Date.now() - t0 < 8000, `chat refused within 8 s (took ${Date.now() - t0} ms)`);
      }),
    );
    // The process itself is fine: its health route answers at once.
    const health = await timed(`${a.base}/api/health`);
    assert.ok(health.status === 200 && health.ms < 2000, `health: ${health.status} in ${health.ms} ms`);
    for (const s of signals) assert.ok(s.proc.alive(), `signal survived: ${s.proc.stderr().slice(-2000)}`);

    // A new, empty redis-server on the same port: both instances reconnect and share it again.
    redis = await startRedis(redisPort);
    await waitFor('POST /api/streams on the first instance again', async () => ((await create(a.base, 'after')).status === 201 ? true : undefined), 30_000, 250);
    await waitFor('the second instance sees it', async () => ((await listed(b.base, 'after')) ? true : undefined), 10_000, 250);
    assert.equal((await create(b.base, 'after2')).status, 201);
    assert.ok(await listed(a.base, 'after2'));
    for (const s of signals) {
      assert.ok(s.proc.alive());
      assert.doesNotMatch(s.proc.stdout(), /"level":(50|60)/, 'no error-level log line: a store outage is a warning');
      assert.match(s.proc.stdout(), /registry store unavailable/, 'but a warning');
    }
  } finally {
    await Promise.all(signals.map((s) => s.proc.stop()));
    await redis?.stop();
  }
});
