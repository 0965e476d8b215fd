// FFmpeg's `-progress` output (pure): key=value lines, a block ending with `progress=continue` or
// `progress=end`, in any split. Bounded: an over-long line is dropped, not buffered.

export interface Progress {
  /** Frames encoded so far (the first output's video). */
  readonly frame: number | undefined;
  readonly fps: number | undefined;
  /** Encoding speed, x real time; undefined while FFmpeg says N/A. */
  readonly speed: number | undefined;
  /** Output time reached, ms. */
  readonly outTimeMs: number | undefined;
  /** The last block (`progress=end`): FFmpeg is finishing. */
  readonly end: boolean;
}

/** Longer lines are not progress lines: skipped up to their end. */
const MAX_LINE = 256;
/** Keys kept per block (a block has ~10 plus 1 per output): a block without an end cannot grow. */
const MAX_KEYS = 64;

const num = (v: string | undefined): number | undefined => {
  if (v === undefined) return undefined;
  const n = Number(v.trim().replace(/x$/, ''));
  return v.trim() !== '' && Number.isFinite(n) && n >= 0 ? n : undefined;
};

/** HH:MM:SS.micro → ms. */
function clockMs(v: string | undefined): number | undefined {
  const m = v === undefined ? null : /^(\d{1,9}):(\d{2}):(\d{2}(?:\.\d{1,9})?)$/.exec(v.trim());
  if (!m) return undefined;
  return (Number(m[1]) * 3600 + Number(m[2]) * 60 + Number(m[3])) * 1000;
}

function outTime(block: ReadonlyMap<string, string>): number | undefined {
  const us = num(block.get('out_time_us')) ?? num(block.get('out_time_ms')); // out_time_ms is µs too (FFmpeg's old naming bug)
  return us !== undefined ? us / 1000 : clockMs(block.get('out_time'));
}

export class ProgressParser {
  private line = '';
  /** Inside a line longer than MAX_LINE: drop until its newline. */
  private skipping = false;
  private block = new Map<string, string>();

  /** Feeds output text; returns the blocks completed by it. */
  push(text: string): Progress[] {
    const out: Progress[] = [];
    let from = 0;
    while (from < text.length) {
      const nl = text.indexOf('\n', from);
      const piece = text.slice(from, nl < 0 ? text.length : nl);
      from = nl < 0 ? text.length : nl + 1;
      if (!this.skipping) {
        this.line += piece;
        if (this.line.length > MAX_LINE) {
          this.line = '';
          this.skipping = true;
        }
      }
      if (nl < 0) break;
      if (!this.skipping) {
        const p = this.onLine(this.line.replace(/\r$/, ''));
        if (p) out.push(p);
      }
      this.line = '';
      this.skipping = false;
    }
    return out;
  }

  private onLine(line: string): Progress | undefined {
    const eq = line.indexOf('=');
    if (eq <= 0) return undefined;
    const key = line.slice(0, eq).trim();
    const value = line.slice(eq + 1);
    if (key !== 'progress') {
      if (this.block.size < MAX_KEYS || this.block.has(key)) this.block.set(key, value);
      return undefined;
    }
    const b = this.block;
    this.block = new Map();
    return {
      frame: num(b.get('frame')),
      fps: num(b.get('fps')),
      speed: num(b.get('speed')),
      outTimeMs: outTime(b),
      end: value.trim() === 'end',
    };
  }
}
