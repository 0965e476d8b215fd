// The load generator process: opens N byte-counting viewers and reports their byte counts.
// Run by Helper.start (pinned to the load core); commands arrive over IPC.
import { serve } from './ipc.js';
import { openCounters } from './viewers.js';
import type { Protocol, Viewer } from './viewers.js';
import { sleep } from '../../test/helpers/wait.js';

export interface OpenArgs {
  proto: Protocol;
  url: string;
  count: number;
  /** Viewers opened per step, and the pause between steps: servers get a ramp, not a SYN flood. */
  batch: number;
  stepMs: number;
}

export interface CounterSnapshot {
  /** Bytes per viewer, in opening order. */
  bytes: number[];
  /** Viewers that ended, and a few distinct reasons. */
  ended: number;
  reasons: string[];
  at: number;
}

let viewers: Viewer[] = [];

serve({
  open: async (a: unknown) => {
    const o = a as OpenArgs;
    await openCounters(o.proto, o.url, o.count, o.batch, o.stepMs, viewers);
    return viewers.length;
  },
  snapshot: (): CounterSnapshot => {
    const reasons = new Set<string>();
    let ended = 0;
    for (const v of viewers) {
      if (v.ended !== undefined) {
        ended++;
        if (reasons.size < 5) reasons.add(v.ended);
      }
    }
    return { bytes: viewers.map((v) => v.bytes), ended, reasons: [...reasons], at: performance.timeOrigin + performance.now() };
  },
  closeAll: async () => {
    for (const v of viewers) v.close();
    viewers = [];
    await sleep(200);
    return null;
  },
});
