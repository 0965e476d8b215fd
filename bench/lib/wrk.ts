// wrk (https://github.com/wg/wrk) with a Lua script: a request function of our own (random paths) and a
// done() hook that prints the run's figures as one JSON line, which parseWrkJson reads.
import { execFile, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import { join } from 'node:path';

export interface WrkResult {
  /** Requests per second over the run. */
  rps: number;
  /** Latency percentiles and maximum, ms. */
  p50: number;
  p99: number;
  max: number;
  /** Socket errors (connect, read, write, timeout). */
  errors: number;
  /** Answers with a status >= 400. */
  non2xx: number;
  /** e.g. "wrk -c32". */
  tool: string;
}

const hasWrk = (): boolean => !spawnSync('wrk', ['--version']).error;

/** The Lua done() hook printing `JSON {...}` (latencies in wrk's µs turned into ms). */
const DONE_HOOK = `done = function(summary, latency, requests)
  io.write(string.format("JSON {\\"rps\\":%f,\\"p50\\":%f,\\"p99\\":%f,\\"max\\":%f,\\"errors\\":%d,\\"non2xx\\":%d}\\n",
    summary.requests / (summary.duration / 1e6), latency:percentile(50) / 1000, latency:percentile(99) / 1000, latency.max / 1000,
    summary.errors.connect + summary.errors.read + summary.errors.write + summary.errors.timeout, summary.errors.status))
end
`;

/** The figures of the `JSON {...}` line the done() hook printed; undefined when there is none. */
export function parseWrkJson(stdout: string): Omit<WrkResult, 'tool'> | undefined {
  const line = stdout.split('\n').find((l) => l.startsWith('JSON '));
  if (!line) return undefined;
  const o = JSON.parse(line.slice(5)) as Record<string, unknown>;
  const n = (k: string): number => (typeof o[k] === 'number' ? o[k] : NaN);
  return { rps: n('rps'), p50: n('p50'), p99: n('p99'), max: n('max'), errors: n('errors'), non2xx: n('non2xx') };
}

export interface WrkOptions {
  /** Base URL, e.g. http://127.0.0.1:8090/ */
  url: string;
  /** Lua run once before the request function (e.g. `local names = {...}` tables it reads). */
  prelude?: string;
  /** Body of the Lua request() function, e.g. `return wrk.format("GET", "/x/" .. math.random(1, 9))`. */
  request: string;
  connections: number;
  seconds: number;
  /** Extra request headers, "Name: value". */
  headers?: readonly string[];
  /** Command prefix that runs wrk pinned (e.g. ['nice', '-n', '-15', 'taskset', '-c', '1']); none: not pinned. */
  prefix?: readonly string[];
}

/**
 * One wrk run (one thread); undefined when wrk is not installed; throws when wrk printed no figures. Does
 * not block the event loop: the caller may keep other load going meanwhile.
 */
export async function runWrk(o: WrkOptions): Promise<WrkResult | undefined> {
  if (!hasWrk()) return undefined;
  const dir = mkdtempSync(join(os.tmpdir(), 'livecdn-wrk-'));
  try {
    const script = join(dir, 'load.lua');
    writeFileSync(script, `${o.prelude ?? ''}\nrequest = function()\n  ${o.request}\nend\n${DONE_HOOK}`);
    const args = ['-t1', `-c${o.connections}`, `-d${o.seconds}s`, '-s', script, ...(o.headers ?? []).flatMap((h) => ['-H', h]), o.url];
    const [cmd = 'wrk', ...rest] = [...(o.prefix ?? []), 'wrk', ...args];
    const out = await new Promise<{ stdout: string; stderr: string }>((resolve) => {
      execFile(cmd, rest, { encoding: 'utf8', maxBuffer: 1 << 20 }, (_err, stdout, stderr) => resolve({ stdout, stderr }));
    });
    const r = parseWrkJson(out.stdout);
    if (!r) throw new Error(`wrk failed: ${out.stderr || out.stdout}`);
    return { ...r, tool: `wrk -c${o.connections}` };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
