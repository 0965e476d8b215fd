// One defaults object per service (issue 9, item 5): the CLI's flag defaults are the service's own
// defaults, converted once to the flag's unit, so a flag left unset runs exactly what `new Origin({})`
// or `new Edge({upstreams})` would.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Command } from 'commander';
import { addEdgeOptions, edgeConfig, readEdgeOptions } from '../../src/cli/commands/edge.js';
import { EDGE_DEFAULTS } from '../../src/edge/defaults.js';
import { ORIGIN_DEFAULTS } from '../../src/origin/defaults.js';
import { originCliConfig } from '../helpers/origin.js';

test('livecdn origin without flags runs ORIGIN_DEFAULTS', () => {
  const c = originCliConfig([]);
  const d = ORIGIN_DEFAULTS;
  assert.deepEqual(
    {
      host: c.host,
      rtmpPort: c.rtmpPort,
      httpPort: c.httpPort,
      hlsSegmentMs: c.hlsSegmentMs,
      hlsWindow: c.hlsWindow,
      hlsGraceMs: c.hlsGraceMs,
      hlsRemoveAfterMs: c.hlsRemoveAfterMs,
      hlsFormat: c.hlsFormat,
      hlsPartMs: c.hlsPartMs,
      maxConnections: c.maxConnections,
      maxConnectionsPerIp: c.maxConnectionsPerIp,
      startTimeoutMs: c.startTimeoutMs,
      maxMessageSize: c.maxMessageSize,
      writeBatchMs: c.writeBatchMs,
      maxViewerQueueBytes: c.slowViewer?.maxQueueBytes,
      maxViewerLagMs: c.slowViewer?.maxLagMs,
      publishTakeover: c.publishTakeover,
      playWaitMs: c.playWaitMs,
      clusterMiss: c.clusterMiss,
      clusterMaxProxies: c.clusterMaxProxies,
    },
    {
      host: d.host,
      rtmpPort: d.rtmpPort,
      httpPort: d.httpPort,
      hlsSegmentMs: d.hlsSegmentMs,
      hlsWindow: d.hlsWindow,
      hlsGraceMs: d.hlsGraceMs,
      hlsRemoveAfterMs: d.hlsRemoveAfterMs,
      hlsFormat: d.hlsFormat,
      hlsPartMs: d.hlsPartMs,
      maxConnections: d.maxConnections,
      maxConnectionsPerIp: d.maxConnectionsPerIp,
      startTimeoutMs: d.startTimeoutMs,
      maxMessageSize: d.maxMessageSize,
      writeBatchMs: d.writeBatchMs,
      maxViewerQueueBytes: d.maxViewerQueueBytes,
      maxViewerLagMs: d.maxViewerLagMs,
      publishTakeover: d.publishTakeover,
      playWaitMs: d.playWaitMs,
      clusterMiss: d.clusterMiss,
      clusterMaxProxies: d.clusterMaxProxies,
    },
  );
  const registered = originCliConfig(['--signal', 'http://signal.test:8090']).signal;
  assert.equal(registered?.region, d.region);
  assert.equal(registered?.capacity, d.capacity);
  assert.equal(registered?.heartbeatMs, d.heartbeatMs);
  assert.deepEqual(c.record, {
    dir: d.recordDir,
    patterns: [],
    splitMs: d.recordSplitMs,
    splitBytes: d.recordSplitBytes,
    maxAgeMs: d.recordMaxAgeMs,
    maxBytes: d.recordMaxBytes,
    onRecordDone: undefined,
  });
});

test('livecdn origin --record flags: patterns repeatable and comma-separated, durations and sizes', () => {
  const c = originCliConfig(['--record', 'live/*,app2/cam1', '--record', '*/*', '--record-split', '500MB', '--record-max-age', '7d', '--record-max-size', '50GB']);
  assert.deepEqual(c.record?.patterns, ['live/*', 'app2/cam1', '*/*']);
  assert.equal(c.record?.splitMs, 0);
  assert.equal(c.record?.splitBytes, 500e6);
  assert.equal(c.record?.maxAgeMs, 7 * 86_400_000);
  assert.equal(c.record?.maxBytes, 50e9);
  assert.equal(originCliConfig(['--record-split', '30m']).record?.splitMs, 30 * 60_000);
  for (const bad of [['--record', 'live'], ['--record', 'a/b/c'], ['--record-split', '5 parsecs'], ['--record-max-age', '5GB'], ['--record-max-size', '7d']]) {
    assert.throws(() => originCliConfig(bad), /invalid options/, bad.join(' '));
  }
});

test('livecdn edge without flags runs EDGE_DEFAULTS, its own write window stated', () => {
  const cmd = addEdgeOptions(new Command('edge')).exitOverride();
  cmd.parse(['--upstream', 'http://origin.test:8080'], { from: 'user' });
  const c = edgeConfig(readEdgeOptions(cmd, cmd.opts()));
  const d = EDGE_DEFAULTS;
  assert.equal(c.httpPort, d.httpPort);
  assert.equal(c.host, d.host);
  assert.equal(c.region, d.region);
  assert.equal(c.cacheBytes, d.cacheBytes);
  assert.equal(c.prefetch, d.prefetch);
  assert.equal(c.maxHops, d.maxHops);
  assert.equal(c.flvLingerMs, d.flvLingerMs);
  assert.equal(c.flvGraceMs, d.flvGraceMs);
  assert.equal(c.writeBatchMs, d.writeBatchMs);
  assert.deepEqual(c.upstream, d.upstream);
  assert.equal(c.capacity, d.capacity);
  assert.equal(c.heartbeatMs, d.heartbeatMs);
});
