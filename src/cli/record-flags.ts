// The recording flags of `origin` and `all` (issue 12): which streams (--record PATTERNS, repeatable or
// comma-separated), where (--record-dir), how files are split (--record-split 30m | 1h | 500MB), retention
// (--record-max-age 7d, --record-max-size 50GB) and the --on-record-done hook. Turned into OriginConfig.record.
import type { Command } from 'commander';
import { z } from 'zod';
import { ORIGIN_DEFAULTS } from '../origin/defaults.js';
import type { OriginRecordConfig } from '../origin/origin.js';
import { parseRecordPatterns, recordPatternList } from '../record/patterns.js';
import { collect, httpUrl } from './options.js';

const DURATION_UNITS: Readonly<Record<string, number>> = { s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 };
const SIZE_UNITS: Readonly<Record<string, number>> = {
  b: 1,
  kb: 1e3,
  mb: 1e6,
  gb: 1e9,
  tb: 1e12,
  kib: 2 ** 10,
  mib: 2 ** 20,
  gib: 2 ** 30,
  tib: 2 ** 40,
};

/** Longest duration a flag takes (10 years) and largest size (1 PB): past these a value is a typo. */
const MAX_DURATION_MS = 10 * 365 * 86_400_000;
const MAX_BYTES = 1e15;

type Amount = { kind: 'ms' | 'bytes'; value: number };

/** `90s`, `30m`, `1h`, `7d` (ms) or `500MB`, `1.5GiB` (bytes); undefined when neither. A bare number is seconds. */
export function parseAmount(text: string): Amount | undefined {
  const m = /^(\d{1,12}(?:\.\d{1,6})?)\s*([A-Za-z]{0,3})$/.exec(text.trim());
  if (!m) return undefined;
  const n = Number(m[1]);
  const unit = (m[2] ?? '').toLowerCase();
  if (unit === '' || DURATION_UNITS[unit] !== undefined) return { kind: 'ms', value: Math.round(n * (DURATION_UNITS[unit] ?? 1000)) };
  const size = SIZE_UNITS[unit];
  return size !== undefined ? { kind: 'bytes', value: Math.round(n * size) } : undefined;
}

const amount = (kinds: readonly Amount['kind'][], what: string) =>
  z.string().transform((v, ctx) => {
    const a = parseAmount(v);
    if (!a || !kinds.includes(a.kind) || a.value > (a.kind === 'ms' ? MAX_DURATION_MS : MAX_BYTES)) {
      ctx.addIssue({ code: z.ZodIssueCode.custom, message: `must be ${what}` });
      return z.NEVER;
    }
    return a;
  });

export const recordFields = {
  // Repeatable on the command line; LIVECDN_RECORD holds the values separated by blanks or commas.
  record: z
    .union([z.array(z.string()), z.string()])
    .optional()
    .transform((v, ctx) => {
      const list = v === undefined ? [] : Array.isArray(v) ? v : v.split(/\s+/);
      try {
        parseRecordPatterns(list);
      } catch (err) {
        ctx.addIssue({ code: z.ZodIssueCode.custom, message: (err as Error).message });
        return z.NEVER;
      }
      return recordPatternList(list);
    }),
  recordDir: z.string().min(1),
  recordSplit: amount(['ms', 'bytes'], 'a duration (30m, 1h) or a size (500MB, 2GiB)'),
  recordMaxAge: amount(['ms'], 'a duration (12h, 7d; 0: no limit)'),
  recordMaxSize: amount(['bytes'], 'a size (50GB, 100GiB; 0B: no limit)'),
  onRecordDone: httpUrl.optional(),
};

type RecordOptions = z.infer<z.ZodObject<typeof recordFields>>;

const minutes = (ms: number): string => (ms % 3_600_000 === 0 ? `${ms / 3_600_000}h` : `${ms / 60_000}m`);

export function addRecordOptions(cmd: Command): Command {
  const d = ORIGIN_DEFAULTS;
  return cmd
    .option('--record <patterns>', 'record these streams to FLV from their publish on: app/stream, * a wildcard (live/*, */*, live/cam1; repeatable or comma-separated)', collect)
    .option('--record-dir <dir>', 'where recordings go ({app}/{stream}/{YYYY-MM-DD}/{HHMMSS}.flv)', d.recordDir)
    .option('--record-split <when>', 'a new file at the first keyframe past this duration or size (30m, 1h, 500MB; 0: never)', minutes(d.recordSplitMs))
    .option('--record-max-age <age>', 'delete recordings older than this (12h, 7d; 0: keep)', '0')
    .option('--record-max-size <size>', 'delete the oldest recordings while all take more than this (50GB; 0B: no limit)', '0B')
    .option('--on-record-done <url>', 'POST hook told when a recording file ends (JSON: id, file, durationMs, bytes, state)');
}

/** OriginConfig.record: always there (POST /api/streams/{app}/{stream}/record can start any stream). */
export function recordConfigOf(o: RecordOptions): OriginRecordConfig {
  return {
    dir: o.recordDir,
    patterns: o.record,
    splitMs: o.recordSplit.kind === 'ms' ? o.recordSplit.value : 0,
    splitBytes: o.recordSplit.kind === 'bytes' ? o.recordSplit.value : 0,
    maxAgeMs: o.recordMaxAge.value,
    maxBytes: o.recordMaxSize.value,
    onRecordDone: o.onRecordDone,
  };
}
