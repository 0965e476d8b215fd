// Validation of the remote-transcoding JSON (shared/cluster.ts TranscodeJob, TranscodeAssignment): the
// signal checks an origin's heartbeat with it, a transcoder the signal's answer. Every value ends up in an
// FFmpeg argument list, so each is bounded and the strings are plain words.
import { z } from 'zod';
import { NAME_PATTERN, RUNG_NAME, SOURCE_RUNG } from './url-contract.js';

/** Rungs one job may carry: a bound on what a heartbeat costs, not a ladder policy. */
const MAX_JOB_RUNGS = 16;
/** Sources one assignment answer may list. */
const MAX_ASSIGNMENTS = 1000;

const word = z.string().regex(/^[a-z0-9_-]{1,32}$/, 'must be a word of a-z, 0-9, _ and -');

export const rungSpecSchema = z.object({
  name: z
    .string()
    .regex(RUNG_NAME, 'a rung name is 1-16 of a-z, 0-9')
    .refine((n) => n !== SOURCE_RUNG, `"${SOURCE_RUNG}" names the source itself`),
  height: z.number().int().min(16).max(4320),
  videoKbps: z.number().int().min(1).max(100_000),
  maxFps: z.number().min(1).max(240),
  audioKbps: z.number().int().min(8).max(1024),
});

export const transcodeJobSchema = z.object({
  rungs: z.array(rungSpecSchema).min(1).max(MAX_JOB_RUNGS),
  preset: word,
  tune: word.nullable(),
  audio: z.enum(['copy', 'encode', 'none']),
  sourceFps: z.number().positive().max(1000).nullable(),
});

const urlOf = (scheme: RegExp) =>
  z
    .string()
    .max(2048)
    .url()
    .refine((u) => scheme.test(u), 'unexpected URL scheme');

const assignmentSchema = transcodeJobSchema.extend({
  app: z.string().regex(NAME_PATTERN),
  stream: z.string().regex(NAME_PATTERN),
  origin: z.string().max(128),
  httpUrl: urlOf(/^https?:\/\//),
  rtmpUrl: urlOf(/^rtmps?:\/\//),
});

export const assignmentsAnswerSchema = z.object({ assignments: z.array(assignmentSchema).max(MAX_ASSIGNMENTS) });

/** The signal's route: a transcoder's sources (node-signed GET, `?node=ID`). */
export const TRANSCODE_ASSIGNMENTS_PATH = '/api/transcode/assignments';
