// A small coverage-guided fuzzer. Jazzer.js cannot run here (its native fuzzer needs a newer glibc), so
// V8's own precise block coverage decides which inputs reach new code and keeps them in the corpus;
// byte-level mutations and fast-check's structure-aware generators produce the inputs.
//
// Coverage is taken per batch of inputs, not per input: takePreciseCoverage walks every function V8
// knows and costs milliseconds, far more than one run of a parser. Only when a batch reached a new block
// are its inputs re-run (a binary search over prefixes of the batch) to find which of them to keep.
// Resource bounds: each target checks its output stays in proportion to its input (BoundError); a run
// slower than `slowMs`, or whose heap plus Buffer memory grew by more than `maxRunBytes` (garbage is not
// collected that fast), is a finding; inputs are capped at `maxLength`.
import { Session } from 'node:inspector';
import { getHeapStatistics } from 'node:v8';
import { fileURLToPath } from 'node:url';
import fc from 'fast-check';

/** A documented error class of a parser: a throw of one of these is a rejection, not a finding. */
export type ErrorClass = abstract new (...args: never[]) => Error;

export interface FuzzTarget {
  readonly name: string;
  /** What the target exercises, for the report. */
  readonly description: string;
  /**
   * Runs one input. Anything it throws (or rejects with) that is not an `expected` error is a finding.
   * A promise is awaited: the RTMP session target lets the app's publish/play decisions settle.
   */
  run(input: Buffer): void | Promise<void>;
  readonly expected: readonly ErrorClass[];
  /** Structure-aware inputs, mixed with the mutations. */
  readonly arbitrary?: fc.Arbitrary<Uint8Array>;
  /** Tokens inserted or overwritten by the mutator (keywords of text formats, magic numbers). */
  readonly dictionary?: readonly Buffer[];
  /** Longest input generated (default 64 KiB): bounds each run, and so the fuzzer's own memory. */
  readonly maxLength?: number;
}

/** Thrown by a target when an input breaks a resource bound (output or memory out of proportion). */
export class BoundError extends Error {
  override readonly name = 'BoundError';
}

export interface Finding {
  /** Error class, message without numbers, and the first stack frame: one per distinct bug. */
  readonly signature: string;
  readonly error: string;
  /** The smallest input seen with this signature (minimised when `minimize` is on). */
  input: Buffer;
}

export interface FuzzOptions {
  /** Wall-clock budget. */
  readonly seconds?: number;
  /** Execution budget (whichever ends first). */
  readonly maxExecutions?: number;
  readonly seed?: number;
  readonly corpus?: readonly Buffer[];
  /** false: no coverage and no mutation, only random bytes (and the target's generator): the baseline. */
  readonly guided?: boolean;
  /**
   * Most inputs per coverage take (default 256). The batch starts at 8 inputs, doubles after each batch
   * that reached nothing new and halves after one that did: while coverage grows, the corpus is updated
   * often; once it stalls, takes are rare and executions fast.
   */
  readonly batchSize?: number;
  /** A single run slower than this is a finding (unbounded work). Default 1000 ms. */
  readonly slowMs?: number;
  /** A single run that grows heap plus Buffer memory by more than this is a finding. Default 256 MiB. */
  readonly maxRunBytes?: number;
  /** Stop at the first finding. */
  readonly stopOnFinding?: boolean;
  /** Shrink each finding's input (default true). */
  readonly minimize?: boolean;
}

export interface FuzzReport {
  readonly target: string;
  readonly executions: number;
  readonly seconds: number;
  readonly execPerSec: number;
  /** Blocks covered by the seed corpus alone, then after fuzzing. */
  readonly blocksInitial: number;
  readonly blocks: number;
  readonly corpusInitial: number;
  readonly corpus: Buffer[];
  readonly findings: Finding[];
}

// ------------------------------------------------------------------ coverage

type Range = { startOffset: number; endOffset: number; count: number };
type ScriptCoverage = { url: string; functions: Array<{ ranges: Range[] }> };

