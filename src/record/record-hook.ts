// --on-record-done: a POST of JSON for every file that ended (done, failed, or interrupted found at
// start), through the hub's hook client (timeout, failures logged only).
import type { Hooks } from '../hub/hooks.js';
import type { Recording, RecordingCatalogue } from './catalogue.js';

export interface RecordDoneEvent {
  readonly action: 'record_done';
  readonly app: string;
  readonly stream: string;
  readonly id: string;
  readonly file: string;
  readonly durationMs: number;
  readonly bytes: number;
  readonly state: Recording['state'];
}

function recordDoneEvent(r: Recording): RecordDoneEvent {
  return { action: 'record_done', app: r.app, stream: r.stream, id: r.id, file: r.file, durationMs: r.durationMs, bytes: r.bytes, state: r.state };
}

/** Posts recordDoneEvent(r) to `url` for each recording that ends. */
export function hookRecordDone(catalogue: RecordingCatalogue, hooks: Hooks, url: string): void {
  catalogue.onEnded((r) => hooks.notify(url, recordDoneEvent(r), 'on_record_done'));
}
