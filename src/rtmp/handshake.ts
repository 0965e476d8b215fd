// RTMP handshake as pure state machines fed bytes. Simple handshake (C1/S1 with zero version, echoes)
// and the digest handshake of Flash Player / FMS (HMAC-SHA256 with the well-known Genuine Adobe keys),
// which FFmpeg validates when it plays and some Flash-era clients require.
import { createHmac, randomBytes } from 'node:crypto';
import { RtmpProtocolError } from './errors.js';

export const HANDSHAKE_SIZE = 1536;
export const RTMP_VERSION = 3;

const KEY_TAIL = Buffer.from('F0EEC24A8068BEE82E00D0D1029E7E576EEC5D2D29806FAB93B8E636CFEB31AE', 'hex');
/** Genuine Adobe Flash Player 001 + tail: the client's key (62 bytes; the first 30 sign C1). */
export const FP_KEY = Buffer.concat([Buffer.from('Genuine Adobe Flash Player 001', 'latin1'), KEY_TAIL]);
/** Genuine Adobe Flash Media Server 001 + tail: the server's key (68 bytes; the first 36 sign S1). */
export const FMS_KEY = Buffer.concat([Buffer.from('Genuine Adobe Flash Media Server 001', 'latin1'), KEY_TAIL]);
const FP_KEY_PART = FP_KEY.subarray(0, 30);
const FMS_KEY_PART = FMS_KEY.subarray(0, 36);

/** Server version advertised in a digest S1 (FMS 3.5 style; FFmpeg checks only that byte 0 is >= 3). */
const SERVER_VERSION = 0x04050001;
/** Client version sent in a digest C1, as FFmpeg (9.0.124.2). */
const CLIENT_VERSION = 0x09007c02;

/**
 * Schema 0: key block first, digest in the second half (offset from bytes 772..775).
 * Schema 1: digest in the first half (offset from bytes 8..11), as FFmpeg and Flash Player 10+ send.
 */
export type DigestSchema = 0 | 1;

export function digestOffset(packet: Buffer, schema: DigestSchema): number {
  const base = schema === 0 ? 772 : 8;
  const sum = packet[base]! + packet[base + 1]! + packet[base + 2]! + packet[base + 3]!;
  return (sum % 728) + base + 4;
}

const hmac = (key: Buffer, ...data: Buffer[]): Buffer => {
  const h = createHmac('sha256', key);
  for (const d of data) h.update(d);
  return h.digest();
};

/** HMAC over the packet without the 32 digest bytes at `pos`. */
function packetDigest(packet: Buffer, pos: number, key: Buffer): Buffer {
  return hmac(key, packet.subarray(0, pos), packet.subarray(pos + 32));
}

/** Returns the digest position if the packet carries a valid digest under `schema` and `key`. */
export function findDigest(packet: Buffer, key: Buffer, schema: DigestSchema): number | undefined {
  const pos = digestOffset(packet, schema);
  const want = packetDigest(packet, pos, key);
  return want.equals(packet.subarray(pos, pos + 32)) ? pos : undefined;
}

/** Writes a valid digest into a 1536-byte packet (in place) and returns its position. */
export function imprintDigest(packet: Buffer, key: Buffer, schema: DigestSchema): number {
  const pos = digestOffset(packet, schema);
  packetDigest(packet, pos, key).copy(packet, pos);
  return pos;
}

/** The last 32 bytes of an S2 (or C2) answering a peer digest: HMAC(HMAC(fullKey, peerDigest), body). */
export function signResponse(packet: Buffer, peerDigest: Buffer, fullKey: Buffer): void {
  const key = hmac(fullKey, peerDigest);
  hmac(key, packet.subarray(0, HANDSHAKE_SIZE - 32)).copy(packet, HANDSHAKE_SIZE - 32);
}

export function verifyResponse(packet: Buffer, ownDigest: Buffer, fullKey: Buffer): boolean {
  const key = hmac(fullKey, ownDigest);
  return hmac(key, packet.subarray(0, HANDSHAKE_SIZE - 32)).equals(packet.subarray(HANDSHAKE_SIZE - 32));
}

function packetHeader(time: number, version: number, random: (n: number) => Buffer): Buffer {
  const p = random(HANDSHAKE_SIZE);
  p.writeUInt32BE(time >>> 0, 0);
  p.writeUInt32BE(version >>> 0, 4);
  return p;
}

export interface HandshakeStep {
  /** Bytes to send to the peer, if any. */
  readonly output?: Buffer;
  /** True once the handshake is complete. */
  readonly done: boolean;
  /** Bytes after the handshake (the first chunks) when done. */
  readonly rest?: Buffer;
}

export interface HandshakeOptions {
  /** Injected for tests; defaults to crypto.randomBytes. */
  random?: (n: number) => Buffer;
  /** Uptime in ms written into S1/C1. */
  now?: () => number;
}

/** Server side: C0C1 -> S0S1S2, then C2. */
export class ServerHandshake {
  private buf: Buffer = Buffer.alloc(0);
  private state: 'c0c1' | 'c2' | 'done' = 'c0c1';
  /** 'simple' or the digest schema the client used; known after C1. */
  mode: 'simple' | DigestSchema | undefined;
  private readonly random: (n: number) => Buffer;
  private readonly now: () => number;

  constructor(opts: HandshakeOptions = {}) {
    this.random = opts.random ?? randomBytes;
    this.now = opts.now ?? (() => Math.floor(performance.now()));
  }

  get done(): boolean {
    return this.state === 'done';
  }

