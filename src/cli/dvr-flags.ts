// The DVR flags of `origin` and `all` (issue 12): --dvr-window (2h, 90m, 3600s; 0: off) and --dvr-dir
// (default {record-dir}/.dvr, wiped at every start). Turned into OriginConfig.dvr.
import type { Command } from 'commander';
import { z } from 'zod';
import type { OriginDvrConfig } from '../origin/origin.js';
import { OptionsError } from './options.js';
import { parseAmount } from './record-flags.js';

/** A longer time shift is a recording's job. */
const MAX_DVR_WINDOW_MS = 7 * 86_400_000;

export const dvrFields = {
  dvrWindow: z.string().transform((v, ctx) => {
    const a = parseAmount(v);
    if (!a || a.kind !== 'ms' || a.value > MAX_DVR_WINDOW_MS) {
      ctx.addIssue({ code: z.ZodIssueCode.custom, message: 'must be a duration up to 7d (2h, 90m, 3600s; 0: DVR off)' });
      return z.NEVER;
    }
    return a.value;
  }),
  dvrDir: z.string().min(1).optional(),
};

type DvrOptions = z.infer<z.ZodObject<typeof dvrFields>>;

export function addDvrOptions(cmd: Command): Command {
  return cmd
    .option('--dvr-window <duration>', 'time-shift window per stream, kept on disk for /{app}/{stream}/dvr.m3u8 (2h, 90m, 3600s; 0: DVR off)', '0')
    .option('--dvr-dir <dir>', 'where DVR segments go; wiped at every start, so an empty or DVR-only directory (default: {record-dir}/.dvr)');
}

/** OriginConfig.dvr, or undefined with DVR off. The window must hold 3 segments (RFC 8216 6.2.2). */
export function dvrConfigOf(o: DvrOptions, segmentMs: number): OriginDvrConfig | undefined {
  if (o.dvrWindow === 0) return undefined;
  if (o.dvrWindow < 3 * segmentMs) throw new OptionsError(`invalid options:\n  --dvr-window: must be 0 or at least 3 segments (${(3 * segmentMs) / 1000}s with this --hls-segment)`);
  return { windowMs: o.dvrWindow, dir: o.dvrDir };
}
