// `livecdn all`: the embedded single-process default (`npm start`): a signal service, an origin and one
// edge on localhost, wired to each other (both register with the signal), with the player pages on all.
// It binds 127.0.0.1 unless told otherwise, and needs the cluster secret or --insecure like the signal.
import type { Command } from 'commander';
import { z } from 'zod';
import { createLogger } from '../../shared/log.js';
import { Origin } from '../../origin/origin.js';
import { Edge } from '../../edge/edge.js';
import { Signal } from '../../signal/signal.js';
import { SIGNAL_DEFAULTS } from '../../signal/defaults.js';
import { parseOptions, portSchema } from '../options.js';
import { playerPages } from '../pages.js';
import { requireKeys } from '../secret.js';
import { addOriginOptions, originConfig, readOriginOptions } from './origin.js';
import { stopOnSignals } from '../shutdown.js';
import { httpLimitsOf } from '../http-limits.js';

const allSchema = z.object({ edgePort: portSchema, apiPort: portSchema });

export function registerAll(program: Command): void {
  const cmd = addOriginOptions(program.command('all').description('signal, origin and an edge in one process on localhost'), '127.0.0.1')
    .option('--edge-port <port>', 'HTTP port of the local edge', '8081')
    .option('--api-port <port>', 'HTTP port of the control plane (API and pages)', String(SIGNAL_DEFAULTS.apiPort));
  cmd.action(async (flags: Record<string, unknown>, c: Command) => {
    const o = readOriginOptions(c, flags);
    const explicit = new Set(['edgePort', 'apiPort'].filter((k) => c.getOptionValueSource(k) === 'cli'));
    const { edgePort, apiPort } = parseOptions(allSchema, { edgePort: flags.edgePort, apiPort: flags.apiPort }, process.env, explicit);
    const keys = requireKeys(o, '`livecdn all`');
    const log = createLogger('livecdn');
    const host = o.host === '0.0.0.0' || o.host === '::' ? 'localhost' : o.host;

    const signalUrl = `http://127.0.0.1:${apiPort}`;
    const signal = new Signal({
      apiPort,
      host: o.host,
      http: httpLimitsOf(o),
      keys,
      insecure: o.insecure,
      playTokens: o.playTokens,
      originRtmp: `rtmp://${host}:${o.rtmpPort}`,
      originHttp: `http://${host}:${o.httpPort}`,
      pages: playerPages(),
      logger: log.child({ service: 'signal' }),
    });
    await signal.start();

    const base = originConfig(o, log.child({ service: 'origin' }));
    const origin = new Origin({
      ...base,
      signal: {
        url: signalUrl,
        region: 'local',
        publicUrl: `http://${host}:${o.httpPort}`,
        rtmpUrl: `rtmp://${host}:${o.rtmpPort}`,
      },
    });
    await origin.start();

    const edge = new Edge({
      upstreams: [`http://127.0.0.1:${o.httpPort}`],
      httpPort: edgePort,
      host: o.host,
      region: 'local',
      publicUrl: `http://${host}:${edgePort}`,
      signal: signalUrl,
      // One origin, its upstream already: nothing to locate.
      locate: 'upstreams',
      ...(keys ? { keys } : {}),
      playTokens: o.playTokens,
      httpLimits: httpLimitsOf(o),
      pages: playerPages(),
      logger: log.child({ service: 'edge' }),
    });
    await edge.start();

    stopOnSignals(log, async () => {
      await edge.stop();
      await origin.stop();
      await signal.stop();
    });

    const key = keys
      ? `mystream?token=…  (create one: curl -XPOST -H "Authorization: Bearer $(livecdn keys --secret-file FILE)" http://${host}:${apiPort}/api/streams)`
      : 'mystream   (--insecure: no tokens, every write route open; development only)';
    process.stderr.write(
      [
        '',
        'livecdn is running: signal, origin and one edge.',
        `  OBS     Settings > Stream > Service: Custom`,
        `          Server:     rtmp://${host}:${o.rtmpPort}/live`,
        `          Stream Key: ${key}`,
        `  FFmpeg  ffmpeg -re -f lavfi -i testsrc2=size=1280x720:rate=30 -f lavfi -i sine -c:v libx264 -g 60 -c:a aac \\`,
        `            -f flv rtmp://${host}:${o.rtmpPort}/live/mystream`,
        `  Watch   http://${host}:${apiPort}/player/?stream=live/mystream     (placed on the edge by the signal)`,
        `          http://${host}:${edgePort}/live/mystream.m3u8   http://${host}:${edgePort}/live/mystream.flv   (edge)`,
        `          http://${host}:${o.httpPort}/live/mystream.flv   rtmp://${host}:${o.rtmpPort}/live/mystream   (origin)`,
        `  Stream  http://${host}:${apiPort}/player/streamer.html   Dashboard  http://${host}:${apiPort}/player/dashboard.html`,
        `  Ops     http://${host}:${apiPort}/api/nodes   http://${host}:${o.httpPort}/api/streams   /metrics on each port`,
        '',
      ].join('\n') + '\n',
    );
  });
}
