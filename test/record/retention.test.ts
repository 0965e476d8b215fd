// Retention: by age (since a file ended), then oldest first while the total is over the size limit,
// never the file being written; swept on a timer and after each file ends. Files and their sidecars are
// laid out on disk as the recorder leaves them and listed by the catalogue's start-up scan.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { RecordingCatalogue, recordingPlace } from '../../src/record/catalogue.js';
import type { Recording } from '../../src/record/catalogue.js';
import { Retention } from '../../src/record/retention.js';
import { createLogger } from '../../src/shared/log.js';
import { waitFor } from '../helpers/wait.js';

const DAY = 86_400_000;
const log = createLogger('test');

/** A finished recording on disk (file of `bytes`, sidecar 'done', thumbnails), ended `endedAgoMs` ago. */
async function lay(root: string, stream: string, startedAt: number, endedAgoMs: number, bytes: number): Promise<string> {
  const { relFile, name } = recordingPlace('live', stream, startedAt, 0);
  const file = join(root, relFile);
  await mkdir(join(file, '..'), { recursive: true });
  await writeFile(file, Buffer.alloc(bytes));
  const side = { state: 'done', startedAt, endedAt: Date.now() - endedAgoMs, durationMs: 1000, bytes, session: name, part: 0 };
  await writeFile(file + '.json', JSON.stringify(side));
  await writeFile(file + '.thumbs.jpg', 'x');
  await writeFile(file + '.thumbs.vtt', 'WEBVTT\n');
  return name;
}

async function setup(t: { after(fn: () => Promise<void>): void }): Promise<{ root: string; catalogue: RecordingCatalogue }> {
  const root = await mkdtemp(join(tmpdir(), 'rs-ret-'));
  t.after(() => rm(root, { recursive: true, force: true }));
  return { root, catalogue: new RecordingCatalogue(root, log) };
}

test('max age: files that ended longer ago go, with their sidecars and thumbnails; newer ones stay', async (t) => {
  const { root, catalogue } = await setup(t);
  const now = Date.now();
  const old1 = await lay(root, 'a', now - 10 * DAY, 10 * DAY, 1000);
  const old2 = await lay(root, 'b', now - 8 * DAY, 8 * DAY - 60_000, 1000);
  const fresh = await lay(root, 'a', now - DAY, DAY, 1000);
  await catalogue.scan();
  assert.equal(catalogue.list().length, 3);
  const file1 = catalogue.get('live', 'a', old1)?.file as string;
  await new Retention(catalogue, { maxAgeMs: 7 * DAY, maxBytes: 0, intervalMs: 60_000 }, log).sweep();
  assert.deepEqual(catalogue.list().map((r) => r.name), [fresh]);
  assert.equal(catalogue.get('live', 'b', old2), undefined);
  for (const f of [file1, file1 + '.json', file1 + '.thumbs.jpg', file1 + '.thumbs.vtt']) assert.equal(existsSync(f), false, f);
  assert.equal(existsSync(join(file1, '..')), false, 'the empty day directory goes too');
  assert.ok(existsSync(catalogue.get('live', 'a', fresh)?.file as string));
});

test('max size: oldest first until the total fits, never the file being written', async (t) => {
  const { root, catalogue } = await setup(t);
  const now = Date.now();
  const names = [];
  for (let i = 0; i < 4; i++) names.push(await lay(root, 's', now - (10 - i) * 60_000, (9 - i) * 60_000, 100_000));
  await catalogue.scan();
  // Older than all of them and still being written: it counts, but stays.
  const active = catalogue.reserve('live', 's', now - 3600_000, undefined, 0);
  active.bytes = 100_000;
  await new Retention(catalogue, { maxAgeMs: 0, maxBytes: 250_000, intervalMs: 60_000 }, log).sweep();
  // 500 kB with the active file: the three oldest finished ones go (300 kB), leaving 200 kB.
  assert.deepEqual(catalogue.list().map((r) => r.name), [active.name, names[3]]);
  assert.equal((await readdir(join(root, 'live', 's'), { recursive: true })).filter((f) => f.endsWith('.flv')).length, 1);
});

