// The FFmpeg command line of one source's ladder (pure): decode once, split, scale each rung, encode each
// with libx264 keyed on the source's keyframes, and write each rung as FLV to its own output. Both
// transcoders read FLV on pipe:0: the local one (transcoder.ts) writes pipe:3…, a remote one
// (remote-job.ts) RTMP URLs. bench:abr gives FFmpeg the source itself (an HTTP-FLV URL, a file).
import type { Rung, TranscodeSettings } from './ladder.js';

/** What happens to the source's audio: AAC is copied into every rung, anything else encoded to AAC. */
export type AudioHandling = 'copy' | 'encode' | 'none';

export interface TranscodeArgsOptions {
  /** 'pipe:0' (FLV on stdin, both transcoders) or an FLV URL or file (bench:abr), read with -nostdin. */
  readonly input: string;
  readonly rungs: readonly Rung[];
  /** One per rung, same order: 'pipe:3', … or RTMP URLs. */
  readonly outputs: readonly string[];
  readonly settings: TranscodeSettings;
  /** The source's frame rate when known: rungs with a lower maxFps keep fewer frames (keyframes all). */
  readonly sourceFps?: number | undefined;
  readonly audio: AudioHandling;
}

/** The extra pipes of a local transcoder: rung i is written to fd 3 + i. */
export const FIRST_OUTPUT_FD = 3;
export const pipeOutputs = (count: number): string[] => Array.from({ length: count }, (_, i) => `pipe:${FIRST_OUTPUT_FD + i}`);

/** Within this of maxFps a source is left alone (29.97 under a cap of 30). */
const FPS_SLACK = 0.5;

/**
 * Frames kept for a rung capped at maxFps: the first, every keyframe, and any frame at least a frame
 * interval (less 0.5 ms of timestamp rounding) after the last one kept. Not the fps filter: it keeps
 * frames on its own time grid and drops a source keyframe that falls between, and a rung keyframe must
 * be wherever the source has one.
 */
const capFps = (maxFps: number): string => `select='isnan(prev_selected_t)+key+gte(t-prev_selected_t,${(1 / maxFps - 0.0005).toFixed(4)})',`;

/** The -filter_complex graph: one split of the decoded video, one (frame cap and) scale chain per rung. */
function filterGraph(rungs: readonly Rung[], sourceFps: number | undefined): string {
  const n = rungs.length;
  const split = n === 1 ? '[0:v]null[s0]' : `[0:v]split=${n}${rungs.map((_, i) => `[s${i}]`).join('')}`;
  const chains = rungs.map((r, i) => {
    const cap = sourceFps !== undefined && sourceFps > r.maxFps + FPS_SLACK ? capFps(r.maxFps) : '';
    // The width is rounded to even; square pixels (setsar=1) rather than a SAR that makes up the rounding,
    // which players would show as an odd size (214x121 for 120 lines of a 16:9 source).
    return `[s${i}]${cap}scale=-2:${r.height},setsar=1[o${i}]`;
  });
  return [split, ...chains].join(';');
}

function rungArgs(r: Rung, i: number, o: TranscodeArgsOptions, output: string): string[] {
  const audio =
    o.audio === 'none' ? [] : ['-map', '0:a?', ...(o.audio === 'copy' ? ['-c:a', 'copy'] : ['-c:a', 'aac', '-b:a', `${r.audioKbps}k`])];
  return [
    '-map', `[o${i}]`,
    ...audio,
    '-c:v', 'libx264',
    '-preset', o.settings.preset,
    ...(o.settings.tune !== undefined ? ['-tune', o.settings.tune] : []),
    '-pix_fmt', 'yuv420p',
    '-b:v', `${r.videoKbps}k`,
    '-maxrate', `${r.videoKbps}k`,
    '-bufsize', `${r.videoKbps * 2}k`,
    // Keyframes exactly where the source has them (with -copyts, at the same times), and nowhere else:
    // every rung's segments then cut at the same media times as the source's.
    '-force_key_frames', 'source',
    '-g', '9999',
    '-sc_threshold', '0',
    // The encoder's clock in ms, as FLV's: by default it ticks in frames (1/fps) and rounds every time,
    // the keyframes' included, onto that grid, off the source's times.
    '-enc_time_base:v', '1:1000',
    // Each FLV tag leaves at once (pipes would otherwise hold 32 KiB, seconds of a low rung).
    '-flush_packets', '1',
    '-flvflags', 'no_duration_filesize',
    '-f', 'flv',
    output,
  ];
}

/** The whole argument list (without the binary). */
export function transcodeArgs(o: TranscodeArgsOptions): string[] {
  if (o.rungs.length === 0) throw new Error('transcodeArgs: no rungs');
  if (o.outputs.length !== o.rungs.length) throw new Error('transcodeArgs: one output per rung');
  return [
    '-hide_banner',
    '-loglevel', 'warning',
    // Progress blocks on stdout (progress.ts), no status line on stderr: stderr carries only warnings.
    '-nostats',
    '-progress', 'pipe:1',
    ...(o.input === 'pipe:0' ? [] : ['-nostdin']),
    // Output timestamps are the source's: rungs stay on the source's timeline (and its keyframe times).
    '-copyts',
    '-f', 'flv',
    '-i', o.input,
    '-filter_complex', filterGraph(o.rungs, o.sourceFps),
    ...o.rungs.flatMap((r, i) => rungArgs(r, i, o, o.outputs[i] as string)),
  ];
}
