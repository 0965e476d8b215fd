// Summarizes a V8 .cpuprofile (node --cpu-prof): self time per function, largest first.
import { readFileSync } from 'node:fs';

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
  hitCount?: number;
}
interface Profile {
  nodes: ProfileNode[];
  samples?: number[];
  timeDeltas?: number[];
  startTime: number;
  endTime: number;
}

export interface SelfTime {
  fn: string;
  where: string;
  ms: number;
  share: number;
}

export function topSelfTime(file: string, top = 15, cwd = process.cwd()): { total: number; rows: SelfTime[] } {
  const p = JSON.parse(readFileSync(file, 'utf8')) as Profile;
  // Self time from the sample stream (timeDeltas[i] is the time before sample i).
  const selfUs = new Map<number, number>();
  const samples = p.samples ?? [];
  const deltas = p.timeDeltas ?? [];
  for (let i = 0; i < samples.length; i++) {
    const id = samples[i] ?? 0;
    const dt = deltas[i + 1] ?? deltas[i] ?? 0;
    selfUs.set(id, (selfUs.get(id) ?? 0) + Math.max(0, dt));
  }
  const byFn = new Map<string, SelfTime>();
  let total = 0;
  for (const n of p.nodes) {
    const us = selfUs.get(n.id) ?? 0;
    total += us;
    const name = n.callFrame.functionName || '(anonymous)';
    if (name === '(idle)') continue;
    const url = n.callFrame.url.replace(/^file:\/\//, '').replace(cwd + '/', '');
    const where = url ? `${url}:${n.callFrame.lineNumber + 1}` : '';
    const key = `${name}@${where}`;
    const e = byFn.get(key) ?? { fn: name, where, ms: 0, share: 0 };
    e.ms += us / 1000;
    byFn.set(key, e);
  }
  const idle = p.nodes.filter((n) => n.callFrame.functionName === '(idle)').reduce((s, n) => s + (selfUs.get(n.id) ?? 0), 0);
  const busy = Math.max(1, total - idle);
  const rows = [...byFn.values()].sort((a, b) => b.ms - a.ms).slice(0, top);
  for (const r of rows) r.share = (r.ms * 1000) / busy;
  return { total: busy / 1000, rows };
}