/** A finished file of 100 kB (`first`) and a new one of 100 kB being written (`r`), retention at 150 kB started. */
async function overOnceEnded(t: { after(fn: () => Promise<void>): void }): Promise<{ catalogue: RecordingCatalogue; retention: Retention; first: string; r: Recording }> {
  const { root, catalogue } = await setup(t);
  const now = Date.now();
  const first = await lay(root, 's', now - 120_000, 60_000, 100_000);
  await catalogue.scan();
  const retention = new Retention(catalogue, { maxAgeMs: 0, maxBytes: 150_000, intervalMs: 60_000 }, log);
  retention.start();
  t.after(() => retention.stop());
  const r = catalogue.reserve('live', 's', now, undefined, 0);
  await catalogue.prepare(r);
  await writeFile(r.file, Buffer.alloc(100_000));
  r.bytes = 100_000;
  return { catalogue, retention, first, r };
}

test('swept after each file ends and on its timer', async (t) => {
  const { catalogue, first, r } = await overOnceEnded(t);
  assert.ok(catalogue.get('live', 's', first), 'nothing goes while the new one is written');
  await catalogue.finish(r, 'done');
  await waitFor('the oldest to go once the new file ended', () => catalogue.get('live', 's', first) === undefined, 5000);
  assert.deepEqual(catalogue.list().map((x) => x.name), [r.name]);

  // The timer: a file that comes over the limit by age is swept without any file ending.
  const timed = new Retention(catalogue, { maxAgeMs: 200, maxBytes: 0, intervalMs: 100 }, log);
  timed.start();
  t.after(() => timed.stop());
  await waitFor('the timer sweep', () => catalogue.list().length === 0, 5000);
});

test('after stop() a file that ends (the recorder closing its files at shutdown) deletes nothing', async (t) => {
  const { catalogue, retention, first, r } = await overOnceEnded(t);
  await retention.stop();
  await catalogue.finish(r, 'done');
  await retention.sweep();
  await new Promise((resolve) => setTimeout(resolve, 100));
  assert.ok(catalogue.get('live', 's', first), 'no sweep ran after stop()');
});

test('reserve: a same-second suffix per recording, then the next second\'s names: an id is never given twice', async (t) => {
  const { catalogue } = await setup(t);
  const at = Date.UTC(2026, 10, 30, 9, 0, 0);
  const names = Array.from({ length: 1002 }, (_, i) => catalogue.reserve('live', 's', at, undefined, i).name);
  assert.equal(new Set(names).size, names.length);
  assert.deepEqual([names[0], names[1], names[999], names[1000], names[1001]], ['20261130-090000', '20261130-090000-1', '20261130-090000-999', '20261130-090001', '20261130-090001-1']);
});

test('the scan is bounded and skips what is not a recording', async (t) => {
  const { root } = await setup(t);
  const now = Date.now();
  for (let i = 0; i < 5; i++) await lay(root, 'n', now - i * 1000, 0, 10);
  await mkdir(join(root, 'bad name', 'x', '2026-01-01'), { recursive: true });
  await writeFile(join(root, 'bad name', 'x', '2026-01-01', '000000.flv'), 'x');
  await mkdir(join(root, 'live', 'n', 'not-a-day'), { recursive: true });
  await writeFile(join(root, 'live', 'n', 'not-a-day', '000000.flv'), 'x');
  await writeFile(join(root, 'live', 'n', 'stray.txt'), 'x');
  const all = new RecordingCatalogue(root, log);
  await all.scan();
  assert.equal(all.list().length, 5);
  const capped = new RecordingCatalogue(root, log, { maxFiles: 3, maxEntriesPerDir: 100 });
  await capped.scan();
  assert.equal(capped.list().length, 3);
});
