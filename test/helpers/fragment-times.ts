// The decode time each track fragment says it starts at (tfdt) and how many samples its trun has, read
// from fMP4 segment bytes. mp4box takes only the first tfdt of a track and adds durations from there;
// players seek and sync by every tfdt, so the tests compare the two.

interface TrafTime {
  trackId: number;
  baseDecodeTime: number;
  samples: number;
}

const CONTAINERS = new Set(['moof', 'traf']);

function trafTimes(data: Buffer): TrafTime[] {
  const out: TrafTime[] = [];
  const walk = (from: number, to: number, traf?: TrafTime): void => {
    for (let at = from; at + 8 <= to; ) {
      const size = data.readUInt32BE(at);
      const type = data.toString('latin1', at + 4, at + 8);
      if (size < 8 || at + size > to) throw new Error(`bad box ${type} of ${size} bytes at ${at}`);
      if (type === 'traf') {
        const t: TrafTime = { trackId: 0, baseDecodeTime: 0, samples: 0 };
        walk(at + 8, at + size, t);
        out.push(t);
      } else if (CONTAINERS.has(type)) walk(at + 8, at + size, traf);
      else if (traf && type === 'tfhd') traf.trackId = data.readUInt32BE(at + 12);
      else if (traf && type === 'tfdt') traf.baseDecodeTime = data[at + 8] === 1 ? Number(data.readBigUInt64BE(at + 12)) : data.readUInt32BE(at + 12);
      else if (traf && type === 'trun') traf.samples += data.readUInt32BE(at + 12);
      at += size;
    }
  };
  walk(0, data.length);
  return out;
}

/** Checks every traf's tfdt against the decode times mp4box gave the track's samples (in order): the first differing one, or undefined. */
export function tfdtMismatch(segments: readonly Buffer[], dtsByTrack: ReadonlyMap<number, readonly number[]>): string | undefined {
  const next = new Map<number, number>();
  for (const t of segments.flatMap(trafTimes)) {
    const i = next.get(t.trackId) ?? 0;
    const dts = dtsByTrack.get(t.trackId)?.[i];
    if (dts !== t.baseDecodeTime) return `track ${t.trackId} sample ${i}: tfdt ${t.baseDecodeTime}, decode time ${dts}`;
    next.set(t.trackId, i + t.samples);
  }
  return undefined;
}
