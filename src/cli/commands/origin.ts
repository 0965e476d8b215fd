// `livecdn origin`: RTMP ingest and play, HTTP-FLV, HLS, /metrics and /api.
import type { Command } from 'commander';
import { z } from 'zod';
import { createLogger } from '../../shared/log.js';
import type { Logger } from '../../shared/log.js';
import { Origin } from '../../origin/origin.js';
import { ORIGIN_DEFAULTS } from '../../origin/defaults.js';
import type { OriginConfig } from '../../origin/origin.js';
import {
  addHttpListenOptions,
  addRegistrationOptions,
  boolFlag,
  httpListenFields,
  httpUrl,
  inSeconds,
  nonNegativeNumber,
  OptionsError,
  portSchema,
  positiveInt,
  readCommandOptions,
  registrationFields,
} from '../options.js';
import { addHttpLimitOptions, httpLimitFields, httpLimitsOf } from '../http-limits.js';
import { addTranscodeOptions, transcodeConfigOf, transcodeFields } from '../transcode-flags.js';
import { addRecordOptions, recordConfigOf, recordFields } from '../record-flags.js';
import { addDvrOptions, dvrConfigOf, dvrFields } from '../dvr-flags.js';
import { playerPages } from '../pages.js';
import { addSecretOptions, isLoopback, readKeys, requirePlayKeys, secretFields } from '../secret.js';
import { stopOnSignals } from '../shutdown.js';