  feed(data: Buffer): HandshakeStep {
    if (this.state === 'done') return { done: true, rest: data };
    this.buf = this.buf.length ? Buffer.concat([this.buf, data]) : data;
    let output: Buffer | undefined;
    if (this.state === 'c0c1') {
      if (this.buf.length < 1 + HANDSHAKE_SIZE) return { done: false };
      const version = this.buf[0]!;
      // 6 and 8 are the encrypted RTMPE variants, which need DH/RC4 and are not supported
      if (version !== RTMP_VERSION) throw new RtmpProtocolError('handshake', `unsupported RTMP version ${version}`);
      const c1 = Buffer.from(this.buf.subarray(1, 1 + HANDSHAKE_SIZE));
      this.buf = this.buf.subarray(1 + HANDSHAKE_SIZE);
      output = this.respond(c1);
      this.state = 'c2';
    }
    if (this.buf.length < HANDSHAKE_SIZE) return { output, done: false };
    // C2 is not verified: simple clients echo S1 and digest clients sign it; neither adds security here.
    const rest = this.buf.subarray(HANDSHAKE_SIZE);
    this.buf = Buffer.alloc(0);
    this.state = 'done';
    return { output, done: true, rest };
  }

  private respond(c1: Buffer): Buffer {
    const clientVersion = c1.readUInt32BE(4);
    let schema: DigestSchema | undefined;
    let clientDigestPos: number | undefined;
    if (clientVersion !== 0) {
      for (const s of [1, 0] as const) {
        clientDigestPos = findDigest(c1, FP_KEY_PART, s);
        if (clientDigestPos !== undefined) {
          schema = s;
          break;
        }
      }
    }
    const out = Buffer.allocUnsafe(1 + 2 * HANDSHAKE_SIZE);
    out[0] = RTMP_VERSION;
    if (schema === undefined || clientDigestPos === undefined) {
      // Simple handshake: zero version in S1 tells the client not to look for a digest; S2 echoes C1.
      this.mode = 'simple';
      packetHeader(this.now(), 0, this.random).copy(out, 1);
      c1.copy(out, 1 + HANDSHAKE_SIZE);
      return out;
    }
    this.mode = schema;
    const s1 = packetHeader(this.now(), SERVER_VERSION, this.random);
    imprintDigest(s1, FMS_KEY_PART, schema);
    const s2 = this.random(HANDSHAKE_SIZE);
    signResponse(s2, c1.subarray(clientDigestPos, clientDigestPos + 32), FMS_KEY);
    s1.copy(out, 1);
    s2.copy(out, 1 + HANDSHAKE_SIZE);
    return out;
  }
}

/** Client side: sends C0C1 (digest, schema 1, as FFmpeg), takes S0S1S2, sends C2. */
export class ClientHandshake {
  private buf: Buffer = Buffer.alloc(0);
  private state: 'start' | 's0s1s2' | 'done' = 'start';
  private c1: Buffer | undefined;
  private c1DigestPos = 0;
  private readonly random: (n: number) => Buffer;
  private readonly now: () => number;
  /** Whether S1/S2 carried a valid digest answer (false for simple-handshake servers). */
  serverVerified = false;

  constructor(opts: HandshakeOptions & { digest?: boolean } = {}) {
    this.random = opts.random ?? randomBytes;
    this.now = opts.now ?? (() => Math.floor(performance.now()));
    this.digest = opts.digest ?? true;
  }
  private readonly digest: boolean;

  /** C0C1, to send first. */
  start(): Buffer {
    const c1 = packetHeader(this.now(), this.digest ? CLIENT_VERSION : 0, this.random);
    if (this.digest) this.c1DigestPos = imprintDigest(c1, FP_KEY_PART, 1);
    this.c1 = c1;
    this.state = 's0s1s2';
    return Buffer.concat([Buffer.from([RTMP_VERSION]), c1]);
  }

  get done(): boolean {
    return this.state === 'done';
  }

  feed(data: Buffer): HandshakeStep {
    if (this.state === 'done') return { done: true, rest: data };
    if (this.state === 'start' || !this.c1) throw new Error('ClientHandshake.start() first');
    this.buf = this.buf.length ? Buffer.concat([this.buf, data]) : data;
    const total = 1 + 2 * HANDSHAKE_SIZE;
    if (this.buf.length < total) return { done: false };
    if (this.buf[0] !== RTMP_VERSION) throw new RtmpProtocolError('handshake', `server answered version ${this.buf[0]}`);
    const s1 = Buffer.from(this.buf.subarray(1, 1 + HANDSHAKE_SIZE));
    const s2 = this.buf.subarray(1 + HANDSHAKE_SIZE, total);
    const rest = this.buf.subarray(total);
    this.buf = Buffer.alloc(0);
    this.state = 'done';
    let c2: Buffer = s1; // simple handshake: echo S1
    if (this.digest && s1.readUInt32BE(4) !== 0) {
      const pos = findDigest(s1, FMS_KEY_PART, 0) ?? findDigest(s1, FMS_KEY_PART, 1);
      if (pos !== undefined) {
        const ownDigest = this.c1.subarray(this.c1DigestPos, this.c1DigestPos + 32);
        this.serverVerified = verifyResponse(s2, ownDigest, FMS_KEY);
        c2 = this.random(HANDSHAKE_SIZE);
        signResponse(c2, s1.subarray(pos, pos + 32), FP_KEY);
      }
    }
    return { output: c2, done: true, rest };
  }
}
