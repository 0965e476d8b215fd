// Registry in this process's memory: the default when no --redis is given.
import type { Heartbeat, NodeRecord, NodeRegistration } from '../shared/cluster.js';
import { streamKey } from '../shared/url-contract.js';
import type { ChatEnvelope, ChatMessage, ClusterEvent, RegistryStore, Unsubscribe } from './store.js';
import { emptyLoad } from './store.js';
import type { Revocation, StreamRecord } from './types.js';

export class MemoryStore implements RegistryStore {
  readonly kind = 'memory';
  private readonly nodes = new Map<string, NodeRecord>();
  private readonly streams = new Map<string, StreamRecord>();
  private readonly revocations = new Map<string, Revocation>();
  private readonly rooms = new Map<string, { seq: number; handlers: Set<(m: ChatEnvelope) => void> }>();
  private readonly eventHandlers = new Set<(e: ClusterEvent) => void>();

  constructor(private readonly nodeTtlMs: number) {}

  async ready(): Promise<void> {}

  private alive(n: NodeRecord, now: number): boolean {
    return now - n.lastSeen < this.nodeTtlMs;
  }

  async registerNode(reg: NodeRegistration, now: number): Promise<NodeRecord> {
    const rec: NodeRecord = { ...reg, load: emptyLoad, lastSeen: now };
    this.nodes.set(reg.id, rec);
    return rec;
  }

  async heartbeat(hb: Heartbeat, now: number): Promise<NodeRecord | undefined> {
    const prev = this.nodes.get(hb.id);
    if (!prev || !this.alive(prev, now)) {
      this.nodes.delete(hb.id);
      return undefined;
    }
    const rec: NodeRecord = { ...prev, load: hb.load, lastSeen: now };
    this.nodes.set(hb.id, rec);
    return rec;
  }

  async removeNode(id: string): Promise<boolean> {
    return this.nodes.delete(id);
  }

  async getNode(id: string, now: number): Promise<NodeRecord | undefined> {
    const n = this.nodes.get(id);
    return n && this.alive(n, now) ? n : undefined;
  }

  async listNodes(now: number): Promise<NodeRecord[]> {
    const out: NodeRecord[] = [];
    for (const [id, n] of this.nodes) {
      if (this.alive(n, now)) out.push(n);
      else this.nodes.delete(id); // lazy expiry: nothing else needs a timer
    }
    return out;
  }

  async getStream(id: string): Promise<StreamRecord | undefined> {
    return this.streams.get(id);
  }

  async putStream(rec: StreamRecord): Promise<void> {
    this.streams.set(rec.id, rec);
  }

  async listStreams(): Promise<StreamRecord[]> {
    return [...this.streams.values()];
  }

  async deleteStream(id: string): Promise<boolean> {
    return this.streams.delete(id);
  }

  async revoke(r: Revocation): Promise<void> {
    // Expired revocations cover only expired tokens: drop them so the map stays bounded.
    const nowSec = Math.floor(Date.now() / 1000);
    for (const [k, old] of this.revocations) if (old.untilExp < nowSec) this.revocations.delete(k);
    const key = streamKey(r.app, r.stream);
    const prev = this.revocations.get(key);
    if (!prev || prev.untilExp < r.untilExp) this.revocations.set(key, r);
  }

  async getRevocation(app: string, stream: string, nowSec: number): Promise<Revocation | undefined> {
    const key = streamKey(app, stream);
    const r = this.revocations.get(key);
    if (r && r.untilExp < nowSec) {
      this.revocations.delete(key);
      return undefined;
    }
    return r;
  }

  async publishChat(room: string, msg: ChatMessage): Promise<number> {
    let r = this.rooms.get(room);
    if (!r) this.rooms.set(room, (r = { seq: 0, handlers: new Set() }));
    const env: ChatEnvelope = { ...msg, seq: ++r.seq };
    for (const h of r.handlers) h(env);
    return env.seq;
  }

  async subscribeChat(room: string, handler: (m: ChatEnvelope) => void): Promise<Unsubscribe> {
    let r = this.rooms.get(room);
    if (!r) this.rooms.set(room, (r = { seq: 0, handlers: new Set() }));
    const entry = r;
    entry.handlers.add(handler);
    return async () => {
      entry.handlers.delete(handler);
    };
  }

  async publishEvent(e: ClusterEvent): Promise<void> {
    for (const h of this.eventHandlers) h(e);
  }

  onEvent(handler: (e: ClusterEvent) => void): void {
    this.eventHandlers.add(handler);
  }

  async close(): Promise<void> {
    this.eventHandlers.clear();
    this.rooms.clear();
  }
}
