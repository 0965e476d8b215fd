// The transcoding flags of `livecdn origin` (and `all`, which shares them): ladders from --transcode and
// --transcode-file (JSON or YAML), the libx264 settings with their ORIGIN_DEFAULTS, on demand, remote,
// and one clear line per mistake.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ORIGIN_DEFAULTS } from '../../src/origin/defaults.js';
import { DEFAULT_RUNGS } from '../../src/transcode/ladder.js';
import { originCliConfig } from '../helpers/origin.js';

test('no ladder: no transcoding', () => {
  assert.equal(originCliConfig([]).transcode, undefined);
});

test('--transcode (repeatable) with the default settings', () => {
  const c = originCliConfig(['--transcode', 'live=360p,720p', '--transcode', 'games=240p']).transcode;
  assert.deepEqual(c?.ladders.get('live'), [DEFAULT_RUNGS['720p'], DEFAULT_RUNGS['360p']]);
  assert.deepEqual(c?.ladders.get('games'), [DEFAULT_RUNGS['240p']]);
  assert.deepEqual(c?.settings, { preset: ORIGIN_DEFAULTS.transcodePreset, tune: ORIGIN_DEFAULTS.transcodeTune });
  assert.deepEqual({ onDemand: c?.onDemand, remote: c?.remote, idleMs: c?.idleMs }, { onDemand: false, remote: false, idleMs: ORIGIN_DEFAULTS.transcodeIdleMs });
});

test('settings, on demand, idle, remote; a ladder file in YAML or JSON next to --transcode', (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'livecdn-ladder-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  writeFileSync(join(dir, 'l.yaml'), 'mobile:\n  - { name: low, height: 180, videoKbps: 250 }\n');
  writeFileSync(join(dir, 'l.json'), '{"mobile":[{"name":"low","height":180,"videoKbps":250}]}');
  for (const file of ['l.yaml', 'l.json']) {
    const c = originCliConfig([
      '--transcode', 'live=240p',
      '--transcode-file', join(dir, file),
      '--transcode-preset', 'ultrafast',
      '--transcode-tune', 'none',
      '--transcode-on-demand',
      '--transcode-idle', '5',
    ]).transcode;
    assert.deepEqual([...(c?.ladders.keys() ?? [])], ['live', 'mobile']);
    assert.deepEqual(c?.ladders.get('mobile'), [{ name: 'low', height: 180, videoKbps: 250, maxFps: 30, audioKbps: 128 }]);
    assert.deepEqual(c?.settings, { preset: 'ultrafast', tune: undefined });
    assert.equal(c?.onDemand, true);
    assert.equal(c?.idleMs, 5000);
  }
  assert.equal(originCliConfig(['--transcode', 'live=240p', '--transcode-remote']).transcode?.remote, true);
});

test('mistakes are one line each', (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'livecdn-ladder-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  writeFileSync(join(dir, 'bad.yaml'), 'live:\n  - { name: Low, height: 180, videoKbps: 250 }\n');
  writeFileSync(join(dir, 'l.txt'), '{}');
  writeFileSync(join(dir, 'live.json'), '{"live":[{"name":"low","height":180,"videoKbps":250}]}');
  const cases: Array<[string[], RegExp]> = [
    [['--transcode', 'live=999p'], /--transcode: unknown rung "999p"/],
    [['--transcode', 'live'], /--transcode "live": expected APP=RUNG/],
    [['--transcode-file', join(dir, 'bad.yaml')], /--transcode-file: .*bad\.yaml: transcode ladder file: live\.0\.name: a rung name/],
    [['--transcode-file', join(dir, 'l.txt')], /--transcode-file: must end in \.json, \.yaml or \.yml/],
    [['--transcode-file', join(dir, 'missing.json')], /--transcode-file: .*missing\.json: ENOENT/],
    [['--transcode', 'live=240p', '--transcode-file', join(dir, 'live.json')], /app live also has a --transcode ladder/],
    [['--transcode', 'live=240p', '--transcode-preset', 'quick'], /--transcode-preset: Invalid enum value/],
    [['--transcode', 'live=240p', '--transcode-tune', 'fast'], /--transcode-tune: Invalid enum value/],
    [['--transcode-on-demand'], /--transcode-on-demand: needs a ladder/],
    [['--transcode-remote'], /--transcode-remote: needs a ladder/],
    [['--transcode', 'live=240p', '--transcode-remote', '--transcode-on-demand'], /--transcode-on-demand: not with --transcode-remote/],
  ];
  for (const [argv, message] of cases) assert.throws(() => originCliConfig(argv), message, argv.join(' '));
});
