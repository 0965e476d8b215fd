// What recording costs a server, from counters read at window edges: CPU, write syscalls and bytes per
// second over each window, medians over the clean windows, and the extra per stream of a run with
// recording over the same load without it.
import { median } from './stats.js';

/** Cumulative counters of a server read at one instant. */
export interface Counters {
  atMs: number;
  /** utime + stime of the process tree, seconds. */
  cpuSeconds: number;
  /** Write syscalls and bytes passed to them (/proc/PID/io syscw, wchar). */
  syscw: number;
  wchar: number;
  /** Bytes of the recorded files on disk. */
  diskBytes: number;
  /** Run-queue wait of the server's main threads, seconds (noise: it wanted a CPU and had none). */
  waitSeconds: number;
}

export interface WindowRates {
  seconds: number;
  /** Fraction of one core. */
  cpu: number;
  syscwPerS: number;
  wcharPerS: number;
  diskPerS: number;
  /** Share of the window the server's main threads waited for a CPU while runnable. */
  wait: number;
}

export function windowRates(a: Counters, b: Counters): WindowRates {
  const seconds = (b.atMs - a.atMs) / 1000;
  if (!(seconds > 0)) throw new RangeError('a window must end after it starts');
  return {
    seconds,
    cpu: (b.cpuSeconds - a.cpuSeconds) / seconds,
    syscwPerS: (b.syscw - a.syscw) / seconds,
    wcharPerS: (b.wchar - a.wchar) / seconds,
    diskPerS: (b.diskBytes - a.diskBytes) / seconds,
    wait: (b.waitSeconds - a.waitSeconds) / seconds,
  };
}

export interface CostSummary {
  cpu: number;
  syscwPerS: number;
  wcharPerS: number;
  diskPerS: number;
  /** CPU of every window kept, and how many were set aside as noisy (all kept when none was clean). */
  cpuWindows: number[];
  discarded: number;
}

/** Medians over the windows `isClean` keeps (over all of them when it keeps none). */
export function summarize<W extends WindowRates>(windows: readonly W[], isClean: (w: W) => boolean): CostSummary {
  const clean = windows.filter(isClean);
  const used = clean.length > 0 ? clean : windows;
  return {
    cpu: median(used.map((w) => w.cpu)),
    syscwPerS: median(used.map((w) => w.syscwPerS)),
    wcharPerS: median(used.map((w) => w.wcharPerS)),
    diskPerS: median(used.map((w) => w.diskPerS)),
    cpuWindows: used.map((w) => w.cpu),
    discarded: windows.length - used.length,
  };
}

export interface PerStream {
  cpu: number;
  syscwPerS: number;
  wcharPerS: number;
  diskPerS: number;
}

/** (with recording - without) / streams, field by field. */
export function extraPerStream(on: CostSummary, off: CostSummary, streams: number): PerStream {
  const d = (k: keyof PerStream): number => (streams > 0 ? (on[k] - off[k]) / streams : NaN);
  return { cpu: d('cpu'), syscwPerS: d('syscwPerS'), wcharPerS: d('wcharPerS'), diskPerS: d('diskPerS') };
}

/** Field-by-field median of several pairs' extras (NaN for none). */
export function medianPerStream(list: readonly PerStream[]): PerStream {
  const m = (k: keyof PerStream): number => median(list.map((x) => x[k]));
  return { cpu: m('cpu'), syscwPerS: m('syscwPerS'), wcharPerS: m('wcharPerS'), diskPerS: m('diskPerS') };
}

/** Per-second rates of named counters over `seconds` (a name absent before counts from 0). */
export function ratesByName(a: ReadonlyMap<string, number>, b: ReadonlyMap<string, number>, seconds: number): Record<string, number> {
  const out: Record<string, number> = {};
  for (const [name, v] of b) out[name] = (v - (a.get(name) ?? 0)) / seconds;
  return out;
}

/** Per name, the median over the samples (a sample without the name counts 0). */
export function medianByName(list: readonly Readonly<Record<string, number>>[]): Record<string, number> {
  const names = new Set(list.flatMap((r) => Object.keys(r)));
  const out: Record<string, number> = {};
  for (const n of names) out[n] = median(list.map((r) => r[n] ?? 0));
  return out;
}
