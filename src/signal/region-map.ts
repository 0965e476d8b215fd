// Where a viewer is: a CIDR-to-region map for client addresses (longest prefix wins), and the region graph
// that orders the fallback regions when a region has no usable edge.
import { isIPv4 } from 'node:net';
import { parseAddress } from '../shared/address.js';

interface CidrRule {
  readonly v6: boolean;
  readonly base: bigint;
  readonly prefix: number;
  readonly region: string;
}

const REGION_PATTERN = /^[A-Za-z0-9_-]{1,64}$/;

export class RegionMap {
  private readonly rules: CidrRule[];

  constructor(rules: readonly CidrRule[]) {
    // Longest prefix first, so the first match is the most specific.
    this.rules = [...rules].sort((a, b) => b.prefix - a.prefix);
  }

  /** "10.0.0.0/8=eu,2001:db8::/32=us" (commas or whitespace between entries). Throws with the bad entry. */
  static parse(spec: string): RegionMap {
    const rules: CidrRule[] = [];
    for (const entry of spec.split(/[\s,]+/).filter(Boolean)) {
      const m = /^([^/=]+)\/(\d{1,3})=(.+)$/.exec(entry);
      const addr = m && parseAddress(m[1] as string);
      if (!m || !addr) throw new Error(`bad region map entry "${entry}": expected CIDR=REGION, e.g. 10.0.0.0/8=eu`);
      let prefix = Number(m[2]);
      const region = m[3] as string;
      // A rule written as IPv4-mapped IPv6 (::ffff:10.0.0.0/104) is an IPv4 rule.
      if (!addr.v6 && !isIPv4(m[1] as string)) {
        if (prefix < 96) throw new Error(`bad region map entry "${entry}": an IPv4-mapped prefix must be at least /96`);
        prefix -= 96;
      }
      const bits = addr.v6 ? 128 : 32;
      if (prefix > bits) throw new Error(`bad region map entry "${entry}": prefix longer than ${bits} bits`);
      if (!REGION_PATTERN.test(region)) throw new Error(`bad region map entry "${entry}": region must match [A-Za-z0-9_-]{1,64}`);
      const mask = ((1n << BigInt(prefix)) - 1n) << BigInt(bits - prefix);
      rules.push({ v6: addr.v6, base: addr.value & mask, prefix, region });
    }
    return new RegionMap(rules);
  }

  get size(): number {
    return this.rules.length;
  }

  lookup(address: string | undefined): string | undefined {
    if (!address || this.rules.length === 0) return undefined;
    const a = parseAddress(address);
    if (!a) return undefined;
    const bits = a.v6 ? 128 : 32;
    for (const r of this.rules) {
      if (r.v6 !== a.v6) continue;
      const shift = BigInt(bits - r.prefix);
      if (a.value >> shift === r.base >> shift) return r.region;
    }
    return undefined;
  }
}

/**
 * Fallback order between regions. "eu:us,ap;us:eu" lists, for each region, its neighbours nearest first;
 * the fallback order is breadth-first from the viewer's region, neighbours in the listed order. Edges are
 * directed as written; write both directions for a symmetric graph.
 */
export class RegionGraph {
  /** Fallback orders of the graph's own regions only (see fallbacks()). */
  private readonly cache = new Map<string, readonly string[]>();

  constructor(private readonly adjacency: ReadonlyMap<string, readonly string[]>) {}

  static parse(spec: string): RegionGraph {
    const adj = new Map<string, string[]>();
    for (const entry of spec.split(/[;\s]+/).filter(Boolean)) {
      const m = /^([A-Za-z0-9_-]{1,64}):([A-Za-z0-9_,-]*)$/.exec(entry);
      if (!m) throw new Error(`bad region graph entry "${entry}": expected REGION:NEIGHBOUR,NEIGHBOUR`);
      const from = m[1] as string;
      const to = (m[2] as string).split(',').filter(Boolean);
      for (const t of to) if (!REGION_PATTERN.test(t)) throw new Error(`bad region graph entry "${entry}": bad region "${t}"`);
      adj.set(from, [...(adj.get(from) ?? []), ...to.filter((t) => t !== from)]);
    }
    return new RegionGraph(adj);
  }

  /** Regions to try after `region`, nearest first (not including `region` itself). */
  fallbacks(region: string): readonly string[] {
    // A region the graph does not name has no neighbours. Answered without the cache, which therefore holds
    // at most one entry per region of the graph, whatever `?region=` clients invent.
    if (!this.adjacency.has(region)) return [];
    const hit = this.cache.get(region);
    if (hit) return hit;
    const seen = new Set([region]);
    const order: string[] = [];
    const queue = [region];
    while (queue.length > 0) {
      const r = queue.shift() as string;
      for (const n of this.adjacency.get(r) ?? []) {
        if (seen.has(n)) continue;
        seen.add(n);
        order.push(n);
        queue.push(n);
      }
    }
    this.cache.set(region, order);
    return order;
  }
}
