// Helpers for the signal tests: a throwaway redis-server, JSON requests, chat clients.
import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import WebSocket from 'ws';
import { adminToken, deriveKeys } from '../../src/shared/keys.js';
import type { ClusterKeys } from '../../src/shared/keys.js';
import { SIGNATURE_HEADER, signRequest } from '../../src/shared/signed-request.js';
import { freePort } from '../helpers/net.js';
import { sleep } from '../helpers/wait.js';

/** The keys of the signal tests' cluster. */
export const TEST_KEYS: ClusterKeys = deriveKeys('signal-tests-root-secret-0123456789abcdef');

/** `Authorization: Bearer <admin token>` of `keys`. */
export const admin = (keys: ClusterKeys = TEST_KEYS): Record<string, string> => ({ authorization: `Bearer ${adminToken(keys)}` });

export interface RedisServer {
  readonly url: string;
  stop(): Promise<void>;
}

/** A redis-server on `port` (default: a free one), no persistence; stop() kills it. */
export async function startRedis(port?: number): Promise<RedisServer> {
  port ??= await freePort();
  const child: ChildProcess = spawn('redis-server', ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const exited = new Promise<void>((resolve) => {
    child.once('exit', () => resolve());
    child.once('error', () => resolve());
  });
  const stop = async (): Promise<void> => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    await exited;
  };
  try {
    await new Promise<void>((resolve, reject) => {
      let out = '';
      const timer = setTimeout(() => reject(new Error(`redis-server did not start: ${out}`)), 10_000);
      child.stdout?.on('data', (b: Buffer) => {
        out += b.toString();
        if (out.includes('Ready to accept connections')) {
          clearTimeout(timer);
          resolve();
        }
      });
      child.once('exit', (code) => {
        clearTimeout(timer);
        reject(new Error(`redis-server exited with ${code}: ${out}`));
      });
      child.once('error', (err) => {
        clearTimeout(timer);
        reject(err);
      });
    });
  } catch (err) {
    await stop();
    throw err;
  }
  return { url: `redis://127.0.0.1:${port}`, stop };
}

export interface JsonResponse {
  readonly status: number;
  readonly body: Record<string, unknown>;
  readonly headers: Headers;
}

export async function req(base: string, method: string, path: string, body?: unknown, headers: Record<string, string> = {}): Promise<JsonResponse> {
  const res = await fetch(base + path, {
    method,
    headers: body === undefined ? headers : { 'content-type': 'application/json', ...headers },
    body: body === undefined ? undefined : typeof body === 'string' ? body : JSON.stringify(body),
  });
  const text = await res.text();
  return { status: res.status, body: text ? (JSON.parse(text) as Record<string, unknown>) : {}, headers: res.headers };
}

/** A request as a node sends it: signed with the node key over the exact body bytes (shared/signed-request.ts). */
export function nodeReq(base: string, method: string, path: string, body?: unknown, keys: ClusterKeys = TEST_KEYS): Promise<JsonResponse> {
  const text = body === undefined ? '' : JSON.stringify(body);
  return req(base, method, path, body === undefined ? undefined : text, { [SIGNATURE_HEADER]: signRequest(keys.node, method, path, text) });
}

export const edge = (id: string, region: string, capacity = 1000, port = 8080) => ({
  id,
  kind: 'edge' as const,
  region,
  publicUrl: `http://${id}.test:${port}`,
  capacity,
});

export const load = (viewers: number, streams: string[] = [], publishers = 0) => ({ viewers, publishers, egressBps: 0, cpu: 0, streams });


/** Polls until `check` returns true; false if it never did within timeoutMs. */
export async function eventually(check: () => Promise<boolean>, timeoutMs = 2000): Promise<boolean> {
  const end = Date.now() + timeoutMs;
  for (;;) {
    if (await check()) return true;
    if (Date.now() > end) return false;
    await sleep(25);
  }
}

export interface ChatFrame {
  type: string;
  [k: string]: unknown;
}

/** A chat client that records every frame with its arrival time. */
export class ChatClient {
  readonly frames: Array<{ at: number; frame: ChatFrame }> = [];
  readonly ws: WebSocket;
  readonly closed: Promise<{ code: number; reason: string }>;
  private waiters: Array<() => void> = [];

  constructor(url: string, localAddress?: string) {
    this.ws = new WebSocket(url, localAddress ? { localAddress } : {});
    this.ws.on('message', (data) => {
      this.frames.push({ at: Date.now(), frame: JSON.parse(data.toString()) as ChatFrame });
      for (const w of this.waiters) w();
    });
    this.ws.on('error', () => {});
    this.closed = new Promise((resolve) => this.ws.once('close', (code, reason) => resolve({ code, reason: reason.toString() })));
  }

  static async join(url: string, localAddress?: string): Promise<ChatClient> {
    const c = new ChatClient(url, localAddress);
    await c.waitFor((f) => f.type === 'joined', 5000);
    return c;
  }

  send(text: string): void {
    this.ws.send(JSON.stringify({ type: 'msg', text }));
  }

  /** Resolves with the first frame (past or future) matching; rejects after timeoutMs. */
  waitFor(pred: (f: ChatFrame) => boolean, timeoutMs = 5000): Promise<ChatFrame> {
    return new Promise((resolve, reject) => {
      const check = (): boolean => {
        const hit = this.frames.find((x) => pred(x.frame));
        if (hit) {
          clearTimeout(timer);
          this.waiters = this.waiters.filter((w) => w !== check);
          resolve(hit.frame);
          return true;
        }
        return false;
      };
      const timer = setTimeout(() => {
        this.waiters = this.waiters.filter((w) => w !== check);
        reject(new Error(`timed out waiting for a frame; got ${JSON.stringify(this.frames.slice(-5).map((f) => f.frame))}`));
      }, timeoutMs);
      if (!check()) this.waiters.push(check);
    });
  }

  messages(): Array<{ at: number; frame: ChatFrame }> {
    return this.frames.filter((f) => f.frame.type === 'msg');
  }

  close(): void {
    this.ws.terminate();
  }
}

/** Rejects when a WebSocket upgrade is refused, with the HTTP status. */
export function upgradeStatus(url: string, localAddress?: string, headers?: Record<string, string>): Promise<number> {
  return new Promise((resolve) => {
    const ws = new WebSocket(url, { ...(localAddress ? { localAddress } : {}), ...(headers ? { headers } : {}) });
    ws.on('unexpected-response', (_req, res) => {
      resolve(res.statusCode ?? 0);
      ws.terminate();
    });
    ws.on('open', () => {
      resolve(101);
      ws.terminate();
    });
    ws.on('error', () => resolve(0));
  });
}
