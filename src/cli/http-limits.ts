// The HTTP listener limits of `origin`, `edge` and `signal` (and `all`): timeouts against slow clients, a header
// count and a connection cap, each a flag with its default from DEFAULT_HTTP_LIMITS.
import type { Command } from 'commander';
import { z } from 'zod';
import { DEFAULT_HTTP_LIMITS, type HttpLimits } from '../shared/http.js';
import { inSeconds, positiveInt } from './options.js';

const seconds = z.coerce.number().positive().max(3600);

export const httpLimitFields = {
  httpHeadersTimeout: seconds,
  httpRequestTimeout: seconds,
  httpKeepaliveTimeout: seconds,
  httpMaxHeaders: positiveInt.max(1000),
  httpMaxConnections: positiveInt,
};

export function addHttpLimitOptions(cmd: Command): Command {
  const d = DEFAULT_HTTP_LIMITS;
  return cmd
    .option('--http-headers-timeout <sec>', 'time a client has to send the request head', inSeconds(d.headersTimeoutMs))
    .option('--http-request-timeout <sec>', 'time a client has to send the whole request (not the response)', inSeconds(d.requestTimeoutMs))
    .option('--http-keepalive-timeout <sec>', 'idle time of a kept-alive HTTP connection', inSeconds(d.keepAliveTimeoutMs))
    .option('--http-max-headers <n>', 'request headers parsed', String(d.maxHeadersCount))
    .option('--http-max-connections <n>', 'open HTTP connections; new ones past it are closed at once', String(d.maxConnections));
}

export function httpLimitsOf(o: { [K in keyof typeof httpLimitFields]: z.infer<(typeof httpLimitFields)[K]> }): HttpLimits {
  return {
    // Node requires the head to be due no later than the whole request.
    headersTimeoutMs: Math.min(o.httpHeadersTimeout, o.httpRequestTimeout) * 1000,
    requestTimeoutMs: o.httpRequestTimeout * 1000,
    keepAliveTimeoutMs: o.httpKeepaliveTimeout * 1000,
    maxHeadersCount: o.httpMaxHeaders,
    maxConnections: o.httpMaxConnections,
  };
}
