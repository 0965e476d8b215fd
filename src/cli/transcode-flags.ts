// The transcoding flags of `origin` and `all` (issue 11): the ladders (--transcode APP=RUNGS, repeatable,
// and --transcode-file), the libx264 settings, on demand and remote. Turned into OriginConfig.transcode.
import { readFileSync } from 'node:fs';
import { extname } from 'node:path';
import type { Command } from 'commander';
import { z } from 'zod';
import { ORIGIN_DEFAULTS } from '../origin/defaults.js';
import type { OriginTranscodeConfig } from '../origin/origin.js';
import { DEFAULT_RUNGS, parseLadderFile, parseTranscodeFlag, X264_PRESETS, X264_TUNES } from '../transcode/ladder.js';
import type { LadderConfig, Rung } from '../transcode/ladder.js';
import { boolFlag, collect, inSeconds, OptionsError } from './options.js';

/** Ladder files are small; anything bigger is not one. */
const MAX_LADDER_FILE_BYTES = 1024 * 1024;

export const transcodeFields = {
  // Repeatable on the command line; LIVECDN_TRANSCODE holds the values separated by blanks.
  transcode: z
    .union([z.array(z.string()), z.string()])
    .optional()
    .transform((v) => (v === undefined ? [] : Array.isArray(v) ? v : v.split(/\s+/).filter((s) => s !== ''))),
  transcodeFile: z.string().min(1).optional(),
  transcodePreset: z.enum(X264_PRESETS),
  transcodeTune: z.enum([...X264_TUNES, 'none']),
  transcodeOnDemand: boolFlag,
  transcodeRemote: boolFlag,
  transcodeIdle: z.coerce.number().positive().max(24 * 3600),
};

type TranscodeOptions = z.infer<z.ZodObject<typeof transcodeFields>>;

export function addTranscodeOptions(cmd: Command): Command {
  const d = ORIGIN_DEFAULTS;
  return cmd
    .option(
      '--transcode <app=rungs>',
      `ABR ladder for an app's streams, e.g. live=720p,480p,360p (repeatable; rungs: ${Object.keys(DEFAULT_RUNGS).join(', ')}; needs FFmpeg)`,
      collect,
    )
    .option('--transcode-file <path>', 'ABR ladders from a .json or .yaml file: {"live": [{"name": "low", "height": 180, "videoKbps": 250}]}')
    .option('--transcode-preset <preset>', `libx264 preset of the rungs (${X264_PRESETS.join(', ')})`, d.transcodePreset)
    .option('--transcode-tune <tune>', `libx264 tune of the rungs (${X264_TUNES.join(', ')}, none)`, d.transcodeTune ?? 'none')
    .option('--transcode-on-demand', "start a stream's ladder when a viewer asks for a rung, stop it when its rungs have no viewers")
    .option('--transcode-idle <sec>', 'with --transcode-on-demand: a ladder without rung viewers for this long stops', inSeconds(d.transcodeIdleMs))
    .option('--transcode-remote', 'the rungs come from remote transcoders (livecdn transcode): nothing is spawned here');
}

const invalid = (flag: string, message: string): OptionsError => new OptionsError(`invalid options:\n  --${flag}: ${message}`);

/** The ladders of --transcode and --transcode-file (an app in both is refused). */
function laddersOf(o: TranscodeOptions): LadderConfig {
  let fromFlags: LadderConfig;
  try {
    fromFlags = parseTranscodeFlag(o.transcode);
  } catch (err) {
    // Its messages name the flag already.
    throw new OptionsError(`invalid options:\n  ${(err as Error).message}`);
  }
  if (o.transcodeFile === undefined) return fromFlags;
  const ext = extname(o.transcodeFile).toLowerCase();
  const kind = ext === '.json' ? 'json' : ext === '.yaml' || ext === '.yml' ? 'yaml' : undefined;
  if (!kind) throw invalid('transcode-file', 'must end in .json, .yaml or .yml');
  let fromFile: LadderConfig;
  try {
    const text = readFileSync(o.transcodeFile);
    if (text.length > MAX_LADDER_FILE_BYTES) throw new Error(`larger than ${MAX_LADDER_FILE_BYTES} bytes`);
    fromFile = parseLadderFile(text.toString('utf8'), kind);
  } catch (err) {
    throw invalid('transcode-file', `${o.transcodeFile}: ${(err as Error).message}`);
  }
  const ladders = new Map<string, readonly Rung[]>(fromFlags);
  for (const [app, rungs] of fromFile) {
    if (ladders.has(app)) throw invalid('transcode-file', `app ${app} also has a --transcode ladder`);
    ladders.set(app, rungs);
  }
  return ladders;
}

/** OriginConfig.transcode, or undefined without a ladder. */
export function transcodeConfigOf(o: TranscodeOptions): OriginTranscodeConfig | undefined {
  const ladders = laddersOf(o);
  if (ladders.size === 0) {
    if (o.transcodeOnDemand) throw invalid('transcode-on-demand', 'needs a ladder (--transcode or --transcode-file)');
    if (o.transcodeRemote) throw invalid('transcode-remote', 'needs a ladder (--transcode or --transcode-file)');
    return undefined;
  }
  if (o.transcodeOnDemand && o.transcodeRemote) throw invalid('transcode-on-demand', 'not with --transcode-remote (remote transcoders take whole ladders)');
  return {
    ladders,
    settings: { preset: o.transcodePreset, tune: o.transcodeTune === 'none' ? undefined : o.transcodeTune },
    onDemand: o.transcodeOnDemand,
    remote: o.transcodeRemote,
    idleMs: o.transcodeIdle * 1000,
  };
}
