// Where viewers play and encoders push.
//
// Play: inside a region, consistent hashing of "app/stream" over the live edges with bounded loads
// (Mirrokni, Thorup, Zadimoghaddam 2018): walking the ring from the stream's point, the first edge whose
// utilisation after taking this viewer stays within max(c x mean utilisation, floor) and below its
// capacity gets the viewer. One stream therefore concentrates on few edges (cache hits), and a hot stream
// spills over to the next edges on the ring instead of overloading one. The floor keeps a quiet cluster
// from spreading a stream over many edges just because the mean is near zero.
//
// Loads come from heartbeats; between two heartbeats of an edge this instance also counts the viewers it
// has sent there, so a burst of requests spreads before the next heartbeat reports it.
import type { NodeRecord, StreamStat } from '../shared/cluster.js';
import { HashRing } from './hash-ring.js';
import type { RegionGraph } from './region-map.js';

export interface PlacementOptions {
  /** c: an edge above c x the mean utilisation passes the stream on. */
  readonly loadFactor: number;
  /** Utilisation under which an edge never passes a stream on. */
  readonly loadFloor: number;
  readonly vnodes: number;
}

export const defaultPlacementOptions: PlacementOptions = { loadFactor: 1.25, loadFloor: 0.1, vnodes: 100 };

interface RegionEdges {
  readonly edges: readonly NodeRecord[];
  readonly ring: HashRing;
}

/** A snapshot of the live nodes, grouped for placement. Cheap to build; rings are cached by membership. */
export class ClusterView {
  readonly byRegion = new Map<string, RegionEdges>();
  readonly all: RegionEdges;
  readonly origins: readonly NodeRecord[];
  private presence: Map<string, StreamPresence[]> | undefined;
  private holders: Map<string, StreamOrigin[]> | undefined;
  /** Which origin heartbeats the view holds (id and time of each): equal keys, equal originsOf. */
  private readonly originsKey: string;

  /**
   * `previous`: the view this one replaces. Its originsOf is reused when no origin changed: edges heartbeat
   * far more often than origins (1,000 edges every 5 s rebuild the view ~200 times a second), and the index
   * over every stream the origins list is what a rebuild costs (~4 ms for 10,000 streams; the rest < 1 ms).
   */
  constructor(
    readonly nodes: readonly NodeRecord[],
    rings: RingCache,
    previous?: ClusterView,
  ) {
    const edges = nodes.filter((n) => n.kind === 'edge' && n.capacity > 0);
    const groups = new Map<string, NodeRecord[]>();
    for (const e of edges) {
      const g = groups.get(e.region);
      if (g) g.push(e);
      else groups.set(e.region, [e]);
    }
    for (const [region, list] of groups) this.byRegion.set(region, rings.group(list));
    this.all = rings.group(edges);
    this.origins = nodes.filter((n) => n.kind === 'origin');
    this.originsKey = this.origins.map((o) => `${o.id}@${o.lastSeen}`).join('\n');
    // Taken now, not read through `previous` later: a view must not keep the one before it alive.
    if (previous?.originsKey === this.originsKey) this.holders = previous.holders;
  }

  /**
   * "app/stream" -> the origins whose heartbeat lists it, in route order: publishing first, then the
   * freshest heartbeat. Built on first use, once per view, in time linear in what the origins list: play
   * placement and GET /api/route read it per request, and must not scan or sort per request.
   */
  get originsOf(): ReadonlyMap<string, readonly StreamOrigin[]> {
    if (this.holders) return this.holders;
    const index = new Map<string, StreamOrigin[]>();
    const freshestFirst = [...this.origins].sort((a, b) => b.lastSeen - a.lastSeen);
    const contested: StreamOrigin[][] = [];
    for (const node of freshestFirst) {
      const publishing = new Set<string>();
      for (const s of node.load.streamStats ?? []) if (s.publishing === true) publishing.add(s.stream);
      for (const key of node.load.streams) {
        const list = index.get(key);
        const entry = { node, publishing: publishing.has(key) };
        if (!list) index.set(key, [entry]);
        // Every entry of this origin is appended while it is walked: a repeat is the list's last entry.
        else if (list[list.length - 1]?.node !== node) {
          list.push(entry);
          if (list.length === 2) contested.push(list);
        }
      }
    }
    // Only streams that several origins list need ordering (a republish on another origin, a grace):
    // a stable sort keeps the freshest first among equals.
    for (const list of contested) list.sort((a, b) => Number(b.publishing) - Number(a.publishing));
    this.holders = index;
    return index;
  }

