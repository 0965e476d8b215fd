// Test helper: play and publish tokens for streams of one app, valid for an hour, signed with a test
// cluster's keys (as the signal hands them out).
import type { ClusterKeys } from '../../src/shared/keys.js';
import { signPlayToken, signPublishToken } from '../../src/shared/token.js';

export const inAnHour = (): number => Math.floor(Date.now() / 1000) + 3600;

export interface StreamTokens {
  play(stream: string): string;
  publish(stream: string): string;
}

export function streamTokens(keys: ClusterKeys, app = 'live'): StreamTokens {
  return {
    play: (stream) => signPlayToken({ app, stream, expSec: inAnHour() }, keys.play),
    publish: (stream) => signPublishToken({ app, stream, expSec: inAnHour() }, keys.publish),
  };
}
