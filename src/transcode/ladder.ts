// The transcoding ladder: which rungs each app's live streams are encoded to, from the --transcode flag
// ('live=720p,480p,360p', names of DEFAULT_RUNGS) or a JSON/YAML ladder file. Pure: no I/O.
import { parse as parseYaml } from 'yaml';
import { z } from 'zod';
import type { RungSpec } from '../shared/cluster.js';
import { rungSpecSchema } from '../shared/transcode-job.js';
import { isValidName } from '../shared/url-contract.js';

/** One rung's encoder settings; defined in shared/cluster.ts, where remote transcoders' assignments carry it. */
export type Rung = RungSpec;

export interface TranscodeSettings {
  /** libx264 -preset (X264_PRESETS). */
  readonly preset: string;
  /** libx264 -tune (undefined: none). */
  readonly tune: string | undefined;
}

/** libx264's presets and tunes: the values --transcode-preset and --transcode-tune accept. */
export const X264_PRESETS = ['ultrafast', 'superfast', 'veryfast', 'faster', 'fast', 'medium', 'slow', 'slower', 'veryslow', 'placebo'] as const;
export const X264_TUNES = ['film', 'animation', 'grain', 'stillimage', 'fastdecode', 'zerolatency', 'psnr', 'ssim'] as const;

/** Rungs per app, highest first. */
export type LadderConfig = ReadonlyMap<string, readonly Rung[]>;

const rung = (name: string, height: number, videoKbps: number, maxFps: number, audioKbps: number): Rung => ({ name, height, videoKbps, maxFps, audioKbps });

/**
 * The default rungs (bit rates near Apple's HLS authoring guidelines for H.264 at 30 fps; 60 fps
 * sources keep their rate at 720p and up).
 */
export const DEFAULT_RUNGS: Readonly<Record<string, Rung>> = {
  '1080p': rung('1080p', 1080, 5000, 60, 128),
  '720p': rung('720p', 720, 2800, 60, 128),
  '480p': rung('480p', 480, 1400, 30, 96),
  '360p': rung('360p', 360, 800, 30, 96),
  '240p': rung('240p', 240, 400, 30, 64),
  '160p': rung('160p', 160, 200, 15, 48),
};

/** Highest first; ties are refused by the parsers, so the order is total. */
const byHeight = (rungs: readonly Rung[]): Rung[] => [...rungs].sort((a, b) => b.height - a.height);

/** Names and heights unique: each rung is one stream and one playlist line. */
function checkApp(app: string, rungs: readonly Rung[], where: string): void {
  if (!isValidName(app)) throw new Error(`${where}: invalid app name ${JSON.stringify(app)}`);
  if (rungs.length === 0) throw new Error(`${where}: app ${app} has no rungs`);
  const names = new Set<string>();
  const heights = new Set<number>();
  for (const r of rungs) {
    if (names.has(r.name)) throw new Error(`${where}: app ${app} lists rung ${r.name} twice`);
    if (heights.has(r.height)) throw new Error(`${where}: app ${app} has two rungs of height ${r.height}`);
    names.add(r.name);
    heights.add(r.height);
  }
}

/** `--transcode APP=RUNG,RUNG…` values (repeatable; rung names from DEFAULT_RUNGS). */
export function parseTranscodeFlag(values: readonly string[]): LadderConfig {
  const ladders = new Map<string, readonly Rung[]>();
  for (const value of values) {
    const eq = value.indexOf('=');
    if (eq < 0) throw new Error(`--transcode ${JSON.stringify(value)}: expected APP=RUNG,RUNG… (e.g. live=720p,480p,360p)`);
    const app = value.slice(0, eq).trim();
    if (ladders.has(app)) throw new Error(`--transcode: app ${app} given twice`);
    const rungs = value
      .slice(eq + 1)
      .split(',')
      .map((n) => n.trim())
      .filter((n) => n !== '')
      .map((n) => {
        const r = Object.hasOwn(DEFAULT_RUNGS, n) ? DEFAULT_RUNGS[n] : undefined;
        if (!r) throw new Error(`--transcode: unknown rung ${JSON.stringify(n)} (known: ${Object.keys(DEFAULT_RUNGS).join(', ')}; other rungs need --transcode-file)`);
        return r;
      });
    checkApp(app, rungs, '--transcode');
    ladders.set(app, byHeight(rungs));
  }
  return ladders;
}

const rungSchema = z
  .object({
    name: rungSpecSchema.shape.name,
    height: z.number().int().min(32).max(4320).refine((h) => h % 2 === 0, 'the height must be even'),
    videoKbps: z.number().int().min(32).max(100_000),
    maxFps: z.number().min(1).max(240).default(30),
    audioKbps: z.number().int().min(16).max(512).default(128),
  })
  .strict();
const ladderFileSchema = z.record(z.string(), z.array(rungSchema).max(16));

/** A ladder file: `{"live": [{"name": "low", "height": 180, "videoKbps": 250, "maxFps"?: 30, "audioKbps"?: 128}]}`. */
export function parseLadderFile(text: string, kind: 'json' | 'yaml'): LadderConfig {
  let data: unknown;
  try {
    data = kind === 'json' ? JSON.parse(text) : parseYaml(text);
  } catch (err) {
    throw new Error(`transcode ladder file: not valid ${kind.toUpperCase()}: ${(err as Error).message}`);
  }
  const parsed = ladderFileSchema.safeParse(data);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    throw new Error(`transcode ladder file: ${issue ? `${issue.path.join('.') || '(top)'}: ${issue.message}` : 'invalid'}`);
  }
  const ladders = new Map<string, readonly Rung[]>();
  for (const [app, rungs] of Object.entries(parsed.data)) {
    checkApp(app, rungs, 'transcode ladder file');
    ladders.set(app, byHeight(rungs));
  }
  return ladders;
}

/** The rungs a source gets: those below its height (all while its height is unknown). */
export const rungsFor = (rungs: readonly Rung[], source: { height: number | undefined }): Rung[] =>
  rungs.filter((r) => source.height === undefined || r.height < source.height);
