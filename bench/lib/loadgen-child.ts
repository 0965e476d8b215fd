// The load generator process: opens N byte-counting viewers and reports their byte counts.
// Run by Helper.start (pinned to the load core); commands arrive over IPC.
import { serve } from './ipc.js';
import { LlhlsClient } from './llhls-client.js';
import { openCounters } from './viewers.js';
import type { CounterProtocol, Viewer } from './viewers.js';
import { sleep } from '../../test/helpers/wait.js';

export interface OpenArgs {
  proto: CounterProtocol;
  url: string;
  count: number;
  /** Viewers opened per step, and the pause between steps: servers get a ramp, not a SYN flood. */
  batch: number;
  stepMs: number;
}

export interface OpenLlhlsArgs {
  /** The media playlist URL. */
  url: string;
  count: number;
  /** Each client starts after a random delay below this, as viewers do not tune in in lock step. */
  spreadMs: number;
}

export interface CounterSnapshot {
  /** Bytes per viewer, in opening order. */
  bytes: number[];
  /** HTTP requests made by all viewers (HLS). */
  requests: number;
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
  openLlhls: (a: unknown) => {
    const o = a as OpenLlhlsArgs;
    for (let i = 0; i < o.count; i++) viewers.push(new LlhlsClient(o.url, Math.random() * o.spreadMs));
    return viewers.length;
  },
  snapshot: (): CounterSnapshot => {
    const reasons = new Set<string>();
    let ended = 0;
    for (const v of viewers) {
      const error = v instanceof LlhlsClient ? v.takeError() : undefined;
      if (error !== undefined && reasons.size < 5) reasons.add(`error: ${error}`);
      if (v.ended !== undefined) {
        ended++;
        if (reasons.size < 5) reasons.add(v.ended);
      }
    }
    return { bytes: viewers.map((v) => v.bytes), requests: viewers.reduce((s, v) => s + (v.requests ?? 0), 0), ended, reasons: [...reasons], at: performance.timeOrigin + performance.now() };
  },
  closeAll: async () => {
    for (const v of viewers) v.close();
    viewers = [];
    await sleep(200);
    return null;
  },
});