  /**
   * "app/stream" -> the nodes whose heartbeat lists it, with their stat for it. Built on first use, once
   * per view, in time linear in what the heartbeats list (lookups per stream per node would be quadratic).
   */
  get streams(): ReadonlyMap<string, readonly StreamPresence[]> {
    if (this.presence) return this.presence;
    const index = new Map<string, StreamPresence[]>();
    for (const node of this.nodes) {
      const stats = new Map((node.load.streamStats ?? []).map((s) => [s.stream, s]));
      for (const key of new Set(node.load.streams)) {
        const entry = { node, stat: stats.get(key) };
        const list = index.get(key);
        if (list) list.push(entry);
        else index.set(key, [entry]);
      }
    }
    this.presence = index;
    return index;
  }
}

/** An origin whose heartbeat lists a stream, and whether a publisher is connected there. */
export interface StreamOrigin {
  readonly node: NodeRecord;
  readonly publishing: boolean;
}

/** One node that lists a stream, and what it says about it. */
interface StreamPresence {
  readonly node: NodeRecord;
  readonly stat: StreamStat | undefined;
}

/** Rings keyed by their sorted member ids, kept while the membership exists. */
export class RingCache {
  private current = new Map<string, HashRing>();
  private next = new Map<string, HashRing>();

  constructor(private readonly vnodes: number) {}

  group(list: readonly NodeRecord[]): RegionEdges {
    const sorted = [...list].sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
    const key = sorted.map((n) => n.id).join('\n');
    let ring = this.next.get(key) ?? this.current.get(key);
    if (!ring) ring = new HashRing(sorted.map((n) => n.id), this.vnodes);
    this.next.set(key, ring);
    return { edges: sorted, ring };
  }

  /** Call after building a view: drops rings no view uses any more. */
  commit(): void {
    this.current = this.next;
    this.next = new Map();
  }
}

export interface PlayChoice {
  /** Region the viewer asked for or was mapped to (undefined: unknown, every edge counts). */
  readonly region: string | undefined;
  /** Region of the chosen edges, when an edge was chosen. */
  readonly servedRegion: string | undefined;
  /** The chosen edge first, then up to `fallbacks` more edges in ring order; empty: play from origin. */
  readonly edges: readonly NodeRecord[];
  /** Origin to fall back to (the one holding the stream if any heartbeat says so). */
  readonly origin: NodeRecord | undefined;
}

export class Placement {
  /** Viewers or publishers this instance sent to a node since its heartbeat at `lastSeen`. */
  private readonly pending = new Map<string, { lastSeen: number; count: number }>();

  constructor(
    private readonly opts: PlacementOptions,
    private readonly graph: RegionGraph | undefined,
  ) {}

  private load(n: NodeRecord, base: number): number {
    const p = this.pending.get(n.id);
    return base + (p && p.lastSeen === n.lastSeen ? p.count : 0);
  }

  private assign(n: NodeRecord): void {
    const p = this.pending.get(n.id);
    if (p && p.lastSeen === n.lastSeen) p.count++;
    else this.pending.set(n.id, { lastSeen: n.lastSeen, count: 1 });
  }

