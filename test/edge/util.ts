// Small helpers for the edge tests: a counting upstream, a plain GET, and the edge CLI in a child process.
import http from 'node:http';
import type { IncomingHttpHeaders, IncomingMessage, ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { startCli } from '../helpers/cli-process.js';
import type { CliProcess } from '../helpers/cli-process.js';
import { freePort } from '../helpers/net.js';

export interface FakeUpstream {
  readonly url: string;
  readonly port: number;
  /** Requests received per path. */
  readonly counts: Map<string, number>;
  /** Via headers received, in order. */
  readonly vias: string[];
  count(path: string): number;
  close(): Promise<void>;
}

export async function startFakeUpstream(
  handler: (req: IncomingMessage, res: ServerResponse) => void,
): Promise<FakeUpstream> {
  const counts = new Map<string, number>();
  const vias: string[] = [];
  const server = http.createServer((req, res) => {
    const path = (req.url ?? '/').split('?')[0] ?? '/';
    counts.set(path, (counts.get(path) ?? 0) + 1);
    if (typeof req.headers.via === 'string') vias.push(req.headers.via);
    handler(req, res);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as AddressInfo).port;
  return {
    url: `http://127.0.0.1:${port}`,
    port,
    counts,
    vias,
    count: (p) => counts.get(p) ?? 0,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}

export interface Fetched {
  status: number;
  headers: IncomingHttpHeaders;
  body: Buffer;
}

const agent = new http.Agent({ keepAlive: false, maxSockets: Infinity });

/** `localAddress` (e.g. 127.0.0.2) makes the request come from another loopback address: another client. */
export function get(url: string, headers: Record<string, string> = {}, method = 'GET', localAddress?: string): Promise<Fetched> {
  return new Promise((resolve, reject) => {
    const req = http.request(url, { agent, headers, method, ...(localAddress ? { localAddress } : {}) }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks) }));
      res.on('error', reject);
    });
    req.on('error', reject);
    req.end();
  });
}

export interface HookCall {
  readonly action: string;
  readonly app: string;
  readonly stream: string;
  readonly protocol?: string;
  readonly remoteAddress: string;
  readonly query: Record<string, string>;
}

export interface HookServer {
  /** The URL to configure as on_play / on_publish. */
  readonly url: string;
  readonly calls: HookCall[];
  close(): Promise<void>;
}

/** An on_play/on_publish hook: records every call and answers 200 when `allow(call)`, else 403. */
export async function startHookServer(allow: (call: HookCall) => boolean = () => true): Promise<HookServer> {
  const calls: HookCall[] = [];
  const server = http.createServer((req, res) => {
    let body = '';
    req.on('data', (b: Buffer) => (body += b.toString()));
    req.on('end', () => {
      const call = JSON.parse(body) as HookCall;
      calls.push(call);
      res.statusCode = allow(call) ? 200 : 403;
      res.end();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/hook`,
    calls,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}


/** Deterministic pseudo-random bytes, so a corrupted or reordered body cannot pass by accident. */
export function bytes(n: number, seed: number): Buffer {
  const b = Buffer.alloc(n);
  let x = seed >>> 0 || 1;
  for (let i = 0; i < n; i++) {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    b[i] = x & 0xff;
  }
  return b;
}

export interface CliEdge extends CliProcess {
  readonly base: string;
}

/** `livecdn edge ARGS --http-port P --host 127.0.0.1` in a child process, as an operator runs it. */
export async function startCliEdge(args: readonly string[], env: Record<string, string> = {}): Promise<CliEdge> {
  const port = await freePort();
  const proc = startCli('edge', [...args, '--http-port', String(port), '--host', '127.0.0.1'], env);
  return { ...proc, base: `http://127.0.0.1:${port}` };
}
