// A registry store that cannot be reached (Redis down, restarting or still loading) is an outage of a
// dependency, not a bug in this service: callers get a 503 they can retry and the log a warning, rather
// than a 500 and an error line per request.

// ioredis: commands that waited out their reconnect retries, or were sent on a closed connection;
// Redis itself while it loads its data after a restart.
const OUTAGE_MESSAGE = /^(Connection is closed\.|Stream isn't writeable|LOADING )/;

export function isStoreOutage(err: unknown): boolean {
  return err instanceof Error && (err.name === 'MaxRetriesPerRequestError' || OUTAGE_MESSAGE.test(err.message));
}
