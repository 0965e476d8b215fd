// Loop refusal between tiers: edges, and origins that proxy a stream from another origin. Every node
// appends "1.1 <node-id>" to the standard Via header of the requests it sends upstream; a node that finds
// its own id in an incoming Via, or more hops than allowed, answers 508 Loop Detected instead of
// forwarding (and before joining any coalesced fetch, so a loop can never deadlock two nodes waiting on
// each other).

/** The received-by pseudonyms of a Via header value, in order. */
export function parseVia(header: string | string[] | undefined): string[] {
  if (header === undefined) return [];
  const joined = Array.isArray(header) ? header.join(',') : header;
  const out: string[] = [];
  for (const part of joined.split(',')) {
    // "1.1 edge-a (livecdn)": protocol, then received-by, then an optional comment.
    const tokens = part.trim().split(/\s+/);
    const by = tokens[1];
    if (by !== undefined && by !== '') out.push(by);
  }
  return out;
}

export type ViaCheck = { ok: true; hops: string[] } | { ok: false; reason: string };

export function checkVia(header: string | string[] | undefined, nodeId: string, maxHops: number): ViaCheck {
  const hops = parseVia(header);
  if (hops.includes(nodeId)) return { ok: false, reason: `loop: ${nodeId} already in Via (${hops.join(' -> ')})` };
  if (hops.length >= maxHops) return { ok: false, reason: `too many hops (${hops.length} >= ${maxHops})` };
  return { ok: true, hops };
}

/** The Via value to send upstream: the incoming hops plus this node. */
export function appendVia(hops: readonly string[], nodeId: string): string {
  return [...hops, nodeId].map((h) => `1.1 ${h}`).join(', ');
}
