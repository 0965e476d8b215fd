// Test helper: a `livecdn <command>` in a child process, as an operator runs it, with what hardening and
// chaos tests look at from outside: is it alive, its resident memory and open descriptors (from /proc).
import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';

export interface CliProcess {
  readonly child: ChildProcessWithoutNullStreams;
  readonly pid: number;
  /** Resolves with the exit code (null when killed by a signal). */
  readonly exited: Promise<number | null>;
  stderr(): string;
  /** The tail of its stdout: its JSON log lines. */
  stdout(): string;
  alive(): boolean;
  /** Resident set size in bytes (VmRSS), 0 once gone. */
  rss(): number;
  /** Open file descriptors, 0 once gone. */
  fds(): number;
  /** SIGKILL if still running; resolves once it exited. */
  kill(): Promise<void>;
  /** SIGTERM, SIGKILL after 10 s; resolves once it exited. */
  stop(): Promise<void>;
}

/** Runs `livecdn COMMAND ARGS` from the sources (no build needed); LOG_LEVEL defaults to warn. */
export function startCli(command: string, args: readonly string[], env: NodeJS.ProcessEnv = {}): CliProcess {
  const child = spawn(process.execPath, ['--import', 'tsx', 'src/cli/main.ts', command, ...args], {
    env: { ...process.env, LOG_LEVEL: 'warn', ...env },
  });
  child.stdin.end();
  let stdout = '';
  let stderr = '';
  // Keep the tails only: a chatty child must not grow the test's memory.
  child.stdout.on('data', (b: Buffer) => (stdout = (stdout + b.toString()).slice(-200_000)));
  child.stderr.on('data', (b: Buffer) => (stderr = (stderr + b.toString()).slice(-200_000)));
  const exited = new Promise<number | null>((r) => child.once('exit', (code) => r(code)));
  const alive = (): boolean => child.exitCode === null && child.signalCode === null;
  const pid = child.pid ?? -1;
  const ended = async (sig: NodeJS.Signals, graceMs: number): Promise<void> => {
    if (!alive()) return;
    child.kill(sig);
    const timer = setTimeout(() => child.kill('SIGKILL'), graceMs);
    await exited;
    clearTimeout(timer);
  };
  return {
    child,
    pid,
    exited,
    stderr: () => stderr,
    stdout: () => stdout,
    alive,
    rss: () => {
      try {
        const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
        return m ? Number(m[1]) * 1024 : 0;
      } catch {
        return 0;
      }
    },
    fds: () => {
      try {
        return readdirSync(`/proc/${pid}/fd`).length;
      } catch {
        return 0;
      }
    },
    kill: () => ended('SIGKILL', 0),
    stop: () => ended('SIGTERM', 10_000),
  };
}

/** Resolves once `url` answers (any status), or rejects after timeoutMs or when the process exits. */
export async function waitListening(proc: CliProcess, url: string, timeoutMs = 20_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (!proc.alive()) throw new Error(`process exited before listening: ${proc.stderr().slice(-2000)}`);
    try {
      const res = await fetch(url, { signal: AbortSignal.timeout(1000) });
      await res.arrayBuffer();
      return;
    } catch {
      await new Promise((r) => setTimeout(r, 100));
    }
  }
  throw new Error(`${url} did not answer within ${timeoutMs} ms: ${proc.stderr().slice(-2000)}`);
}

/** Whether a process id is running (signal 0 checks without sending anything). */
export function pidAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

/** The child processes of `pid` (from /proc), e.g. the FFmpeg a node spawned; [] once it is gone. */
export function childPids(pid: number): number[] {
  try {
    return readFileSync(`/proc/${pid}/task/${pid}/children`, 'utf8').trim().split(/\s+/).filter(Boolean).map(Number);
  } catch {
    return [];
  }
}
