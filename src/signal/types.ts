// Records the signal service keeps besides the cluster's NodeRecord (src/shared/cluster.ts).

export interface PublisherInfo {
  readonly clientId: string;
  readonly remoteAddress: string;
  /** ms since epoch */
  readonly since: number;
  /** Origin that reported the publish, when its hook call says so. */
  readonly nodeId?: string;
}

export interface StreamRecord {
  /** `${app}.${stream}`: derived from the names so pages and hooks find a stream without a lookup. */
  readonly id: string;
  readonly app: string;
  readonly stream: string;
  /** ms since epoch */
  readonly createdAt: number;
  /** Expiry (s since epoch) of the newest publish token issued for it; null when only seen through hooks. */
  readonly tokenExp: number | null;
  readonly live: boolean;
  readonly publisher: PublisherInfo | null;
  /** ms since epoch of the last publish / done event. */
  readonly lastEvent: number | null;
}

/**
 * A revoked app/stream: every publish token for it that expires at or before `untilExp` is refused.
 * Tokens issued after the revocation expire later (the API makes sure), so the name can be reused.
 */
export interface Revocation {
  readonly app: string;
  readonly stream: string;
  readonly untilExp: number;
  /** ms since epoch */
  readonly at: number;
}

export const streamId = (app: string, stream: string): string => `${app}.${stream}`;
const ID_PATTERN = /^([A-Za-z0-9_-]{1,64})\.([A-Za-z0-9_-]{1,64})$/;
export function parseStreamId(id: string): { app: string; stream: string } | undefined {
  const m = ID_PATTERN.exec(id);
  return m ? { app: m[1] as string, stream: m[2] as string } : undefined;
}
