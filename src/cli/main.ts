#!/usr/bin/env node
// The livecdn binary: one subcommand per service, and `all` for the embedded single-process default.
import { Command } from 'commander';
import { registerOrigin } from './commands/origin.js';
import { registerEdge } from './commands/edge.js';
import { registerSignal } from './commands/signal.js';
import { registerAll } from './commands/all.js';
import { registerKeys } from './commands/keys.js';
import { registerTranscode } from './commands/transcode.js';
import { OptionsError } from './options.js';
import { FfmpegMissingError } from '../shared/ffmpeg.js';

const program = new Command('livecdn').description('live streaming CDN: origin, edge, signal, transcoder').showHelpAfterError();
registerOrigin(program);
registerEdge(program);
registerSignal(program);
registerAll(program);
registerTranscode(program);
registerKeys(program);

program.parseAsync(process.argv).catch((err: unknown) => {
  if (err instanceof OptionsError) {
    console.error(`livecdn: ${err.message}`);
    process.exit(2);
  }
  if (err instanceof FfmpegMissingError) {
    console.error(`livecdn: ${err.message}`);
    process.exit(1);
  }
  console.error(err);
  process.exit(1);
});