const HARNESS_URL = import.meta.url;

/** Our own code only: not node_modules, not Node's internals, not this harness. */
const isProjectScript = (url: string): boolean => url.startsWith('file://') && !url.includes('/node_modules/') && url !== HARNESS_URL;

let session: Session | undefined;

/** The inspector session of this thread. Same-thread `post` answers synchronously. */
function coverageSession(): Session {
  if (!session) {
    session = new Session();
    session.connect();
    session.post('Profiler.enable');
    // Block counts, not binary coverage: V8 omits a block whose count equals its parent's, and over a
    // batch of inputs a block run by only some of them differs in count but rarely in binary coverage.
    session.post('Profiler.startPreciseCoverage', { callCount: true, detailed: true });
  }
  return session;
}

// Started on import: V8 gives block counters only to functions compiled after this, so the harness must
// be imported before the code it measures is first run.
coverageSession();

function takeCoverage(): ScriptCoverage[] {
  let out: ScriptCoverage[] = [];
  coverageSession().post('Profiler.takePreciseCoverage', (err, res) => {
    if (err) throw err;
    out = (res as { result: ScriptCoverage[] }).result;
  });
  return out;
}

/**
 * Turns coverage takes into block ids. V8 omits a nested range whose count equals its parent's, so a
 * block is only known once it has been seen with a count of its own; after that it is covered in a take
 * when the innermost range around it has a count. Each take also resets V8's counters.
 */
class BlockMap {
  /** Per function (url + start offset): every range ever reported, as "start:end". */
  private readonly known = new Map<string, Map<string, [number, number]>>();
  readonly covered = new Set<string>();

  /** Block ids a take covered that were not covered before; marks them covered when `commit`. */
  newBlocks(take: ScriptCoverage[], commit: boolean): Set<string> {
    const fresh = new Set<string>();
    for (const script of take) {
      if (!isProjectScript(script.url)) continue;
      for (const fn of script.functions) {
        const ranges = fn.ranges;
        const head = ranges[0];
        if (!head || head.count === 0) continue;
        const fnKey = `${script.url}#${head.startOffset}`;
        let blocks = this.known.get(fnKey);
        if (!blocks) this.known.set(fnKey, (blocks = new Map()));
        for (const r of ranges) {
          const k = `${r.startOffset}:${r.endOffset}`;
          if (!blocks.has(k)) blocks.set(k, [r.startOffset, r.endOffset]);
        }
        for (const [k, [s, e]] of blocks) {
          const id = `${fnKey}@${k}`;
          if (this.covered.has(id) || !innermostCount(ranges, s, e)) continue;
          fresh.add(id);
          if (commit) this.covered.add(id);
        }
      }
    }
    return fresh;
  }
}

/** Count of the innermost range (of one function's take) that contains [s, e). */
function innermostCount(ranges: Range[], s: number, e: number): number {
  let best: Range | undefined;
  for (const r of ranges) {
    if (r.startOffset <= s && r.endOffset >= e && (!best || r.endOffset - r.startOffset <= best.endOffset - best.startOffset)) best = r;
  }
  return best?.count ?? 0;
}

// ------------------------------------------------------------------ mutations

/** mulberry32: a seeded generator, so that a run can be repeated. */
export function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const INTERESTING = [0, 1, 0x7f, 0x80, 0xff, 0x40, 0x3f, 0x20];

export class Mutator {
  constructor(
    private readonly rand: () => number,
    private readonly dictionary: readonly Buffer[] = [],
    private readonly maxLength = 65536,
  ) {}

  private int(n: number): number {
    return Math.floor(this.rand() * n);
  }

  /** One to four stacked mutations of `input`; `other` is a second corpus entry for splicing. */
  mutate(input: Buffer, other: Buffer): Buffer {
    let b: Buffer = Buffer.from(input);
    const n = 1 + this.int(4);
    for (let i = 0; i < n; i++) b = this.once(b, other);
    return b.length > this.maxLength ? b.subarray(0, this.maxLength) : b;
  }

