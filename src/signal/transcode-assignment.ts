// Which transcoder transcodes which source (issue 11, `livecdn transcode`). Pure and stateless: the answer
// follows from the cluster view alone, so every signal instance sharing a registry gives the same one.
//
// The sources: streams an origin's heartbeat lists as publishing with a `transcodeJob` (an origin with
// --transcode-remote). The transcoders: live nodes of kind 'transcoder'; their capacity is the number of
// sources each takes. A source stays with a transcoder that already runs it (its heartbeat lists the
// source) while that one is alive and has room, so a transcoder joining moves nothing; any other source goes
// to the transcoder with the highest rendezvous score (hash of transcoder id and source) that has room, so
// a transcoder leaving (deregistered, or expired by the registry's TTL) moves only its own sources, each to
// where the hash points, and they spread evenly over the rest.
import type { NodeRecord, TranscodeAssignment } from '../shared/cluster.js';
import { parseStreamKey } from '../shared/url-contract.js';
import { hash32 } from './hash-ring.js';

/** Rendezvous (highest random weight) score of a transcoder for a source key "app/stream". */
const score = (transcoder: string, key: string): number => hash32(`${transcoder}\n${key}`);

interface Source {
  readonly key: string;
  readonly assignment: TranscodeAssignment;
}

/** Sources to transcode remotely, in key order; a source two origins list goes to the first one. */
function remoteSources(nodes: readonly NodeRecord[]): Source[] {
  const out = new Map<string, Source>();
  for (const o of nodes) {
    if (o.kind !== 'origin' || !o.rtmpUrl) continue;
    for (const stat of o.load.streamStats ?? []) {
      const job = stat.transcodeJob;
      const names = parseStreamKey(stat.stream);
      if (!job || stat.publishing !== true || !names || out.has(stat.stream)) continue;
      out.set(stat.stream, {
        key: stat.stream,
        assignment: { ...job, ...names, origin: o.id, httpUrl: o.publicUrl, rtmpUrl: o.rtmpUrl },
      });
    }
  }
  return [...out.values()].sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
}

/** Transcoder id -> its sources. Transcoders without any are absent. */
export function assignTranscodes(nodes: readonly NodeRecord[]): Map<string, TranscodeAssignment[]> {
  const transcoders = nodes.filter((n) => n.kind === 'transcoder' && n.capacity > 0);
  const taken = new Map<string, TranscodeAssignment[]>();
  const hasRoom = (t: NodeRecord): boolean => (taken.get(t.id)?.length ?? 0) < t.capacity;
  const give = (t: NodeRecord, s: Source): void => {
    const list = taken.get(t.id);
    if (list) list.push(s.assignment);
    else taken.set(t.id, [s.assignment]);
  };
  /** The candidate with the highest score for `key` that has room (ties, vanishingly rare, by id). */
  const best = (candidates: readonly NodeRecord[], key: string): NodeRecord | undefined => {
    let pick: NodeRecord | undefined;
    let pickScore = -1;
    for (const t of candidates) {
      if (!hasRoom(t)) continue;
      const sc = score(t.id, key);
      if (sc > pickScore || (sc === pickScore && pick && t.id < pick.id)) {
        pick = t;
        pickScore = sc;
      }
    }
    return pick;
  };
  const sources = remoteSources(nodes);
  // First the sources a live transcoder already runs: they stay (the best scored claimant if several do).
  const runs = new Map(transcoders.map((t) => [t.id, new Set(t.load.streams)]));
  const unplaced: Source[] = [];
  for (const s of sources) {
    const claimants = transcoders.filter((t) => runs.get(t.id)?.has(s.key));
    const t = best(claimants, s.key);
    if (t) give(t, s);
    else unplaced.push(s);
  }
  for (const s of unplaced) {
    const t = best(transcoders, s.key);
    if (t) give(t, s);
  }
  return taken;
}

const cache = new WeakMap<readonly NodeRecord[], Map<string, TranscodeAssignment[]>>();

/** The assignments of one cluster view's node list, computed once per list (a view is rebuilt when a node changes). */
export function transcodeAssignments(nodes: readonly NodeRecord[]): ReadonlyMap<string, readonly TranscodeAssignment[]> {
  let a = cache.get(nodes);
  if (!a) {
    a = assignTranscodes(nodes);
    cache.set(nodes, a);
  }
  return a;
}
