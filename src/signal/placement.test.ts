import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import type { NodeRecord } from '../shared/cluster.js';
import { HashRing } from './hash-ring.js';
import { ClusterView, Placement, RingCache, defaultPlacementOptions } from './placement.js';
import { RegionGraph } from './region-map.js';

let clock = 1_000;
const node = (id: string, region: string, viewers = 0, capacity = 1000, kind: 'edge' | 'origin' = 'edge', streams: string[] = []): NodeRecord => ({
  id,
  kind,
  region,
  publicUrl: `http://${id}:8080`,
  ...(kind === 'origin' ? { rtmpUrl: `rtmp://${id}:1935` } : {}),
  capacity,
  load: { viewers, publishers: 0, egressBps: 0, cpu: 0, streams },
  lastSeen: clock,
});

const view = (nodes: NodeRecord[]): ClusterView => new ClusterView(nodes, new RingCache(100));
const edges = (n: number, region = 'eu', viewers = 0, capacity = 1000) => Array.from({ length: n }, (_, i) => node(`${region}-e${i}`, region, viewers, capacity));

test('the same stream lands on the same edge while under the bound, and streams spread over edges', () => {
  const p = new Placement(defaultPlacementOptions, undefined);
  const v = view(edges(10));
  const first = p.play(v, 'live/a', 'eu').edges[0]?.id;
  assert.ok(first);
  // 50 more viewers: 5 % of capacity, under the floor, so no spill
  for (let i = 0; i < 50; i++) assert.equal(p.play(v, 'live/a', 'eu').edges[0]?.id, first);
  const owners = new Set<string>();
  for (let i = 0; i < 200; i++) owners.add(p.play(v, `live/s${i}`, 'eu').edges[0]?.id ?? '');
  assert.ok(owners.size >= 9, `200 streams used ${owners.size} of 10 edges`);
});

test('a hot stream spreads to the next edges on the ring, and no edge exceeds the bound', () => {
  const p = new Placement({ ...defaultPlacementOptions, loadFactor: 1.25, loadFloor: 0.1 }, undefined);
  const v = view(edges(10, 'eu', 0, 100));
  const count = new Map<string, number>();
  for (let i = 0; i < 600; i++) {
    const id = p.play(v, 'live/hot', 'eu').edges[0]?.id ?? 'none';
    count.set(id, (count.get(id) ?? 0) + 1);
  }
  assert.ok(!count.has('none'));
  // 600 viewers on 1000 of capacity: mean 0.6, bound 0.75 -> at most 75 per edge
  for (const [id, n] of count) assert.ok(n <= 75, `${id} got ${n}`);
  assert.ok(count.size >= 8, `spread over ${count.size} edges`);
  // a fresh burst of the same stream keeps the ring order: the first edge is the same one
  const p2 = new Placement(defaultPlacementOptions, undefined);
  const firstEdge = p2.play(v, 'live/hot', 'eu').edges[0]?.id;
  assert.ok(count.get(firstEdge ?? '') === Math.max(...count.values()));
});

test('heartbeat loads: an edge above c x mean passes the stream on; full edges are skipped', () => {
  const p = new Placement(defaultPlacementOptions, undefined);
  const idle = view(edges(4));
  const home = p.play(idle, 'live/x', 'eu').edges[0]?.id;
  const busy = edges(4).map((e) => (e.id === home ? node(e.id, 'eu', 600) : node(e.id, 'eu', 100)));
  const next = new Placement(defaultPlacementOptions, undefined).play(view(busy), 'live/x', 'eu').edges[0]?.id;
  assert.ok(next && next !== home, 'the loaded edge passes the stream on');
  // within the bound (everyone equally loaded): the home edge keeps it
  const even = edges(4).map((e) => node(e.id, 'eu', 500));
  assert.equal(new Placement(defaultPlacementOptions, undefined).play(view(even), 'live/x', 'eu').edges[0]?.id, home);
  // every edge full: nothing in the region
  const full = edges(4).map((e) => node(e.id, 'eu', 1000));
  assert.deepEqual(new Placement(defaultPlacementOptions, undefined).play(view(full), 'live/x', 'eu').edges, []);
});

