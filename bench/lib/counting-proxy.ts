// A TCP relay in front of a server that counts the HTTP/1.x requests passing through it, by kind: the
// requests a server (the origin) receives, seen at its door rather than as its client reports them.
// Bytes are relayed untouched; only the request lines of the client's side are read.
import net from 'node:net';
import type { AddressInfo } from 'node:net';

export interface CountingProxy {
  /** http://127.0.0.1:PORT, to give the client instead of the server's URL. */
  readonly url: string;
  /** Requests seen so far per kind (as `classify` named them). */
  counts(): Map<string, number>;
  close(): Promise<void>;
}

const REQUEST_LINE = /^[A-Z]{3,7} (\S+) HTTP\/1\.[01]$/;
/** A request line longer than this is not one we could miss; the carry never grows past it. */
const MAX_LINE = 16 * 1024;

/** Relays 127.0.0.1:(free port) to `target` (host:port), counting request lines by `classify(path)`. */
export async function startCountingProxy(target: string, classify: (path: string) => string): Promise<CountingProxy> {
  const [host = '127.0.0.1', port = '80'] = target.split(':');
  const counts = new Map<string, number>();
  const sockets = new Set<net.Socket>();
  const server = net.createServer((client) => {
    const upstream = net.connect({ host, port: Number(port), noDelay: true });
    client.setNoDelay(true);
    sockets.add(client).add(upstream);
    let carry = '';
    client.on('data', (chunk: Buffer) => {
      const lines = (carry + chunk.toString('latin1')).split('\r\n');
      carry = (lines.pop() ?? '').slice(-MAX_LINE);
      for (const line of lines) {
        const m = REQUEST_LINE.exec(line);
        if (m) {
          const kind = classify(m[1] ?? '');
          counts.set(kind, (counts.get(kind) ?? 0) + 1);
        }
      }
    });
    client.pipe(upstream);
    upstream.pipe(client);
    const done = (): void => {
      client.destroy();
      upstream.destroy();
      sockets.delete(client);
      sockets.delete(upstream);
    };
    for (const s of [client, upstream]) {
      s.on('error', done);
      s.on('close', done);
    }
  });
  await new Promise<void>((ok) => server.listen(0, '127.0.0.1', ok));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    counts: () => new Map(counts),
    close: () =>
      new Promise<void>((ok) => {
        for (const s of sockets) s.destroy();
        server.close(() => ok());
      }),
  };
}
