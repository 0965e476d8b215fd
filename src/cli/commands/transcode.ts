// `livecdn transcode`: a remote transcoder. Takes the sources the signal assigns it, pulls each over
// HTTP-FLV and publishes its rungs back to the source's origin over RTMP (src/transcode/remote-transcoder.ts).
import type { Command } from 'commander';
import { z } from 'zod';
import { createLogger } from '../../shared/log.js';
import { RemoteTranscoder, REMOTE_TRANSCODER_DEFAULTS } from '../../transcode/remote-transcoder.js';
import { requireFfmpeg } from '../../shared/ffmpeg.js';
import { addHttpListenOptions, addRegistrationOptions, httpListenFields, httpUrl, httpUrlList, readCommandOptions, registrationFields } from '../options.js';
import { addSecretOptions, requireKeys, secretFields } from '../secret.js';
import { stopOnSignals } from '../shutdown.js';

export const transcodeSchema = z.object({
  ...registrationFields(REMOTE_TRANSCODER_DEFAULTS),
  // Required here: the signal is where a transcoder's work comes from.
  signal: httpUrlList('required: the control plane that assigns sources, e.g. http://signal:8090 (several instances comma-separated)'),
  upstream: httpUrl.optional(),
  ...httpListenFields,
  ...secretFields,
});

export function registerTranscode(program: Command): void {
  const d = REMOTE_TRANSCODER_DEFAULTS;
  const cmd = program
    .command('transcode')
    .description('remote transcoder: encodes the ladders of the sources the signal assigns it (origins with --transcode-remote)');
  addSecretOptions(cmd, 'development only: an --insecure cluster (unsigned requests, no publish or play tokens)').option(
    '--upstream <url>',
    'pull sources over HTTP-FLV from here (an edge, a private address) instead of their origin',
  );
  addHttpListenOptions(cmd, '/healthz, /metrics, /api/transcoder', d);
  addRegistrationOptions(cmd, {
    kind: 'transcoder',
    publicUrl: 'URL of this transcoder\'s HTTP port (registration; the dashboard links it)',
    capacity: 'sources this transcoder takes',
    defaults: d,
  }).action(async (flags: Record<string, unknown>, c: Command) => {
    const o = readCommandOptions(transcodeSchema, c, flags);
    const keys = requireKeys(o, 'a transcoder');
    // No FFmpeg: a clear error now, not a restart loop per source later.
    await requireFfmpeg();
    const log = createLogger('transcode');
    const t = new RemoteTranscoder({
      signal: o.signal,
      upstream: o.upstream,
      keys,
      host: o.host,
      httpPort: o.httpPort,
      publicUrl: o.publicUrl,
      nodeId: o.nodeId,
      region: o.region,
      capacity: o.capacity,
      heartbeatMs: o.heartbeat * 1000,
      logger: log,
    });
    await t.start();
    stopOnSignals(log, () => t.stop());
  });
}
