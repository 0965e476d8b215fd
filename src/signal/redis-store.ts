// Registry in Redis, shared by several signal instances.
//
// Keys (prefix "livecdn:"): node:<id> hash {reg, load, lastSeen} with a TTL renewed by each heartbeat,
// and the set nodes of ids (pruned lazily when a node key has expired); stream:<id> JSON and the set
// streams; revoked:<app>/<stream> JSON expiring when every token it covers has expired; chatseq:<room>
// counters. Channels: chat:<room> ("<seq> <json>") and events (ClusterEvent JSON).
// Chat seq and publish happen in one Lua script, so seq order is delivery order on every instance.
import { Redis } from 'ioredis';
import type { Heartbeat, NodeLoad, NodeRecord, NodeRegistration } from '../shared/cluster.js';
import type { Logger } from '../shared/log.js';
import { streamKey } from '../shared/url-contract.js';
import type { ChatEnvelope, ChatMessage, ClusterEvent, RegistryStore, Unsubscribe } from './store.js';
import { emptyLoad } from './store.js';
import type { Revocation, StreamRecord } from './types.js';

const HEARTBEAT_LUA = `
if redis.call('EXISTS', KEYS[1]) == 0 then return false end
redis.call('HSET', KEYS[1], 'load', ARGV[1], 'lastSeen', ARGV[2])
redis.call('PEXPIRE', KEYS[1], ARGV[3])
return redis.call('HGET', KEYS[1], 'reg')`;

const CHAT_LUA = `
local seq = redis.call('INCR', KEYS[1])
redis.call('EXPIRE', KEYS[1], 86400)
redis.call('PUBLISH', KEYS[2], seq .. ' ' .. ARGV[1])
return seq`;

/** Stream records outlive their last write by this long (a week): the registry forgets stale streams. */
const STREAM_TTL_SEC = 7 * 86_400;

type ScriptedRedis = Redis & {
  livecdnHeartbeat(key: string, load: string, lastSeen: string, ttlMs: string): Promise<string | null>;
  livecdnChat(seqKey: string, channel: string, payload: string): Promise<number>;
};

export class RedisStore implements RegistryStore {
  readonly kind = 'redis';
  private readonly redis: ScriptedRedis;
  private readonly sub: Redis;
  private readonly chatHandlers = new Map<string, { handlers: Set<(m: ChatEnvelope) => void>; subscribed: Promise<unknown> }>();
  private readonly eventHandlers = new Set<(e: ClusterEvent) => void>();
  private readonly eventsChannel: string;
  private readonly subscribed: Promise<unknown>;

  constructor(
    url: string,
    private readonly nodeTtlMs: number,
    private readonly log: Logger,
    private readonly prefix = 'livecdn:',
  ) {
    const opts = { maxRetriesPerRequest: 3, connectTimeout: 5000 };
    this.redis = new Redis(url, opts) as ScriptedRedis;
    this.redis.defineCommand('livecdnHeartbeat', { numberOfKeys: 1, lua: HEARTBEAT_LUA });
    this.redis.defineCommand('livecdnChat', { numberOfKeys: 2, lua: CHAT_LUA });
    this.sub = new Redis(url, opts);
    for (const c of [this.redis, this.sub]) c.on('error', (err: Error) => log.warn({ err: err.message }, 'redis error'));
    this.eventsChannel = prefix + 'events';
    this.sub.on('message', (channel: string, message: string) => this.dispatch(channel, message));
    this.subscribed = this.sub.subscribe(this.eventsChannel);
    // ready() reports a failure; without a listener here an early failure would be an unhandled rejection.
    this.subscribed.catch(() => {});
  }

  async ready(): Promise<void> {
    await this.subscribed;
    await this.redis.ping();
  }

  private dispatch(channel: string, message: string): void {
    if (channel === this.eventsChannel) {
      let e: ClusterEvent;
      try {
        e = JSON.parse(message) as ClusterEvent;
      } catch {
        return;
      }
      for (const h of this.eventHandlers) h(e);
      return;
    }
    const handlers = this.chatHandlers.get(channel)?.handlers;
    if (!handlers) return;
    const space = message.indexOf(' ');
    let env: ChatEnvelope;
    try {
      env = { ...(JSON.parse(message.slice(space + 1)) as ChatMessage), seq: Number(message.slice(0, space)) };
    } catch {
      this.log.warn({ channel }, 'malformed chat message on redis');
      return;
    }
    for (const h of handlers) h(env);
  }

  private nodeKey(id: string): string {
    return `${this.prefix}node:${id}`;
  }

  async registerNode(reg: NodeRegistration, now: number): Promise<NodeRecord> {
    const key = this.nodeKey(reg.id);
    await this.redis
      .multi()
      .del(key)
      .hset(key, 'reg', JSON.stringify(reg), 'load', JSON.stringify(emptyLoad), 'lastSeen', String(now))
      .pexpire(key, this.nodeTtlMs)
      .sadd(this.prefix + 'nodes', reg.id)
      .exec();
    return { ...reg, load: emptyLoad, lastSeen: now };
  }

  async heartbeat(hb: Heartbeat, now: number): Promise<NodeRecord | undefined> {
    const reg = await this.redis.livecdnHeartbeat(this.nodeKey(hb.id), JSON.stringify(hb.load), String(now), String(this.nodeTtlMs));
    if (reg === null) return undefined;
    return { ...(JSON.parse(reg) as NodeRegistration), load: hb.load, lastSeen: now };
  }

