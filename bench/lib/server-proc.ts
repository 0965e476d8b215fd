// Starting servers under test pinned to a core, waiting for their ports, and reading their whole
// process tree (nginx's master + worker) for CPU and RSS.
import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { openSync, readFileSync, readdirSync, closeSync } from 'node:fs';
import net from 'node:net';
import { cpuSeconds, prioritize, rssBytes, runDelaySeconds, threadsOf } from './proc.js';
import { sleep } from '../../test/helpers/wait.js';

export interface ServerProcess {
  readonly name: string;
  readonly pid: number;
  readonly logFile: string;
  /** The pid and every descendant (read each time: nginx may respawn a worker). */
  tree(): number[];
  cpuSeconds(): number;
  /** CPU of the main process's main thread only (the event loop, for Node servers). */
  mainThreadCpuSeconds(): number;
  rssBytes(): number;
  /** CPU seconds per thread name (/proc/PID/task/TID/comm) of the main process: event loop vs GC/libuv. */
  threadCpu(): Map<string, number>;
  /** Run-queue wait of the tree's main threads, seconds (see runDelaySeconds). */
  runDelaySeconds(): number;
  /** Exit code/signal once it ended, else undefined. */
  exited(): string | undefined;
  stop(signal?: NodeJS.Signals): Promise<void>;
}

function childrenOf(pid: number): number[] {
  try {
    return readFileSync(`/proc/${pid}/task/${pid}/children`, 'utf8').trim().split(/\s+/).filter(Boolean).map(Number);
  } catch {
    // No CONFIG_PROC_CHILDREN: scan /proc for processes whose parent is pid.
    const out: number[] = [];
    for (const d of readdirSync('/proc')) {
      if (!/^\d+$/.test(d)) continue;
      try {
        const st = readFileSync(`/proc/${d}/stat`, 'utf8');
        const ppid = Number(st.slice(st.lastIndexOf(')') + 2).split(' ')[1]);
        if (ppid === pid) out.push(Number(d));
      } catch {
        // raced with its exit
      }
    }
    return out;
  }
}

export function processTree(pid: number): number[] {
  const out = [pid];
  for (let i = 0; i < out.length; i++) out.push(...childrenOf(out[i] ?? 0));
  return out;
}

export async function waitForPort(port: number, timeoutMs: number, alive: () => boolean = () => true): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const ok = await new Promise<boolean>((resolve) => {
      const s = net.connect({ host: '127.0.0.1', port });
      s.once('connect', () => {
        s.destroy();
        resolve(true);
      });
      s.once('error', () => resolve(false));
    });
    if (ok) return;
    if (!alive()) throw new Error(`process died before port ${port} opened`);
    if (Date.now() > deadline) throw new Error(`port ${port} did not open within ${timeoutMs} ms`);
    await sleep(100);
  }
}


// Servers still running: killed if the driver exits early (they run in their own sessions, so nothing
// else would end them).
const live = new Set<number>();
process.on('exit', () => {
  for (const pid of live) {
    try {
      process.kill(pid, 'SIGKILL');
    } catch {
      // already gone
    }
  }
});

export interface StartOptions {
  name: string;
  command: string;
  args: readonly string[];
  /** CPU core to pin the process (and its threads and children) to. */
  core: number;
  /**
   * Scheduling niceness (negative = higher priority; needs root, ignored otherwise). The machine is
   * shared: a high priority keeps other people's jobs from starving the server under test.
   */
  nice?: number;
  logFile: string;
  ports: readonly number[];
  env?: NodeJS.ProcessEnv;
  readyTimeoutMs?: number;
}

export async function startPinned(o: StartOptions): Promise<ServerProcess> {
  const fd = openSync(o.logFile, 'a');
  // nice and taskset exec the command, so the pid we get is the server's and every thread inherits the
  // mask and priority.
  const child: ChildProcess = spawn('nice', ['-n', String(o.nice ?? 0), 'taskset', '-c', String(o.core), o.command, ...o.args], {
    stdio: ['ignore', fd, fd],
    env: o.env ?? process.env,
    // Its own session, hence its own scheduling autogroup, which prioritize() ranks above the others.
    detached: true,
  });
  closeSync(fd);
  if (child.pid !== undefined) {
    prioritize(child.pid, o.nice ?? 0);
    live.add(child.pid);
  }
  let exit: string | undefined;
  const exitedP = new Promise<void>((resolve) => {
    child.on('exit', (code, sig) => {
      exit = sig ? `signal ${sig}` : `code ${String(code)}`;
      if (child.pid !== undefined) live.delete(child.pid);
      resolve();
    });
  });
  const pid = child.pid;
  if (pid === undefined) throw new Error(`${o.name}: spawn failed`);
  const proc: ServerProcess = {
    name: o.name,
    pid,
    logFile: o.logFile,
    tree: () => processTree(pid),
    cpuSeconds: () => processTree(pid).reduce((s, p) => s + safe(() => cpuSeconds(p)), 0),
    mainThreadCpuSeconds: () => safe(() => cpuSeconds(pid, pid)),
    threadCpu: () => {
      const out = new Map<string, number>();
      for (const { tid, name } of threadsOf(pid)) {
        try {
          out.set(name, (out.get(name) ?? 0) + cpuSeconds(pid, tid));
        } catch {
          // thread ended
        }
      }
      return out;
    },
    rssBytes: () => processTree(pid).reduce((s, p) => s + safe(() => rssBytes(p)), 0),
    runDelaySeconds: () => processTree(pid).reduce((s, p) => s + safe(() => runDelaySeconds(p)), 0),
    exited: () => exit,
    stop: async (signal: NodeJS.Signals = 'SIGTERM') => {
      if (exit) return;
      child.kill(signal);
      const timer = setTimeout(() => child.kill('SIGKILL'), 15_000);
      await exitedP;
      clearTimeout(timer);
    },
  };
  try {
    for (const port of o.ports) await waitForPort(port, o.readyTimeoutMs ?? 30_000, () => exit === undefined);
  } catch (e) {
    await proc.stop('SIGKILL');
    throw new Error(`${o.name}: ${e instanceof Error ? e.message : String(e)} (log: ${o.logFile})`);
  }
  return proc;
}

function safe(f: () => number): number {
  try {
    return f();
  } catch {
    return 0; // the process ended between listing and reading
  }
}
