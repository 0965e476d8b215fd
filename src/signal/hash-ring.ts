// Consistent hash ring with virtual nodes. Pure: built once per set of members and reused while the
// membership is unchanged (loads change every heartbeat, membership rarely).

/** 32-bit FNV-1a over UTF-16 code units, finished with murmur3's fmix32 for avalanche. */
export function hash32(s: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < s.length; i++) {
    h ^= s.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h >>> 0;
}

export class HashRing {
  private readonly points: Uint32Array;
  private readonly owners: Uint32Array;

  /** `members` are ids; each gets `vnodes` points so keys spread evenly over members. */
  constructor(
    readonly members: readonly string[],
    vnodes = 100,
  ) {
    const pts: Array<[number, number]> = [];
    members.forEach((id, idx) => {
      for (let v = 0; v < vnodes; v++) pts.push([hash32(`${id}#${v}`), idx]);
    });
    // Ties (rare) are broken by member index so every instance builds the same ring.
    pts.sort((a, b) => a[0] - b[0] || a[1] - b[1]);
    this.points = Uint32Array.from(pts, (p) => p[0]);
    this.owners = Uint32Array.from(pts, (p) => p[1]);
  }

  /**
   * Member indexes in ring order starting at the key's position, each member once. The caller stops
   * iterating as soon as it has found a member it can use.
   */
  *walk(key: string): Generator<number> {
    const n = this.points.length;
    if (n === 0) return;
    const h = hash32(key);
    let lo = 0;
    let hi = n;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if ((this.points[mid] as number) < h) lo = mid + 1;
      else hi = mid;
    }
    const seen = new Uint8Array(this.members.length);
    let left = this.members.length;
    for (let i = 0; i < n && left > 0; i++) {
      const owner = this.owners[(lo + i) % n] as number;
      if (seen[owner]) continue;
      seen[owner] = 1;
      left--;
      yield owner;
    }
  }
}