  async removeNode(id: string): Promise<boolean> {
    const res = await this.redis.multi().del(this.nodeKey(id)).srem(this.prefix + 'nodes', id).exec();
    return (res?.[0]?.[1] as number | undefined) === 1;
  }

  async getNode(id: string, now: number): Promise<NodeRecord | undefined> {
    const h = await this.redis.hgetall(this.nodeKey(id));
    if (h.reg === undefined || now - Number(h.lastSeen) >= this.nodeTtlMs) return undefined;
    return { ...(JSON.parse(h.reg) as NodeRegistration), load: (JSON.parse(h.load ?? 'null') as NodeLoad | null) ?? emptyLoad, lastSeen: Number(h.lastSeen) };
  }

  async listNodes(now: number): Promise<NodeRecord[]> {
    const ids = await this.redis.smembers(this.prefix + 'nodes');
    if (ids.length === 0) return [];
    const pipe = this.redis.pipeline();
    for (const id of ids) pipe.hgetall(this.nodeKey(id));
    const res = (await pipe.exec()) ?? [];
    const out: NodeRecord[] = [];
    const gone: string[] = [];
    ids.forEach((id, i) => {
      const h = res[i]?.[1] as Record<string, string> | undefined;
      if (!h || h.reg === undefined) {
        gone.push(id);
        return;
      }
      const lastSeen = Number(h.lastSeen);
      // The key TTL has millisecond precision already; this also covers clock skew between instances.
      if (now - lastSeen >= this.nodeTtlMs) return;
      out.push({ ...(JSON.parse(h.reg) as NodeRegistration), load: JSON.parse(h.load ?? 'null') as NodeLoad ?? emptyLoad, lastSeen });
    });
    if (gone.length > 0) await this.redis.srem(this.prefix + 'nodes', ...gone);
    return out;
  }

  async getStream(id: string): Promise<StreamRecord | undefined> {
    const s = await this.redis.get(`${this.prefix}stream:${id}`);
    return s === null ? undefined : (JSON.parse(s) as StreamRecord);
  }

  async putStream(rec: StreamRecord): Promise<void> {
    await this.redis
      .multi()
      .set(`${this.prefix}stream:${rec.id}`, JSON.stringify(rec), 'EX', STREAM_TTL_SEC)
      .sadd(this.prefix + 'streams', rec.id)
      .exec();
  }

  async listStreams(): Promise<StreamRecord[]> {
    const ids = await this.redis.smembers(this.prefix + 'streams');
    if (ids.length === 0) return [];
    const values = await this.redis.mget(ids.map((id) => `${this.prefix}stream:${id}`));
    const gone = ids.filter((_id, i) => values[i] === null);
    if (gone.length > 0) await this.redis.srem(this.prefix + 'streams', ...gone);
    return values.filter((v): v is string => v !== null).map((v) => JSON.parse(v) as StreamRecord);
  }

  async deleteStream(id: string): Promise<boolean> {
    const res = await this.redis.multi().del(`${this.prefix}stream:${id}`).srem(this.prefix + 'streams', id).exec();
    return (res?.[0]?.[1] as number | undefined) === 1;
  }

  async revoke(r: Revocation): Promise<void> {
    const key = `${this.prefix}revoked:${streamKey(r.app, r.stream)}`;
    const prev = await this.redis.get(key);
    if (prev !== null && (JSON.parse(prev) as Revocation).untilExp >= r.untilExp) return;
    await this.redis.set(key, JSON.stringify(r), 'EXAT', r.untilExp + 1);
  }

  async getRevocation(app: string, stream: string, nowSec: number): Promise<Revocation | undefined> {
    const s = await this.redis.get(`${this.prefix}revoked:${streamKey(app, stream)}`);
    if (s === null) return undefined;
    const r = JSON.parse(s) as Revocation;
    return r.untilExp < nowSec ? undefined : r;
  }

  async publishChat(room: string, msg: ChatMessage): Promise<number> {
    return this.redis.livecdnChat(`${this.prefix}chatseq:${room}`, `${this.prefix}chat:${room}`, JSON.stringify(msg));
  }

  async subscribeChat(room: string, handler: (m: ChatEnvelope) => void): Promise<Unsubscribe> {
    const channel = `${this.prefix}chat:${room}`;
    let entry = this.chatHandlers.get(channel);
    if (!entry) {
      entry = { handlers: new Set(), subscribed: this.sub.subscribe(channel) };
      this.chatHandlers.set(channel, entry);
    }
    const e = entry;
    e.handlers.add(handler);
    // Every caller waits for the SUBSCRIBE, not only the first: messages published after this resolves arrive.
    await e.subscribed;
    return async () => {
      e.handlers.delete(handler);
      if (e.handlers.size === 0 && this.chatHandlers.get(channel) === e) {
        this.chatHandlers.delete(channel);
        await this.sub.unsubscribe(channel);
      }
    };
  }

  async publishEvent(e: ClusterEvent): Promise<void> {
    await this.redis.publish(this.eventsChannel, JSON.stringify(e));
  }

  onEvent(handler: (e: ClusterEvent) => void): void {
    this.eventHandlers.add(handler);
  }

  async close(): Promise<void> {
    this.eventHandlers.clear();
    this.chatHandlers.clear();
    await Promise.allSettled([this.redis.quit(), this.sub.quit()]);
  }
}