test('region fallback follows the graph breadth first, then the origin', () => {
  const graph = RegionGraph.parse('eu:us,ap;us:sa;ap:us');
  const p = new Placement(defaultPlacementOptions, graph);
  const o = node('origin-1', 'eu', 0, 10, 'origin', ['live/x']);
  const o2 = node('origin-2', 'eu', 0, 10, 'origin');
  let c = p.play(view([...edges(2, 'sa'), ...edges(2, 'ap'), o]), 'live/x', 'eu');
  assert.equal(c.servedRegion, 'ap');
  assert.equal(c.edges[0]?.region, 'ap');
  c = p.play(view([...edges(2, 'sa'), o]), 'live/x', 'eu');
  assert.equal(c.servedRegion, 'sa');
  c = p.play(view([...edges(2, 'mars'), o2, o]), 'live/x', 'eu');
  assert.deepEqual(c.edges, []);
  assert.equal(c.origin?.id, 'origin-1', 'the origin holding the stream');
  // unknown region: every edge counts
  c = p.play(view([...edges(2, 'mars')]), 'live/x', undefined);
  assert.equal(c.edges[0]?.region, 'mars');
  // own region first even when others are emptier
  c = p.play(view([...edges(2, 'eu', 500), ...edges(2, 'us')]), 'live/x', 'eu');
  assert.equal(c.servedRegion, 'eu');
});

test('fallback list: the next edges in ring order, never the chosen one twice', () => {
  const p = new Placement(defaultPlacementOptions, undefined);
  const c = p.play(view(edges(5)), 'live/y', 'eu', 2);
  assert.equal(c.edges.length, 3);
  assert.equal(new Set(c.edges.map((e) => e.id)).size, 3);
});

test('ring: removing a member moves only the keys it owned (consistency)', () => {
  fc.assert(
    fc.property(fc.integer({ min: 3, max: 20 }), fc.nat(), (n, drop) => {
      const ids = Array.from({ length: n }, (_, i) => `edge-${i}`);
      const gone = ids[drop % n] as string;
      const full = new HashRing(ids, 50);
      const less = new HashRing(ids.filter((x) => x !== gone), 50);
      for (let k = 0; k < 200; k++) {
        const key = `live/k${k}`;
        const before = ids[full.walk(key).next().value as number];
        const after = less.members[less.walk(key).next().value as number];
        if (before !== gone) assert.equal(after, before, key);
      }
    }),
    { numRuns: 30 },
  );
});

test('ring walk visits every member exactly once', () => {
  const ring = new HashRing(['a', 'b', 'c', 'd'], 10);
  const order = [...ring.walk('key')];
  assert.deepEqual([...order].sort(), [0, 1, 2, 3]);
  assert.deepEqual([...new HashRing([], 10).walk('k')], []);
});

test('pending counts reset when a heartbeat reports the real load', () => {
  const p = new Placement({ ...defaultPlacementOptions, loadFloor: 0 }, undefined);
  const nodes = edges(2, 'eu', 0, 10);
  const v = view(nodes);
  const first = p.play(v, 'live/z', 'eu').edges[0]?.id;
  const second = p.play(v, 'live/z', 'eu').edges[0]?.id;
  assert.notEqual(first, second, 'the pending viewer counts before any heartbeat');
  clock += 1000;
  const v2 = view(edges(2, 'eu', 0, 10)); // new lastSeen: pending forgotten
  assert.equal(p.play(v2, 'live/z', 'eu').edges[0]?.id, first);
});

test('a view reuses the origins index of the one before while no origin heartbeat changed', () => {
  const rings = new RingCache(100);
  const o1 = node('o1', 'eu', 0, 10, 'origin', ['live/a']);
  const o2 = node('o2', 'eu', 0, 10, 'origin', ['live/b']);
  const first = new ClusterView([o1, o2, ...edges(3)], rings);
  assert.equal(first.originsOf.get('live/a')?.[0]?.node.id, 'o1');
  // An edge heartbeat: the same origin records, new edge loads. The index is the same object.
  const second = new ClusterView([o1, o2, ...edges(3, 'eu', 5)], rings, first);
  assert.equal(second.originsOf, first.originsOf);
  // An origin heartbeat (a newer lastSeen) with another stream list: built anew, and it shows the change.
  clock += 1000;
  const o1b = node('o1', 'eu', 0, 10, 'origin', ['live/c']);
  const third = new ClusterView([o1b, o2, ...edges(3)], rings, second);
  assert.notEqual(third.originsOf, second.originsOf);
  assert.equal(third.originsOf.get('live/a'), undefined);
  assert.equal(third.originsOf.get('live/c')?.[0]?.node.id, 'o1');
  // An origin gone: built anew.
  const fourth = new ClusterView([o1b, ...edges(3)], rings, third);
  assert.equal(fourth.originsOf.get('live/b'), undefined);
  // A view whose predecessor never built its index builds its own.
  const fresh = new ClusterView([o1b, o2], rings, new ClusterView([o1b, o2], rings));
  assert.equal(fresh.originsOf.get('live/b')?.[0]?.node.id, 'o2');
});