  private once(b: Buffer, other: Buffer): Buffer {
    const len = b.length;
    switch (this.int(len === 0 ? 3 : 10)) {
      case 0: // insertion: random bytes, a dictionary token, or a copy of a piece of itself
        return this.insert(b);
      case 1: // splice: head of this entry, tail of another
        return Buffer.concat([b.subarray(0, this.int(len + 1)), other.subarray(this.int(other.length + 1))]);
      case 2:
        return this.dictionary.length ? this.insert(b) : Buffer.concat([b, Buffer.from([this.int(256)])]);
      case 3: // bit flip
        b[this.int(len)]! ^= 1 << this.int(8);
        return b;
      case 4: // byte set
        b[this.int(len)] = this.rand() < 0.5 ? INTERESTING[this.int(INTERESTING.length)]! : this.int(256);
        return b;
      case 5: {
        // small arithmetic
        const at = this.int(len);
        b[at] = (b[at]! + this.int(33) - 16) & 0xff;
        return b;
      }
      case 6: // truncation
        return b.subarray(0, this.int(len));
      case 7: {
        // deletion of a range
        const at = this.int(len);
        return Buffer.concat([b.subarray(0, at), b.subarray(at + 1 + this.int(Math.min(32, len - at)))]);
      }
      case 8:
        return this.lengthField(b);
      default: {
        // dictionary token written over the bytes
        const tok = this.dictionary[this.int(this.dictionary.length)];
        if (!tok) return this.lengthField(b);
        tok.copy(b, this.int(len), 0, Math.min(tok.length, len));
        return b;
      }
    }
  }

  private insert(b: Buffer): Buffer {
    const at = this.int(b.length + 1);
    let piece: Buffer;
    const pick = this.int(3);
    if (pick === 0 && this.dictionary.length) piece = this.dictionary[this.int(this.dictionary.length)]!;
    else if (pick === 1 && b.length > 0) {
      const s = this.int(b.length);
      piece = Buffer.from(b.subarray(s, s + 1 + this.int(64)));
    } else piece = Buffer.from(Array.from({ length: 1 + this.int(8) }, () => this.int(256)));
    return Buffer.concat([b.subarray(0, at), piece, b.subarray(at)]);
  }

  /** A big-endian 16/24/32-bit field set to 0, 1, its maximum, or a length around what follows it. */
  private lengthField(b: Buffer): Buffer {
    const width = [2, 3, 4][this.int(3)]!;
    if (b.length < width) return b;
    const at = this.int(b.length - width + 1);
    const max = 2 ** (8 * width) - 1;
    const rest = b.length - at - width;
    const base = [rest, b.length, rest - 1][this.int(3)]!;
    const candidates = [0, 1, max, base - 1, base, base + 1];
    const v = Math.min(max, Math.max(0, candidates[this.int(candidates.length)]!));
    b.writeUIntBE(v, at, width);
    return b;
  }

  randomBytes(): Buffer {
    // Short inputs mostly: a parser's interesting prefix is small.
    const n = this.int(this.rand() < 0.8 ? 64 : Math.min(this.maxLength, 4096) + 1);
    return Buffer.from(Array.from({ length: n }, () => this.int(256)));
  }
}

// ------------------------------------------------------------------ the loop

