// A string the peer chose (app, stream name, tcUrl, command name) as it may appear in a log line or in a
// reply: cut to a bounded length, so a client cannot fill logs and replies with names up to the message
// cap, and with its `?token=` value redacted, since logs are read by more people than tokens are meant for.
import { redactUrl } from '../shared/log.js';

export const MAX_CLIENT_TEXT = 128;

export function clientText(s: string): string {
  // Cut first, so the work is bounded too; a cut inside "token=" leaves no value behind it.
  const cut = s.length > MAX_CLIENT_TEXT ? `${s.slice(0, MAX_CLIENT_TEXT)}...` : s;
  return redactUrl(cut);
}
