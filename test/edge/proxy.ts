// A counting HTTP proxy placed between an edge and the origin: it records every request per path and
// the FLV connections, so tests assert exactly what the origin was asked for. kill() drops it abruptly.
import http from 'node:http';
import type { AddressInfo, Socket } from 'node:net';

export interface CountingProxy {
  readonly url: string;
  readonly counts: Map<string, number>;
  count(path: string): number;
  /** Requests per request target, query included (LL-HLS directives name playlist versions). */
  readonly targets: Map<string, number>;
  /** Requests for `path` whose Via header was exactly `via` (e.g. '1.1 edge-1'): who asked. */
  countVia(path: string, via: string): number;
  /** HTTP-FLV connections opened through the proxy so far, and currently open. */
  readonly flv: { opened: number; open: number };
  /** Destroys every connection at once (a crashed upstream) and stops listening. */
  kill(): Promise<void>;
}

export async function startCountingProxy(target: string): Promise<CountingProxy> {
  const counts = new Map<string, number>();
  const targets = new Map<string, number>();
  const byVia = new Map<string, number>();
  const flv = { opened: 0, open: 0 };
  const sockets = new Set<Socket>();
  const agent = new http.Agent({ keepAlive: true });
  const server = http.createServer((req, res) => {
    const path = (req.url ?? '/').split('?')[0] ?? '/';
    counts.set(path, (counts.get(path) ?? 0) + 1);
    targets.set(req.url ?? '/', (targets.get(req.url ?? '/') ?? 0) + 1);
    const viaKey = `${path} ${String(req.headers.via ?? '')}`;
    byVia.set(viaKey, (byVia.get(viaKey) ?? 0) + 1);
    const isFlv = path.endsWith('.flv');
    const up = http.request(target + (req.url ?? '/'), { method: req.method, headers: req.headers, agent }, (ures) => {
      if (isFlv && ures.statusCode === 200) {
        flv.opened++;
        flv.open++;
        res.once('close', () => flv.open--);
      }
      res.writeHead(ures.statusCode ?? 502, ures.headers);
      ures.pipe(res);
      ures.on('error', () => res.destroy());
    });
    up.on('error', () => {
      if (!res.headersSent) res.writeHead(502);
      res.end();
    });
    res.once('close', () => up.destroy());
    req.pipe(up);
  });
  server.on('connection', (s: Socket) => {
    sockets.add(s);
    s.once('close', () => sockets.delete(s));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  let killed: Promise<void> | undefined;
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    counts,
    count: (p) => counts.get(p) ?? 0,
    targets,
    countVia: (path, via) => byVia.get(`${path} ${via}`) ?? 0,
    flv,
    kill: () =>
      (killed ??= new Promise<void>((resolve) => {
        server.close(() => resolve());
        for (const s of sockets) s.destroy();
        agent.destroy();
      })),
  };
}
