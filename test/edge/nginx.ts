// Runs Debian's nginx with nginx/edge.conf.template or nginx/ingest.conf.template, non-root style: its own
// prefix directory (pid, temp paths, cache, error log), `daemon off` as a child process, on a free
// 127.0.0.1 port.
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdir, mkdtemp, readFile, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort } from '../helpers/net.js';

export const NGINX = process.env.NGINX_PATH ?? '/usr/sbin/nginx';

export interface NginxProcess {
  readonly port: number;
  readonly prefix: string;
  readonly pid: number;
  errorLog(): Promise<string>;
  stop(): Promise<void>;
}

export interface RunningNginx extends NginxProcess {
  readonly base: string;
}

/** nginx's arguments to run `prefix`/nginx.conf in the foreground, its paths relative to the prefix. */
function nginxArgs(prefix: string): string[] {
  // As root, workers would drop to "nobody", who cannot write the private prefix: keep them as root.
  const globals = 'daemon off;' + (process.getuid?.() === 0 ? ' user root;' : '');
  return ['-p', prefix, '-c', join(prefix, 'nginx.conf'), '-e', 'logs/error.log', '-g', globals];
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
  return { prefix, args: nginxArgs(prefix) };
}

/** `upstream` is host:port of the origin (or edge) HTTP port. */
export async function startNginx(upstream: string, opts: { cacheSize?: string; workers?: number } = {}): Promise<RunningNginx> {
  const port = await freePort();
  const { prefix, args } = await prepareNginx(upstream, port, opts);
  return { ...(await runNginx(prefix, args, port)), base: `http://127.0.0.1:${port}` };
}

/** The envsubst variables of nginx/ingest.conf.template, as nginx/README.md lists them. */
export const INGEST_VARIABLES = ['LIVECDN_INGEST_LISTEN', 'LIVECDN_ORIGIN_A', 'LIVECDN_ORIGIN_B'] as const;

/**
 * nginx/ingest.conf.template rendered the way nginx/README.md says (envsubst of its variables only, the
 * prefix's `modules` linked to Debian's module folder), listening on 127.0.0.1:`port` in front of two
 * origins' RTMP ports (host:port).
 */
export async function prepareIngestNginx(origins: readonly [string, string], port: number): Promise<{ prefix: string; args: string[] }> {
  const prefix = await mkdtemp(join(tmpdir(), 'livecdn-ingest-'));
  await mkdir(join(prefix, 'logs'));
  await symlink(NGINX_MODULES, join(prefix, 'modules'));
  const values: Record<(typeof INGEST_VARIABLES)[number], string> = {
    LIVECDN_INGEST_LISTEN: `127.0.0.1:${port}`,
    LIVECDN_ORIGIN_A: origins[0],
    LIVECDN_ORIGIN_B: origins[1],
  };
  const conf = await envsubst(
    await readFile(new URL('../../nginx/ingest.conf.template', import.meta.url), 'utf8'),
    INGEST_VARIABLES.map((v) => `\${${v}}`).join(' '),
    values,
  );
  await writeFile(join(prefix, 'nginx.conf'), conf);
  return { prefix, args: nginxArgs(prefix) };
}

/** The ingest front (nginx stream module) on `port` (default: a free one); `rtmpBase` is rtmp://127.0.0.1:PORT. */
export async function startIngestNginx(origins: readonly [string, string], port?: number): Promise<NginxProcess & { readonly rtmpBase: string }> {
  port ??= await freePort();
  const { prefix, args } = await prepareIngestNginx(origins, port);
  return { ...(await runNginx(prefix, args, port)), rtmpBase: `rtmp://127.0.0.1:${port}` };
}

/** Debian's folder of dynamic modules (libnginx-mod-stream, libnginx-mod-rtmp). */
export const NGINX_MODULES = process.env.NGINX_MODULES ?? '/usr/lib/nginx/modules';

/** GNU envsubst (gettext-base), the tool nginx/README.md renders the templates with. */
function envsubst(template: string, shellFormat: string, values: Record<string, string>): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = spawn('envsubst', [shellFormat], { env: { ...process.env, ...values }, stdio: ['pipe', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    child.stdout.on('data', (b: Buffer) => (out += b.toString()));
    child.stderr.on('data', (b: Buffer) => (err += b.toString()));
    child.on('error', reject);
    child.on('close', (code) => (code === 0 ? resolve(out) : reject(new Error(`envsubst exited ${String(code)}: ${err}`))));
    child.stdin.end(template);
  });
}

/** Runs a prepared prefix in the foreground; resolves once nginx listens on `port`. */
export async function runNginx(prefix: string, args: readonly string[], port: number): Promise<NginxProcess> {
  const child: ChildProcess = spawn(NGINX, args, { stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  child.stderr?.on('data', (b: Buffer) => (stderr += b.toString()));
  const exited = new Promise<void>((r) => child.once('exit', () => r()));
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
  // Ready once it wrote its pid file, which nginx does after opening its listening sockets. (A probe
  // connection would do too, but an ingest front would pass it on to an origin, or count a failure of one.)
  const deadline = Date.now() + 10_000;
  for (;;) {
    if (child.exitCode !== null) {
      const log = await errorLog();
      await stop();
      throw new Error(`nginx exited at start: ${log}`);
    }
    const pid = await readFile(join(prefix, 'logs', 'nginx.pid'), 'utf8').catch(() => '');
    if (pid.trim() === String(child.pid)) break;
    if (Date.now() > deadline) {
      await stop();
      throw new Error(`nginx did not listen within 10 s: ${await errorLog()}`);
    }
    await new Promise((r) => setTimeout(r, 50));
  }
  return { port, prefix, pid: child.pid ?? 0, errorLog, stop };
}