const rtmpUrl = z
  .string()
  .url()
  .refine((u) => /^rtmps?:\/\//.test(u), 'must be an rtmp:// or rtmps:// URL');

export const originSchema = z.object({
  rtmpPort: portSchema,
  ...httpListenFields,
  hlsSegment: z.coerce.number().positive().max(60),
  hlsWindow: positiveInt.max(100),
  hlsGrace: nonNegativeNumber,
  hlsRemoveAfter: nonNegativeNumber,
  hlsFormat: z.enum(['ts', 'fmp4', 'auto']),
  hlsPart: z.coerce
    .number()
    .nonnegative()
    .max(10)
    .refine((s) => s === 0 || s * 1000 >= ORIGIN_DEFAULTS.hlsMinPartMs, `must be 0 (LL-HLS off) or at least ${ORIGIN_DEFAULTS.hlsMinPartMs / 1000}`),
  ...secretFields,
  playTokens: boolFlag,
  onPublish: httpUrl.optional(),
  onPlay: httpUrl.optional(),
  onDone: httpUrl.optional(),
  maxConnections: positiveInt,
  maxConnectionsPerIp: positiveInt,
  publisherSlots: z.coerce.number().int().nonnegative().optional(),
  startTimeout: z.coerce.number().positive().max(600),
  maxMessageSize: positiveInt.min(1024).max(64 * 1024 * 1024),
  writeBatchMs: nonNegativeNumber.max(1000),
  maxViewerQueue: positiveInt,
  maxViewerLag: nonNegativeNumber,
  publishTakeover: boolFlag,
  playWait: nonNegativeNumber.max(3600),
  ...httpLimitFields,
  ...transcodeFields,
  ...recordFields,
  ...dvrFields,
  // Registration with the signal service (`origin` only).
  rtmpUrl: rtmpUrl.optional(),
  ...registrationFields(ORIGIN_DEFAULTS),
  clusterMiss: z.enum(['proxy', 'redirect', 'off']).default(ORIGIN_DEFAULTS.clusterMiss),
  clusterMaxProxies: positiveInt.default(ORIGIN_DEFAULTS.clusterMaxProxies),
});

export type OriginOptions = z.infer<typeof originSchema>;

/** Declares the origin's flags on a command (shared with `all`). */
export function addOriginOptions(cmd: Command, defaultHost: string = ORIGIN_DEFAULTS.host): Command {
  const d = ORIGIN_DEFAULTS;
  addSecretOptions(addDvrOptions(addRecordOptions(addTranscodeOptions(addHttpLimitOptions(cmd)))), 'development only: no secret, so no publish tokens and an open kick API (needed off loopback without a secret)').option(
    '--rtmp-port <port>',
    'RTMP port (publish and play)',
    String(d.rtmpPort),
  );
  return addHttpListenOptions(cmd, 'HTTP-FLV, HLS, /metrics, /api', { httpPort: d.httpPort, host: defaultHost })
    .option('--hls-segment <sec>', 'HLS target segment duration', inSeconds(d.hlsSegmentMs))
    .option('--hls-window <n>', 'segments in the live playlist', String(d.hlsWindow))
    .option('--hls-grace <sec>', 'a republish within this continues the playlist', inSeconds(d.hlsGraceMs))
    .option('--hls-remove-after <sec>', 'an ended playlist answers 404 after this', inSeconds(d.hlsRemoveAfterMs))
    .option('--hls-format <format>', 'HLS container: ts, fmp4, or auto (fMP4 for HEVC/AV1 or with LL-HLS, else MPEG-TS)', d.hlsFormat)
    .option('--hls-part <sec>', 'LL-HLS part target, e.g. 0.2 (0: LL-HLS off; needs fmp4 or auto; best with a ~1 s GOP and --hls-segment 1)', inSeconds(d.hlsPartMs))
    .option('--play-tokens', 'require a play token (?token=) on every playlist, segment and FLV request (needs the secret)')
    .option('--on-publish <url>', 'POST hook that must answer 2xx for a publish to go ahead')
    .option('--on-play <url>', 'POST hook that must answer 2xx for a play to go ahead')
    .option('--on-done <url>', 'POST hook told when a publisher or player ends')
    .option('--max-connections <n>', 'RTMP connection limit', String(d.maxConnections))
    .option('--max-connections-per-ip <n>', 'RTMP connections per client address (IPv6: per /64)', String(d.maxConnectionsPerIp))
    .option('--publisher-slots <n>', 'RTMP connections of --max-connections only publishers may take (default: a tenth)')
    .option('--start-timeout <sec>', 'an RTMP connection that does not publish or play within this is dropped', inSeconds(d.startTimeoutMs))
    .option('--max-message-size <bytes>', 'largest RTMP message accepted', String(d.maxMessageSize))
    .option('--write-batch-ms <ms>', 'HTTP-FLV and RTMP viewer write window (0: unbatched)', String(d.writeBatchMs))
    .option('--max-viewer-queue <bytes>', 'a viewer with more queued skips to the next keyframe', String(d.maxViewerQueueBytes))
    .option('--max-viewer-lag <sec>', 'a viewer skipping for longer is disconnected', inSeconds(d.maxViewerLagMs))
    .option('--publish-takeover', 'a new publisher replaces a live one instead of being refused')
    .option('--play-wait <sec>', 'a viewer of a stream that is not live yet waits this long for its publisher (0: 404 at once)', inSeconds(d.playWaitMs));
}

/** The flags of registration with the control plane (the `origin` command only). */
export function addOriginSignalOptions(cmd: Command): Command {
  return addRegistrationOptions(cmd, {
    kind: 'origin',
    publicUrl: 'HTTP URL viewers, edges and the control plane use to reach this origin',
    capacity: 'publishers before this origin counts as full',
    defaults: ORIGIN_DEFAULTS,
  })
    .option('--rtmp-url <url>', 'RTMP URL encoders push to, e.g. rtmp://origin1.example:1935')
    .option(
      '--cluster-miss <mode>',
      'with --signal, a direct request for a stream another origin holds: proxy (fetched from there), redirect (302 there) or off (answered here: 404, or the FLV play wait)',
      ORIGIN_DEFAULTS.clusterMiss,
    )
    .option('--cluster-max-proxies <n>', 'requests proxied to other origins at once (503 past it)', String(ORIGIN_DEFAULTS.clusterMaxProxies));
}

/** Parses the command's flags over LIVECDN_* variables; throws OptionsError with one line per bad value. */
export function readOriginOptions(cmd: Command, flags: Record<string, unknown>): OriginOptions {
  return readCommandOptions(originSchema, cmd, flags);
}

export function originConfig(o: OriginOptions, logger: Logger): OriginConfig {
  const keys = readKeys(o);
  requirePlayKeys(o.playTokens, keys);
  if (o.publisherSlots !== undefined && o.publisherSlots >= o.maxConnections)
    throw new OptionsError('invalid options:\n  --publisher-slots: must be below --max-connections');
  if (o.hlsPart > 0 && o.hlsFormat === 'ts') throw new OptionsError('invalid options:\n  --hls-part: LL-HLS needs fMP4: use --hls-format fmp4 or auto, or --hls-part 0');
  if (o.hlsPart > o.hlsSegment) throw new OptionsError('invalid options:\n  --hls-part: must not exceed --hls-segment');
  const transcode = transcodeConfigOf(o);
  const dvr = dvrConfigOf(o, o.hlsSegment * 1000);
  return {
    host: o.host,
    rtmpPort: o.rtmpPort,
    httpPort: o.httpPort,
    hlsSegmentMs: o.hlsSegment * 1000,
    hlsWindow: o.hlsWindow,
    hlsGraceMs: o.hlsGrace * 1000,
    hlsRemoveAfterMs: o.hlsRemoveAfter * 1000,
    hlsFormat: o.hlsFormat,
    // Whole milliseconds: part durations and PART-TARGET are compared at that precision.
    hlsPartMs: Math.round(o.hlsPart * 1000),
    keys,
    playTokens: o.playTokens,
    onPublish: o.onPublish,
    onPlay: o.onPlay,
    onDone: o.onDone,
    maxConnections: o.maxConnections,
    maxConnectionsPerIp: o.maxConnectionsPerIp,
    ...(o.publisherSlots !== undefined ? { publisherSlots: o.publisherSlots } : {}),
    startTimeoutMs: o.startTimeout * 1000,
    maxMessageSize: o.maxMessageSize,
    writeBatchMs: o.writeBatchMs,
    slowViewer: { maxQueueBytes: o.maxViewerQueue, resumeQueueBytes: Math.floor(o.maxViewerQueue / 4), maxLagMs: o.maxViewerLag * 1000 },
    publishTakeover: o.publishTakeover,
    playWaitMs: o.playWait * 1000,
    clusterMiss: o.clusterMiss,
    clusterMaxProxies: o.clusterMaxProxies,
    httpLimits: httpLimitsOf(o),
    ...(transcode ? { transcode } : {}),
    record: recordConfigOf(o),
    ...(dvr ? { dvr } : {}),
    // The player, streamer and dashboard pages, which every node kind serves under /player/.
    pages: playerPages(),
    ...(o.signal
      ? {
          signal: {
            url: o.signal,
            region: o.region,
            nodeId: o.nodeId,
            publicUrl: o.publicUrl,
            rtmpUrl: o.rtmpUrl,
            capacity: o.capacity,
            heartbeatMs: o.heartbeat * 1000,
          },
        }
      : {}),
    logger,
  };
}

export function registerOrigin(program: Command): void {
  addOriginSignalOptions(addOriginOptions(program.command('origin').description('RTMP ingest remuxed to HTTP-FLV, RTMP play and HLS'))).action(
    async (flags: Record<string, unknown>, cmd: Command) => {
      const o = readOriginOptions(cmd, flags);
      // Reachable from other machines, an origin without a secret takes any publisher and any kick.
      if (!isLoopback(o.host) && !o.insecure && readKeys(o) === undefined) {
        throw new OptionsError(
          `invalid options:\n  --secret-file: required when binding ${o.host}: give the cluster secret (--secret-file PATH or LIVECDN_SECRET), bind 127.0.0.1, or add --insecure`,
        );
      }
      const log = createLogger('origin');
      const origin = new Origin(originConfig(o, log));
      await origin.start();
      stopOnSignals(log, () => origin.stop());
    },
  );
}