  /** Forget pending counts of nodes that are gone. */
  prune(view: ClusterView): void {
    const ids = new Set(view.nodes.map((n) => n.id));
    for (const id of this.pending.keys()) if (!ids.has(id)) this.pending.delete(id);
  }

  private chooseIn(group: RegionEdges, key: string, fallbacks: number): NodeRecord[] {
    const { edges, ring } = group;
    let total = 0;
    let cap = 0;
    for (const e of edges) {
      total += this.load(e, e.load.viewers);
      cap += e.capacity;
    }
    const bound = Math.max(this.opts.loadFactor * ((total + 1) / cap), this.opts.loadFloor);
    const out: NodeRecord[] = [];
    let best: NodeRecord | undefined;
    let bestUtil = Infinity;
    for (const idx of ring.walk(key)) {
      const e = edges[idx] as NodeRecord;
      const l = this.load(e, e.load.viewers);
      if (l >= e.capacity) continue; // full
      const util = (l + 1) / e.capacity;
      if (out.length === 0) {
        if (util <= bound) out.push(e);
        else if (util < bestUtil) {
          best = e;
          bestUtil = util;
        }
      } else {
        out.push(e); // fallbacks: the next non-full edges in ring order
        if (out.length > fallbacks) break;
      }
    }
    // Everyone is above the bound (loads are stale or skewed): the least utilised non-full edge.
    if (out.length === 0 && best) {
      out.push(best);
      for (const idx of ring.walk(key)) {
        const e = edges[idx] as NodeRecord;
        if (e !== best && this.load(e, e.load.viewers) < e.capacity) out.push(e);
        if (out.length > fallbacks) break;
      }
    }
    return out;
  }

  /** Chooses edges for a viewer of `key` ("app/stream"), counting the viewer on the chosen edge. */
  play(view: ClusterView, key: string, region: string | undefined, fallbacks = 2): PlayChoice {
    const regions = region === undefined ? [] : [region, ...(this.graph?.fallbacks(region) ?? [])];
    const tryGroup = (g: RegionEdges | undefined): NodeRecord[] => (g && g.edges.length > 0 ? this.chooseIn(g, key, fallbacks) : []);
    let edges: NodeRecord[] = [];
    let servedRegion: string | undefined;
    for (const r of regions) {
      edges = tryGroup(view.byRegion.get(r));
      if (edges.length > 0) {
        servedRegion = r;
        break;
      }
    }
    // Unknown region: every live edge is a candidate.
    if (region === undefined) {
      edges = tryGroup(view.all);
      servedRegion = edges[0]?.region;
    }
    const first = edges[0];
    if (first) this.assign(first);
    return { region, servedRegion, edges, origin: this.originFor(view, key) };
  }

  /** The origin that has the stream (by its heartbeat), else the least loaded one. */
  originFor(view: ClusterView, key: string): NodeRecord | undefined {
    return view.originsOf.get(key)?.[0]?.node ?? this.leastLoadedOrigin(view.origins, false);
  }

  private leastLoadedOrigin(origins: readonly NodeRecord[], needRtmp: boolean): NodeRecord | undefined {
    let best: NodeRecord | undefined;
    let bestUtil = Infinity;
    for (const o of origins) {
      if (needRtmp && !o.rtmpUrl) continue;
      const l = this.load(o, o.load.publishers);
      if (l >= o.capacity) continue;
      const util = (l + 1) / Math.max(o.capacity, 1);
      if (util < bestUtil || (util === bestUtil && best && o.id < best.id)) {
        best = o;
        bestUtil = util;
      }
    }
    return best;
  }

  /** The least loaded healthy origin that accepts RTMP, counting the publisher on it. */
  publish(view: ClusterView): { origin: NodeRecord | undefined; registered: number } {
    const candidates = view.origins.filter((o) => o.rtmpUrl);
    const origin = this.leastLoadedOrigin(candidates, true);
    if (origin) this.assign(origin);
    return { origin, registered: candidates.length };
  }
}
