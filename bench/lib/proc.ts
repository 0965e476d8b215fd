// Process CPU and memory from /proc (Linux): what the server really costs, threads included.
import { readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { execFileSync } from 'node:child_process';

let clockTicks: number | undefined;

/** USER_HZ, the unit of utime/stime in /proc/PID/stat (almost always 100). */
export function clkTck(): number {
  if (clockTicks === undefined) {
    try {
      clockTicks = Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim()) || 100;
    } catch {
      clockTicks = 100;
    }
  }
  return clockTicks;
}

/** utime + stime of a process (all its threads), or of one of its threads, in seconds. */
export function cpuSeconds(pid: number, tid?: number): number {
  const stat = readFileSync(tid === undefined ? `/proc/${pid}/stat` : `/proc/${pid}/task/${tid}/stat`, 'utf8');
  // The command name (field 2) may contain spaces and parentheses: split after its closing ')'.
  const rest = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  // rest[0] is field 3 (state); utime and stime are fields 14 and 15.
  const utime = Number(rest[11]);
  const stime = Number(rest[12]);
  return (utime + stime) / clkTck();
}

/** The threads of a process by name (/proc/PID/task/TID/comm; the main thread as 'main'); none once it ended. */
export function threadsOf(pid: number): { tid: number; name: string }[] {
  let tids: string[] = [];
  try {
    tids = readdirSync(`/proc/${pid}/task`);
  } catch {
    return [];
  }
  const out: { tid: number; name: string }[] = [];
  for (const tid of tids) {
    try {
      out.push({ tid: Number(tid), name: Number(tid) === pid ? 'main' : readFileSync(`/proc/${pid}/task/${tid}/comm`, 'utf8').trim() });
    } catch {
      // thread ended
    }
  }
  return out;
}

/** Resident set size of a process in bytes (VmRSS). */
export function rssBytes(pid: number): number {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const m = /^VmRSS:\s+(\d+)\s+kB/m.exec(status);
  return m ? Number(m[1]) * 1024 : NaN;
}

/** CPU of a process over an interval, as a fraction of one core. */
export class CpuMeter {
  private t0 = 0;
  private c0 = 0;
  constructor(private readonly pids: readonly number[]) {}

  private total(): number {
    let s = 0;
    for (const pid of this.pids) s += cpuSeconds(pid);
    return s;
  }

  start(): void {
    this.t0 = performance.now();
    this.c0 = this.total();
  }

  /** Fraction of one core used since start() (1.0 = one core fully busy). */
  stop(): { cores: number; wallSeconds: number } {
    const wallSeconds = (performance.now() - this.t0) / 1000;
    return { cores: (this.total() - this.c0) / wallSeconds, wallSeconds };
  }
}

/** Busy fraction of each CPU core over an interval, from /proc/stat (for noise reporting). */
export function coreTimes(): number[][] {
  return readFileSync('/proc/stat', 'utf8')
    .split('\n')
    .filter((l) => /^cpu\d+ /.test(l))
    .map((l) => l.trim().split(/\s+/).slice(1).map(Number));
}

export function coreBusy(before: number[][], after: number[][]): number[] {
  return after.map((a, i) => {
    const b = before[i] ?? a.map(() => 0);
    const d = a.map((v, k) => v - (b[k] ?? 0));
    const total = d.reduce((x, y) => x + y, 0);
    // idle + iowait are fields 4 and 5 (indexes 3 and 4).
    const idle = (d[3] ?? 0) + (d[4] ?? 0);
    return total > 0 ? 1 - idle / total : 0;
  });
}

/**
 * Seconds a process's main thread spent runnable but waiting for a CPU (/proc/PID/schedstat field 2):
 * the direct measure of being starved by other load on its core.
 */
export function runDelaySeconds(pid: number): number {
  const f = readFileSync(`/proc/${pid}/schedstat`, 'utf8').trim().split(/\s+/);
  return Number(f[1] ?? 0) / 1e9;
}

/**
 * Gives a process (the leader of its own session) scheduling priority `nice`. With autogroup
 * scheduling (sched_autogroup_enabled), nice only ranks tasks within one session, so a benchmark in
 * its own session at nice -15 would still share its core evenly with every other session's jobs:
 * the autogroup's own nice is what ranks sessions. Needs root for negative values; best effort.
 */
export function prioritize(pid: number, nice: number): void {
  try {
    writeFileSync(`/proc/${pid}/autogroup`, String(nice));
  } catch {
    // no autogroup support or no permission: the plain nice value still applies within the session
  }
}
