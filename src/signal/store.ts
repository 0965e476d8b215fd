// The registry a signal instance reads and writes: nodes with TTL, stream records, revocations, and the
// pub/sub channels for chat and cluster events. MemoryStore serves one process; RedisStore lets several
// signal instances share one view.
import type { Heartbeat, NodeRecord, NodeRegistration } from '../shared/cluster.js';
import type { Revocation, StreamRecord } from './types.js';

export interface ChatMessage {
  readonly from: string;
  readonly text: string;
  /** ms since epoch, set by the instance that accepted the message */
  readonly ts: number;
}

/** A chat message as delivered: `seq` grows by one per room in the order members receive it. */
export interface ChatEnvelope extends ChatMessage {
  readonly seq: number;
}

/** Cluster events every instance hears (its own included). */
export type ClusterEvent =
  | { readonly type: 'revoked'; readonly app: string; readonly stream: string }
  | { readonly type: 'nodes' };

export type Unsubscribe = () => Promise<void>;

export interface RegistryStore {
  readonly kind: 'memory' | 'redis';
  /** Resolves once the store can serve (Redis connected and subscribed); rejects when it cannot. */
  ready(): Promise<void>;
  /** Registers (or replaces) a node; it stays listed for the node TTL after this and every heartbeat. */
  registerNode(reg: NodeRegistration, now: number): Promise<NodeRecord>;
  /** Stores the load; undefined when the node is unknown or its TTL has passed (it must re-register). */
  heartbeat(hb: Heartbeat, now: number): Promise<NodeRecord | undefined>;
  removeNode(id: string): Promise<boolean>;
  /** The node when it is registered and within its TTL. */
  getNode(id: string, now: number): Promise<NodeRecord | undefined>;
  /** Nodes whose last heartbeat is within the TTL. */
  listNodes(now: number): Promise<NodeRecord[]>;

  getStream(id: string): Promise<StreamRecord | undefined>;
  putStream(rec: StreamRecord): Promise<void>;
  listStreams(): Promise<StreamRecord[]>;
  deleteStream(id: string): Promise<boolean>;

  /** Kept until `untilExp` has passed: after that every token it covers has expired anyway. */
  revoke(r: Revocation): Promise<void>;
  getRevocation(app: string, stream: string, nowSec: number): Promise<Revocation | undefined>;

  /** Assigns the room's next seq and delivers to every subscriber of the room on every instance. */
  publishChat(room: string, msg: ChatMessage): Promise<number>;
  subscribeChat(room: string, handler: (m: ChatEnvelope) => void): Promise<Unsubscribe>;

  publishEvent(e: ClusterEvent): Promise<void>;
  onEvent(handler: (e: ClusterEvent) => void): void;

  close(): Promise<void>;
}

export const emptyLoad = { viewers: 0, publishers: 0, egressBps: 0, cpu: 0, streams: [] } as const;
