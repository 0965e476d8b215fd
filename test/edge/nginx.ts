// Runs Debian's nginx with nginx/edge.conf.template, non-root style: its own prefix directory (pid,
// temp paths, cache, error log), `daemon off` as a child process, on a free 127.0.0.1 port.
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort } from '../helpers/net.js';

export const NGINX = process.env.NGINX_PATH ?? '/usr/sbin/nginx';

export interface RunningNginx {
  readonly base: string;
  readonly port: number;
  readonly prefix: string;
  readonly pid: number;
  errorLog(): Promise<string>;
  stop(): Promise<void>;
}

/** A prefix directory with the substituted configuration, and the nginx arguments to run it in the foreground. */
export async function prepareNginx(
  upstream: string,
  port: number,
  opts: { cacheSize?: string; workers?: number } = {},
): Promise<{ prefix: string; args: string[] }> {
  const prefix = await mkdtemp(join(tmpdir(), 'livecdn-nginx-'));
  for (const d of ['logs', 'temp', 'cache']) await mkdir(join(prefix, d));
  const template = await readFile(new URL('../../nginx/edge.conf.template', import.meta.url), 'utf8');
  let conf = template
    .replaceAll('${LIVECDN_UPSTREAM}', upstream)
    .replaceAll('${LIVECDN_LISTEN}', `127.0.0.1:${port}`)
    .replaceAll('${LIVECDN_CACHE_SIZE}', opts.cacheSize ?? '256m');
  if (opts.workers !== undefined) conf = conf.replace('worker_processes auto;', `worker_processes ${opts.workers};`);
  await writeFile(join(prefix, 'nginx.conf'), conf);
  // As root, workers would drop to "nobody", who cannot write the private prefix: keep them as root.
  const globals = 'daemon off;' + (process.getuid?.() === 0 ? ' user root;' : '');
  return { prefix, args: ['-p', prefix, '-c', join(prefix, 'nginx.conf'), '-e', 'logs/error.log', '-g', globals] };
}

/** `upstream` is host:port of the origin (or edge) HTTP port. */
export async function startNginx(upstream: string, opts: { cacheSize?: string; workers?: number } = {}): Promise<RunningNginx> {
  const port = await freePort();
  const { prefix, args } = await prepareNginx(upstream, port, opts);
  const child: ChildProcess = spawn(NGINX, args, { stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  child.stderr?.on('data', (b: Buffer) => (stderr += b.toString()));
  const exited = new Promise<void>((r) => child.once('exit', () => r()));
  const base = `http://127.0.0.1:${port}`;
  const errorLog = async (): Promise<string> => (await readFile(join(prefix, 'logs', 'error.log'), 'utf8').catch(() => '')) + stderr;
  const stop = async (): Promise<void> => {
    if (child.exitCode === null && child.signalCode === null) {
      child.kill('SIGQUIT'); // graceful shutdown
      const t = setTimeout(() => child.kill('SIGKILL'), 3000);
      await exited;
      clearTimeout(t);
    }
    await rm(prefix, { recursive: true, force: true });
  };
  // Ready once it accepts connections.
  const deadline = Date.now() + 10_000;
  for (;;) {
    if (child.exitCode !== null) {
      const log = await errorLog();
      await stop();
      throw new Error(`nginx exited at start: ${log}`);
    }
    const ok = await new Promise<boolean>((r) => {
      const s = net.connect(port, '127.0.0.1', () => {
        s.destroy();
        r(true);
      });
      s.on('error', () => r(false));
    });
    if (ok) break;
    if (Date.now() > deadline) {
      await stop();
      throw new Error(`nginx did not listen within 10 s: ${await errorLog()}`);
    }
    await new Promise((r) => setTimeout(r, 50));
  }
  return { base, port, prefix, pid: child.pid ?? 0, errorLog, stop };
}
