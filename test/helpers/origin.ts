// Test helper: an Origin on free ports (127.0.0.1, port 0), with its URLs. Stop it in after()/finally,
// or pass the test context to have it stopped for you.
import type { TestContext } from 'node:test';
import { Command } from 'commander';
import { Origin } from '../../src/origin/origin.js';
import type { OriginConfig } from '../../src/origin/origin.js';
import { addOriginOptions, addOriginSignalOptions, originConfig, readOriginOptions } from '../../src/cli/commands/origin.js';
import { createLogger } from '../../src/shared/log.js';
import { flvPath, playlistPath, rtmpPath } from '../../src/shared/url-contract.js';

/** The config `livecdn origin ARGV` runs with (flags over LIVECDN_* variables); throws OptionsError. */
export function originCliConfig(argv: readonly string[]): OriginConfig {
  const cmd = addOriginSignalOptions(addOriginOptions(new Command('origin'))).exitOverride();
  cmd.parse([...argv], { from: 'user' });
  return originConfig(readOriginOptions(cmd, cmd.opts()), createLogger('test'));
}

export interface TestOrigin {
  readonly origin: Origin;
  readonly rtmpPort: number;
  readonly httpPort: number;
  /** http://127.0.0.1:PORT */
  readonly httpBase: string;
  rtmpUrl(app: string, stream: string, query?: string): string;
  flvUrl(app: string, stream: string): string;
  hlsUrl(app: string, stream: string): string;
  stop(): Promise<void>;
}

export async function startOrigin(overrides: OriginConfig = {}, t?: TestContext): Promise<TestOrigin> {
  const origin = new Origin({ host: '127.0.0.1', rtmpPort: 0, httpPort: 0, ...overrides });
  const { rtmpPort, httpPort } = await origin.start();
  const httpBase = `http://127.0.0.1:${httpPort}`;
  const o: TestOrigin = {
    origin,
    rtmpPort,
    httpPort,
    httpBase,
    rtmpUrl: (app, stream, query) => `rtmp://127.0.0.1:${rtmpPort}${rtmpPath(app, stream)}${query ? `?${query}` : ''}`,
    flvUrl: (app, stream) => httpBase + flvPath(app, stream),
    hlsUrl: (app, stream) => httpBase + playlistPath(app, stream),
    stop: () => origin.stop(),
  };
  t?.after(() => o.stop());
  return o;
}
