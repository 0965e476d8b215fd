// `livecdn all`: the embedded single-process default (`npm start`). For now it runs the origin with
// its defaults and prints where to push and play.
import type { Command } from 'commander';
import { createLogger } from '../../shared/log.js';
import { Origin } from '../../origin/origin.js';
import { addOriginOptions, originConfig, readOriginOptions, stopOnSignals } from './origin.js';

export function registerAll(program: Command): void {
  addOriginOptions(program.command('all').description('origin, edge and signal in one process on localhost')).action(
    async (flags: Record<string, unknown>, cmd: Command) => {
      const o = readOriginOptions(cmd, flags);
      const log = createLogger('livecdn');
      const origin = new Origin(originConfig(o, log));
      const { rtmpPort, httpPort } = await origin.start();
      stopOnSignals(log, () => origin.stop());
      const host = o.host === '0.0.0.0' || o.host === '::' ? 'localhost' : o.host;
      const lines = [
        '',
        'livecdn is running.',
        `  OBS  Settings > Stream > Service: Custom`,
        `       Server:     rtmp://${host}:${rtmpPort}/live`,
        `       Stream Key: mystream${o.secret ? '?token=<publish token>' : ''}`,
        `  FFmpeg  ffmpeg -re -i input.mp4 -c copy -f flv rtmp://${host}:${rtmpPort}/live/mystream`,
        `  Play  HTTP-FLV  http://${host}:${httpPort}/live/mystream.flv`,
        `        HLS       http://${host}:${httpPort}/live/mystream.m3u8`,
        `        RTMP      rtmp://${host}:${rtmpPort}/live/mystream`,
        `  Ops   http://${host}:${httpPort}/api/streams  http://${host}:${httpPort}/metrics`,
        '',
      ];
      process.stderr.write(lines.join('\n') + '\n');
    },
  );
}
