// Stream records, publish tokens, revocation and the publish/play/done hook decisions.
import { randomBytes } from 'node:crypto';
import { signPlayToken, signPublishToken, verifyPlayToken, verifyPublishToken } from '../shared/token.js';
import { streamKey } from '../shared/url-contract.js';
import type { HookBody } from './schemas.js';
import type { RegistryStore } from './store.js';
import { streamId } from './types.js';
import type { Revocation, StreamRecord } from './types.js';

export interface StreamPolicy {
  /** Publish token key (keys.publish); without it (--insecure) publishes need no token (revocations still ban a name). */
  readonly publishKey: Buffer | undefined;
  /** Play token key (keys.play); play tokens need it. */
  readonly playKey: Buffer | undefined;
  readonly publishTokenTtlSec: number;
  readonly maxPublishTokenTtlSec: number;
  /** Sign play tokens into play URLs and require them in on_play. */
  readonly playTokens: boolean;
  readonly playTokenTtlSec: number;
}

export type HookDecision = { ok: true } | { ok: false; code: string; message: string };

const REFUSALS: Record<string, string> = {
  missing: 'a token is required: publish to the URL POST /api/streams returned (…?token=…)',
  malformed: 'the token is malformed: expected <expSec>.<mac>',
  expired: 'the token has expired: ask POST /api/streams for a new one',
  forged: 'the token was not signed for this stream with this service\'s secret',
};

const sec = (ms: number): number => Math.floor(ms / 1000);

/** A random stream name: 12 base64url characters (72 bits), valid by the name pattern. */
export const randomStreamName = (): string => randomBytes(9).toString('base64url');

export class StreamService {
  constructor(
    private readonly store: RegistryStore,
    private readonly policy: StreamPolicy,
  ) {}

  /** Creates the record (or refreshes it) and signs a publish token when a secret is set. */
  async create(app: string, name: string | undefined, ttlSec: number | undefined, nowMs: number): Promise<{ rec: StreamRecord; token: string | undefined }> {
    const stream = name ?? randomStreamName();
    const nowS = sec(nowMs);
    const ttl = Math.min(ttlSec ?? this.policy.publishTokenTtlSec, this.policy.maxPublishTokenTtlSec);
    // A token issued after a revocation must outlive it, or the revocation would refuse it too.
    const rev = await this.store.getRevocation(app, stream, nowS);
    const expSec = Math.max(nowS + ttl, rev ? rev.untilExp + 1 : 0);
    const prev = await this.store.getStream(streamId(app, stream));
    const rec: StreamRecord = prev
      ? { ...prev, tokenExp: Math.max(prev.tokenExp ?? 0, expSec) }
      : { id: streamId(app, stream), app, stream, createdAt: nowMs, tokenExp: expSec, live: false, publisher: null, lastEvent: null };
    await this.store.putStream(rec);
    const token = this.policy.publishKey === undefined ? undefined : signPublishToken({ app, stream, expSec }, this.policy.publishKey);
    return { rec, token };
  }

  playToken(app: string, stream: string, nowMs: number): string | undefined {
    if (!this.policy.playTokens || this.policy.playKey === undefined) return undefined;
    return signPlayToken({ app, stream, expSec: sec(nowMs) + this.policy.playTokenTtlSec }, this.policy.playKey);
  }

  async onPublish(h: HookBody, nowMs: number): Promise<HookDecision> {
    const nowS = sec(nowMs);
    const token = h.query.token;
    let tokenExp: number | null = null;
    if (this.policy.publishKey !== undefined) {
      const check = verifyPublishToken(token, h, this.policy.publishKey, nowS);
      if (!check.ok) return { ok: false, code: check.reason, message: REFUSALS[check.reason] as string };
      tokenExp = check.expSec;
    }
    const rev = await this.store.getRevocation(h.app, h.stream, nowS);
    if (rev && (tokenExp === null || tokenExp <= rev.untilExp)) {
      return { ok: false, code: 'revoked', message: `stream ${streamKey(h.app, h.stream)} was revoked; ask POST /api/streams for a new token` };
    }
    const id = streamId(h.app, h.stream);
    const prev = await this.store.getStream(id);
    await this.store.putStream({
      id,
      app: h.app,
      stream: h.stream,
      createdAt: prev?.createdAt ?? nowMs,
      tokenExp: Math.max(prev?.tokenExp ?? 0, tokenExp ?? 0) || null,
      live: true,
      publisher: {
        clientId: String(h.clientId ?? ''),
        remoteAddress: h.remoteAddress ?? '',
        since: nowMs,
        ...(h.nodeId ? { nodeId: h.nodeId } : {}),
      },
      lastEvent: nowMs,
    });
    return { ok: true };
  }

  onPlay(h: HookBody, nowMs: number): HookDecision {
    if (!this.policy.playTokens || this.policy.playKey === undefined) return { ok: true };
    const check = verifyPlayToken(h.query.token, h, this.policy.playKey, sec(nowMs));
    if (!check.ok) return { ok: false, code: check.reason, message: `play token ${check.reason}` };
    return { ok: true };
  }

  /** Publisher gone (or a player, which changes nothing here: viewer counts come from heartbeats). */
  async onDone(h: HookBody, nowMs: number): Promise<void> {
    const action = h.action ?? 'done';
    if (action === 'play_done' || action === 'stop' || action === 'play' || h.role === 'play') return;
    const prev = await this.store.getStream(streamId(h.app, h.stream));
    if (!prev || !prev.live) return;
    // A late done of a replaced publisher must not end the new one.
    if (h.clientId !== undefined && prev.publisher && prev.publisher.clientId !== '' && prev.publisher.clientId !== String(h.clientId)) return;
    await this.store.putStream({ ...prev, live: false, publisher: null, lastEvent: nowMs });
  }

  /** Refuses every token issued so far for app/stream and forgets the record. */
  async revoke(app: string, stream: string, nowMs: number): Promise<Revocation> {
    const prev = await this.store.getStream(streamId(app, stream));
    const nowS = sec(nowMs);
    // Tokens we never saw (signed elsewhere with the publish key) are covered up to one default lifetime.
    const untilExp = Math.max(prev?.tokenExp ?? 0, nowS + this.policy.publishTokenTtlSec);
    const r: Revocation = { app, stream, untilExp, at: nowMs };
    await this.store.revoke(r);
    await this.store.deleteStream(streamId(app, stream));
    await this.store.publishEvent({ type: 'revoked', app, stream });
    return r;
  }
}
