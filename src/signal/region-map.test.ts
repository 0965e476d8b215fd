import { test } from 'node:test';
import assert from 'node:assert/strict';
import { RegionGraph, RegionMap } from './region-map.js';

test('CIDR map: longest prefix wins, IPv4, IPv4-mapped IPv6 and IPv6', () => {
  const m = RegionMap.parse('10.0.0.0/8=eu, 10.1.0.0/16=de 2001:db8::/32=us,::1/128=lo,0.0.0.0/0=world');
  assert.equal(m.size, 5);
  assert.equal(m.lookup('10.2.3.4'), 'eu');
  assert.equal(m.lookup('10.1.9.9'), 'de');
  assert.equal(m.lookup('::ffff:10.1.2.3'), 'de');
  assert.equal(m.lookup('2001:db8:1::5'), 'us');
  assert.equal(m.lookup('2001:db9::1'), undefined);
  assert.equal(m.lookup('::1'), 'lo');
  assert.equal(m.lookup('8.8.8.8'), 'world');
  assert.equal(m.lookup('fe80::1%eth0'), undefined);
  assert.equal(m.lookup('not an ip'), undefined);
  assert.equal(m.lookup(undefined), undefined);
  // host bits in the rule are ignored
  assert.equal(RegionMap.parse('192.168.1.77/24=lan').lookup('192.168.1.1'), 'lan');
  assert.equal(RegionMap.parse('::ffff:192.168.1.0/120=v6mapped').lookup('::ffff:c0a8:0105'), 'v6mapped');
});

test('CIDR map refuses bad entries with a clear message', () => {
  assert.throws(() => RegionMap.parse('10.0.0.0=eu'), /bad region map entry "10.0.0.0=eu"/);
  assert.throws(() => RegionMap.parse('10.0.0.0/33=eu'), /prefix longer than 32/);
  assert.throws(() => RegionMap.parse('300.0.0.0/8=eu'), /expected CIDR=REGION/);
  assert.throws(() => RegionMap.parse('10.0.0.0/8=e u'), /expected CIDR=REGION|region must/);
  assert.throws(() => RegionMap.parse('10.0.0.0/8=a/b'), /region must match/);
});

test('region graph: breadth first, listed order, no self, cycles', () => {
  const g = RegionGraph.parse('eu:us,ap;us:sa,eu;ap:us;sa:eu');
  assert.deepEqual(g.fallbacks('eu'), ['us', 'ap', 'sa']);
  assert.deepEqual(g.fallbacks('ap'), ['us', 'sa', 'eu']);
  assert.deepEqual(g.fallbacks('nowhere'), []);
  assert.throws(() => RegionGraph.parse('eu-us'), /bad region graph entry/);
  assert.throws(() => RegionGraph.parse('eu:u s'), /bad region graph entry/);
});

test('region graph: invented regions are not cached, so the cache stays bounded by the graph', () => {
  const g = RegionGraph.parse('eu:us;us:eu');
  for (let i = 0; i < 50_000; i++) assert.deepEqual(g.fallbacks(`invented-${i}`), []);
  assert.deepEqual(g.fallbacks('eu'), ['us']);
  assert.deepEqual(g.fallbacks('us'), ['eu']);
  const cache = (g as unknown as { cache: Map<string, unknown> }).cache;
  assert.ok(cache.size <= 2, `cache holds ${cache.size} regions`);
});
