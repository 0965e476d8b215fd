// The chat service's parsing of client input: the upgrade path (room id), and message frames handled by
// a ChatHub with an in-memory store. Neither may throw: both run inside socket callbacks.
import fc from 'fast-check';
import pino from 'pino';
import { ChatHub, defaultChatLimits } from '../../src/signal/chat.js';
import { MemoryStore } from '../../src/signal/memory-store.js';
import { SignalMetrics } from '../../src/signal/metrics.js';
import type { FuzzTarget } from '../harness.js';
import { text } from './util.js';

type OnMessage = (room: unknown, member: unknown, data: Buffer, isBinary: boolean) => void;

let hub: { hub: ChatHub; room: unknown; member: () => unknown } | undefined;

/**
 * One hub for the whole run (it owns a timer and a WebSocket server); its rate limits are lifted so that
 * every frame reaches the parser. The member is fresh per input.
 */
function chatHub(): NonNullable<typeof hub> {
  if (hub) return hub;
  const limits = { ...defaultChatLimits, perConnRate: 1e9, perConnBurst: 1e9, perAddrRate: 1e9, perAddrBurst: 1e9 };
  const h = new ChatHub(new MemoryStore(60_000), limits, async () => true, new SignalMetrics({ nodes: () => ({ origin: 0, edge: 0, transcoder: 0 }), chatMembers: () => 0 }), pino({ level: 'silent' }));
  const ws = { readyState: 1, OPEN: 1, bufferedAmount: 0, send: () => {}, close: () => {}, terminate: () => {} };
  const member = (): unknown => ({
    ws,
    addr: '127.0.0.1',
    name: 'fuzz',
    bucket: { take: () => true },
    strikes: 0,
    strikeStart: 0,
    mutedUntil: 0,
    dropped: 0,
    lastRateError: 0,
    alive: true,
  });
  // The frame handler is private: fail loudly (a finding on every input) if it is renamed or moved.
  if (typeof (h as unknown as { onMessage?: unknown }).onMessage !== 'function') throw new Error('ChatHub.onMessage is gone: update fuzz/targets/chat.ts');
  hub = { hub: h, room: { id: 'live.s', members: new Set(), ready: Promise.resolve(async () => {}) }, member };
  return hub;
}

export const target: FuzzTarget = {
  name: 'chat',
  description: 'ChatHub.match on the upgrade path (byte 0 odd), else a message frame through ChatHub',
  expected: [],
  maxLength: defaultChatLimits.maxFrameBytes,
  run(input) {
    if (input.length === 0) return;
    const body = input.subarray(1);
    if (input[0]! % 2 === 1) {
      ChatHub.match(new URL(`/api/streams/${body.toString('latin1').replace(/[/?#]/g, '')}/chat`, 'http://x').pathname);
      return;
    }
    const h = chatHub();
    (h.hub as unknown as { onMessage: OnMessage }).onMessage(h.room, h.member(), body, input[0]! % 4 === 2);
  },
  arbitrary: fc
    .oneof(
      fc.record({ type: fc.constantFrom('msg', 'join', 1), text: fc.oneof(fc.string({ maxLength: 600 }), fc.constant(null)) }).map((m) => [0, JSON.stringify(m)] as const),
      fc.json().map((j) => [0, j] as const),
      fc.string({ maxLength: 40 }).map((s) => [1, s] as const),
    )
    .map(([k, s]) => new Uint8Array(Buffer.concat([Buffer.from([k]), Buffer.from(s, 'utf8')]))),
  dictionary: ['{"type":"msg","text":"', '"}', '%', '%E0%A4%A', '.', '\\u0000', '__proto__'].map(text),
};