function describeError(e: unknown): { signature: string; error: string } {
  if (!(e instanceof Error)) return { signature: `non-error ${typeof e}`, error: String(e) };
  // The first frame in our code: where the bug is, rather than inside Node (e.g. Buffer.copy).
  const frames = (e.stack ?? '').split('\n').filter((l) => l.trimStart().startsWith('at ') && !l.includes('/fuzz/harness.ts'));
  const frame = frames.find((l) => l.includes('file://') || /\(\//.test(l) || / \//.test(l)) ?? frames[0] ?? '';
  const where = frame.trim().replace(/:\d+\)?$/, '');
  // First line only: assertion messages carry a diff of the values after it.
  const message = (e.message.split(/\n| \+ actual/)[0] ?? '').replace(/\d+/g, 'N').slice(0, 100);
  return { signature: `${e.constructor.name}: ${message} ${where}`, error: `${e.constructor.name}: ${e.message.split('\n').slice(0, 12).join('\n')}\n${frame.trim()}` };
}

/** JS heap plus memory held by Buffers: what a run allocates shows here until the next GC. */
const memoryInUse = (): number => {
  const h = getHeapStatistics();
  return h.used_heap_size + h.external_memory;
};

export interface RunLimits {
  readonly slowMs?: number;
  readonly maxRunBytes?: number;
}

/** Runs one input; returns the finding's description, or undefined when the target behaved. */
export async function runOne(target: FuzzTarget, input: Buffer, limits: RunLimits = {}): Promise<{ signature: string; error: string } | undefined> {
  const slowMs = limits.slowMs ?? 1000;
  const maxRunBytes = limits.maxRunBytes ?? 256 * 1024 * 1024;
  const m0 = memoryInUse();
  const t0 = performance.now();
  try {
    const r = target.run(input);
    if (r) await r;
  } catch (e) {
    if (!target.expected.some((c) => e instanceof c)) return describeError(e);
  }
  const dt = performance.now() - t0;
  if (dt > slowMs) return { signature: `slow input (> ${slowMs} ms)`, error: `one run took ${dt.toFixed(0)} ms` };
  const grew = memoryInUse() - m0;
  if (grew > maxRunBytes) return { signature: `allocation (> ${maxRunBytes} bytes)`, error: `one run grew memory by ${(grew / 2 ** 20).toFixed(0)} MiB` };
  return undefined;
}

/** Shrinks a failing input while it still fails with the same signature (for at most ~5 s). */
async function minimize(target: FuzzTarget, input: Buffer, signature: string, limits: RunLimits): Promise<Buffer> {
  let best = input;
  const same = async (b: Buffer): Promise<boolean> => (await runOne(target, b, limits))?.signature === signature;
  const deadline = performance.now() + 5000;
  for (let chunk = Math.max(1, best.length >> 1); chunk >= 1; chunk >>= 1) {
    for (let at = 0; at < best.length && performance.now() < deadline; ) {
      const cand = Buffer.concat([best.subarray(0, at), best.subarray(at + chunk)]);
      if (await same(cand)) best = cand;
      else at += chunk;
    }
  }
  return best;
}

export async function fuzz(target: FuzzTarget, opts: FuzzOptions = {}): Promise<FuzzReport> {
  const seconds = opts.seconds ?? 10;
  const maxExec = opts.maxExecutions ?? Infinity;
  const guided = opts.guided ?? true;
  const maxBatch = opts.batchSize ?? 256;
  const limits: RunLimits = { slowMs: opts.slowMs, maxRunBytes: opts.maxRunBytes };
  const maxLength = target.maxLength ?? 65536;
  const rand = rng(opts.seed ?? 1);
  const mut = new Mutator(rand, target.dictionary, maxLength);
  const blocks = new BlockMap();
  const findings = new Map<string, Finding>();
  const corpus: Buffer[] = [];
  let executions = 0;

  /** Runs an input; a re-run (to attribute coverage) is not counted as an execution. */
  const record = async (input: Buffer, rerun = false): Promise<boolean> => {
    if (!rerun) executions++;
    const f = await runOne(target, input, limits);
    if (!f) return false;
    const seen = findings.get(f.signature);
    if (!seen) findings.set(f.signature, { ...f, input: Buffer.from(input) });
    else if (input.length < seen.input.length) seen.input = Buffer.from(input);
    return true;
  };

  // Generated inputs come from fast-check in blocks, seeded from our generator.
  // Generation can cost more than a run of the target: it is held to a tenth of the time.
  let generated: Uint8Array[] = [];
  let generateMs = 0;
  const generate = (): Buffer => {
    if (generated.length === 0 && target.arbitrary) {
      const t0 = performance.now();
      generated = fc.sample(target.arbitrary, { numRuns: 64, seed: Math.floor(rand() * 2 ** 31) });
      generateMs += performance.now() - t0;
    }
    const g = generated.pop();
    return g ? Buffer.from(g).subarray(0, maxLength) : mut.randomBytes();
  };

  const start = performance.now();
  const elapsed = (): number => (performance.now() - start) / 1000;
  if (guided) {
    takeCoverage(); // resets the counters: what ran before is not this target's
    for (const s of opts.corpus ?? []) {
      await record(s);
      if (blocks.newBlocks(takeCoverage(), true).size > 0 || corpus.length === 0) corpus.push(s);
    }
  }
  const blocksInitial = blocks.covered.size;
  const corpusInitial = corpus.length;
  if (guided && corpus.length === 0) corpus.push(Buffer.alloc(0));

  const nextInput = (): Buffer => {
    if (!guided || (target.arbitrary && rand() < 0.1 && generateMs < 100 * (elapsed() + 0.1))) return generate();
    // Newer entries are more likely to be near an unexplored edge: favour the last quarter.
    const pick = (): Buffer => corpus[rand() < 0.5 ? corpus.length - 1 - Math.floor(rand() * Math.ceil(corpus.length / 4)) : Math.floor(rand() * corpus.length)]!;
    return mut.mutate(pick(), pick());
  };

  /** Whether these inputs, run again, reach a block not covered yet (nothing is committed). */
  const reachesNew = async (inputs: Buffer[]): Promise<boolean> => {
    for (const input of inputs) await record(input, true);
    return blocks.newBlocks(takeCoverage(), false).size > 0;
  };
  /**
   * The batch reached something new: keep the inputs that did. A binary search for the shortest prefix
   * that still reaches something new costs about log2(batch) takes per kept input, where trying each
   * input alone would cost one take per input.
   */
  const attribute = async (batch: Buffer[]): Promise<void> => {
    let rest = batch;
    while (rest.length > 0) {
      let lo = 0;
      let hi = rest.length; // the prefix of length hi reaches something new; that of length lo does not
      while (hi - lo > 1) {
        const mid = (lo + hi) >> 1;
        if (await reachesNew(rest.slice(0, mid))) hi = mid;
        else lo = mid;
      }
      const input = rest[hi - 1]!;
      await record(input, true);
      if (blocks.newBlocks(takeCoverage(), true).size > 0) corpus.push(input);
      rest = rest.slice(hi);
      if (rest.length > 0 && !(await reachesNew(rest))) break;
    }
  };

  const batch: Buffer[] = [];
  let batchSize = Math.min(8, maxBatch);
  outer: while (executions < maxExec && elapsed() < seconds) {
    batch.length = 0;
    for (let i = 0; i < batchSize && executions < maxExec; i++) {
      const input = nextInput();
      batch.push(input);
      if ((await record(input)) && opts.stopOnFinding) break outer;
    }
    if (!guided) continue;
    if (blocks.newBlocks(takeCoverage(), false).size === 0) {
      batchSize = Math.min(maxBatch, batchSize * 2);
      continue;
    }
    batchSize = Math.min(8, maxBatch);
    await attribute(batch);
  }
  const secs = elapsed();
  const out = [...findings.values()];
  if (opts.minimize ?? true) for (const f of out) f.input = await minimize(target, f.input, f.signature, limits);
  return {
    target: target.name,
    executions,
    seconds: secs,
    execPerSec: executions / Math.max(secs, 1e-9),
    blocksInitial,
    blocks: blocks.covered.size,
    corpusInitial,
    corpus,
    findings: out,
  };
}

/** Path of the fuzz folder, for the CLI and the seed script. */
export const FUZZ_DIR = fileURLToPath(new URL('.', import.meta.url));
