// Publisher-to-screen latency in a browser: the publisher logs each video frame's send time by its
// number in the clip (SendLog); a script in the player page reads the number painted into every frame
// the <video> presents (frame-code.ts, through requestVideoFrameCallback and a small canvas) and notes
// when it is shown. Display time minus send time is the latency; gaps between presented frames are stalls.
import type { Page } from 'playwright-core';
import { CODE_BITS, CODE_HEIGHT, CODE_WIDTH, decodeFrameCode } from './frame-code.js';

/** Canvas the strip is scaled into (a quarter of its size: 16 x 10 pixels per block). */
const CANVAS_W = CODE_WIDTH / 4;
const CANVAS_H = CODE_HEIGHT / 4;
/** No frame presented for this long is a stall. */
export const STALL_MS = 500;

/** Send times of the clip's frames, by frame number; a looping clip sends each number many times. */
export class SendLog {
  private readonly times = new Map<number, number[]>();

  record(n: number, t: number): void {
    let list = this.times.get(n);
    if (!list) {
      list = [];
      this.times.set(n, list);
    }
    list.push(t);
    if (list.length > 3) list.shift();
  }

  /** When frame `n`, shown at `shownAt`, was sent: its latest send before then. */
  sentAt(n: number, shownAt: number): number | undefined {
    const list = this.times.get(n) ?? [];
    for (let i = list.length - 1; i >= 0; i--) {
      const t = list[i] ?? Infinity;
      if (t <= shownAt) return t;
    }
    return undefined;
  }
}

export interface ProbeTake {
  /** [frame number, wall-clock ms it is shown] per decoded frame since the last take. */
  samples: [number, number][];
  /** Frames presented whose code did not read (running totals). */
  undecoded: number;
  frames: number;
  /** Gaps between presented frames longer than STALL_MS since the last take, ms. */
  stalls: number[];
}

/**
 * The page script. The decoder is decodeFrameCode's own source text, so the page runs the code the
 * unit test checks. Display time: requestVideoFrameCallback's expectedDisplayTime on the wall clock.
 */
function probeScript(): string {
  return `(() => {
  const decode = ${decodeFrameCode.toString()};
  const state = { samples: [], undecoded: 0, frames: 0, stalls: [], last: 0 };
  window.__latencyProbe = {
    take() {
      const out = { samples: state.samples, undecoded: state.undecoded, frames: state.frames, stalls: state.stalls };
      state.samples = [];
      state.stalls = [];
      return out;
    },
  };
  const canvas = document.createElement('canvas');
  canvas.width = ${CANVAS_W};
  canvas.height = ${CANVAS_H};
  const ctx = canvas.getContext('2d', { willReadFrequently: true });
  const watch = (video) => {
    const onFrame = (_now, meta) => {
      const shownAt = Date.now() + (meta.expectedDisplayTime - performance.now());
      if (state.last && shownAt - state.last > ${STALL_MS}) state.stalls.push(shownAt - state.last);
      state.last = shownAt;
      state.frames++;
      ctx.drawImage(video, 0, 0, ${CODE_WIDTH}, ${CODE_HEIGHT}, 0, 0, ${CANVAS_W}, ${CANVAS_H});
      const n = decode(ctx.getImageData(0, 0, ${CANVAS_W}, ${CANVAS_H}).data, ${CANVAS_W}, ${CANVAS_H}, ${CODE_BITS});
      if (n === undefined) state.undecoded++;
      else state.samples.push([n, shownAt]);
      video.requestVideoFrameCallback(onFrame);
    };
    video.requestVideoFrameCallback(onFrame);
  };
  const find = () => {
    const video = document.querySelector('video');
    if (video) watch(video);
    else setTimeout(find, 100);
  };
  find();
})();`;
}

export class LatencyProbe {
  constructor(private readonly page: Page) {}

  /** Installs the probe; call before the page is opened. */
  async install(): Promise<void> {
    await this.page.addInitScript({ content: probeScript() });
  }

  async take(): Promise<ProbeTake> {
    const t = await this.page.evaluate('window.__latencyProbe ? window.__latencyProbe.take() : undefined');
    return (t as ProbeTake | undefined) ?? { samples: [], undecoded: 0, frames: 0, stalls: [] };
  }
}
