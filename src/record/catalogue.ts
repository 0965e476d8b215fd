// The recordings on disk and their states. Layout (docs/architecture.md, url-contract RECORDING_NAME):
// {root}/{app}/{stream}/{YYYY-MM-DD}/{HHMMSS}[-N].flv, the recording's name being {YYYYMMDD}-{HHMMSS}[-N]
// (its UTC start). Beside each file a small sidecar {file}.json says what the catalogue knows of it
// (state, times, session and part); it is rewritten when the file ends, so a file whose sidecar still
// says 'recording' (or has none) was not closed cleanly: at start it is listed 'interrupted' (the file is
// still valid FLV up to its last flush). Thumbnails ({file}.thumbs.*) live beside it and go with it.
import { mkdir, opendir, open, readFile, rm, rmdir, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { FLV_HEADER_SIZE } from '../media/flv/header.js';
import { flvTagDataSize, flvTagTimestamp } from '../media/flv/tag-header.js';
import { FLV_TAG_HEADER_SIZE } from '../media/flv/tag-writer.js';
import type { Logger } from '../shared/log.js';
import { isRecordingName, isValidName, RECORDING_NAME, recordingId, validNames } from '../shared/url-contract.js';

export type RecordingState = 'recording' | 'done' | 'interrupted' /* found without a clean close */ | 'failed';

export interface Recording {
  readonly id: string;
  readonly app: string;
  readonly stream: string;
  /** The recording's name (rec): RECORDING_NAME. */
  readonly name: string;
  /** Absolute path of the .flv. */
  readonly file: string;
  /** ms since epoch. */
  readonly startedAt: number;
  endedAt?: number;
  durationMs: number;
  bytes: number;
  state: RecordingState;
  /** An error code (ENOSPC, EACCES, …) when 'failed'. */
  error?: string;
  /** The first part's name: the parts of one publish session share it. */
  readonly session: string;
  /** 0, 1, … within the session. */
  readonly part: number;
}

export interface CatalogueLimits {
  /** Files the start-up scan lists at most (the rest is left alone and logged). */
  readonly maxFiles: number;
  /** Directory entries the scan reads per directory at most. */
  readonly maxEntriesPerDir: number;
}

const CATALOGUE_LIMITS: CatalogueLimits = { maxFiles: 100_000, maxEntriesPerDir: 100_000 };

/** Files beside a recording that belong to it (the sidecar; SN's thumbnails). */
const SIDE_SUFFIXES = ['.json', '.thumbs.jpg', '.thumbs.vtt'];
/** A sidecar is a few hundred bytes; anything bigger is not ours. */
const MAX_SIDECAR_BYTES = 16 * 1024;
/** Same-second recordings of one stream: -1 … -999 (RECORDING_NAME). */
const MAX_SUFFIX = 999;

const DATE_DIR = /^(\d{4})-(\d{2})-(\d{2})$/;
const FILE_NAME = /^(\d{6})(-\d{1,3})?\.flv$/;

const pad = (n: number, w = 2): string => String(n).padStart(w, '0');

/** The name and relative file of a recording starting at `at` (UTC), with a same-second suffix when n > 0. */
export function recordingPlace(app: string, stream: string, at: number, n: number): { name: string; relFile: string } {
  const d = new Date(at);
  const day = `${d.getUTCFullYear()}-${pad(d.getUTCMonth() + 1)}-${pad(d.getUTCDate())}`;
  const time = `${pad(d.getUTCHours())}${pad(d.getUTCMinutes())}${pad(d.getUTCSeconds())}`;
  const suffix = n > 0 ? `-${n}` : '';
  return { name: `${day.replace(/-/g, '')}-${time}${suffix}`, relFile: join(app, stream, day, `${time}${suffix}.flv`) };
}

/** The start (ms since epoch) a recording's name says, or undefined. */
function startOfName(name: string): number | undefined {
  const m = /^(\d{4})(\d{2})(\d{2})-(\d{2})(\d{2})(\d{2})/.exec(name);
  if (!m) return undefined;
  const [, y, mo, d, h, mi, s] = m.map(Number) as number[];
  const t = Date.UTC(y as number, (mo as number) - 1, d, h, mi, s);
  return Number.isFinite(t) ? t : undefined;
}

interface Sidecar {
  state: RecordingState;
  startedAt: number;
  endedAt?: number;
  durationMs: number;
  bytes: number;
  session: string;
  part: number;
  error?: string;
}

function readSidecar(text: string): Partial<Sidecar> {
  try {
    const v = JSON.parse(text) as Record<string, unknown>;
    const num = (k: string): number | undefined => (typeof v[k] === 'number' && Number.isFinite(v[k]) ? (v[k] as number) : undefined);
    const str = (k: string, re: RegExp): string | undefined => (typeof v[k] === 'string' && re.test(v[k] as string) ? (v[k] as string) : undefined);
    const state = str('state', /^(recording|done|interrupted|failed)$/) as RecordingState | undefined;
    const out: Partial<Sidecar> = {};
    if (state) out.state = state;
    const startedAt = num('startedAt');
    if (startedAt !== undefined) out.startedAt = startedAt;
    const endedAt = num('endedAt');
    if (endedAt !== undefined) out.endedAt = endedAt;
    const durationMs = num('durationMs');
    if (durationMs !== undefined) out.durationMs = durationMs;
    const session = str('session', RECORDING_NAME);
    if (session) out.session = session;
    const part = num('part');
    if (part !== undefined && Number.isInteger(part) && part >= 0) out.part = part;
    const error = str('error', /^[A-Za-z0-9_ .:-]{1,64}$/);
    if (error) out.error = error;
    return out;
  } catch {
    return {};
  }
}

/**
 * The timestamp of the file's last complete tag (its PreviousTagSize at the end pointing back at a tag
 * header that agrees), or 0. A file cut mid-tag (kill -9 in a write) just reports 0: VOD scans it.
 */
async function lastTagTimestamp(file: string, size: number): Promise<number> {
  // FLV_HEADER_SIZE counts the first PreviousTagSize; each tag is followed by its own (4 bytes).
  if (size < FLV_HEADER_SIZE + FLV_TAG_HEADER_SIZE + 4) return 0;
  const fh = await open(file, 'r');
  try {
    const tail = Buffer.alloc(4);
    await fh.read(tail, 0, 4, size - 4);
    const prev = tail.readUInt32BE(0);
    if (prev < FLV_TAG_HEADER_SIZE || prev > size - FLV_HEADER_SIZE - 4) return 0;
    const head = Buffer.alloc(FLV_TAG_HEADER_SIZE);
    await fh.read(head, 0, FLV_TAG_HEADER_SIZE, size - 4 - prev);
    if (flvTagDataSize(head, 0) + FLV_TAG_HEADER_SIZE !== prev) return 0;
    return flvTagTimestamp(head, 0);
  } finally {
    await fh.close();
  }
}

export class RecordingCatalogue {
  private readonly byId = new Map<string, Recording>();
  private readonly listeners: ((r: Recording) => void)[] = [];

  constructor(
    /** Absolute root directory. */
    readonly root: string,
    private readonly log: Logger,
    private readonly limits: CatalogueLimits = CATALOGUE_LIMITS,
  ) {}

  list(filter: { app?: string; stream?: string } = {}): Recording[] {
    const out: Recording[] = [];
    for (const r of this.byId.values()) {
      if (filter.app !== undefined && r.app !== filter.app) continue;
      if (filter.stream !== undefined && r.stream !== filter.stream) continue;
      out.push(r);
    }
    return out.sort((a, b) => a.startedAt - b.startedAt || a.part - b.part || (a.name < b.name ? -1 : 1));
  }

  get(app: string, stream: string, name: string): Recording | undefined {
    return this.byId.get(recordingId(app, stream, name));
  }

  /** The recording at route params [app, stream, rec]; 'invalid' when they cannot name one (a 400 for the routes). */
  atRoute([app, stream, rec]: readonly (string | undefined)[]): Recording | 'invalid' | undefined {
    if (!validNames(app, stream) || rec === undefined || !isRecordingName(rec)) return 'invalid';
    return this.get(app as string, stream as string, rec);
  }

  /** Deletes a recording's file and what lies beside it; false when unknown or still being written. */
  async remove(app: string, stream: string, name: string): Promise<boolean> {
    const r = this.get(app, stream, name);
    if (!r || r.state === 'recording') return false;
    this.byId.delete(r.id);
    await Promise.all([r.file, ...SIDE_SUFFIXES.map((s) => r.file + s)].map((f) => rm(f, { force: true })));
    // The day's directory goes with its last file (ENOTEMPTY otherwise: fine).
    await rmdir(join(r.file, '..')).catch(() => undefined);
    this.log.info({ id: r.id }, 'recording deleted');
    return true;
  }

  /** Called once per file that ended (done, failed, or interrupted as found at start). */
  onEnded(listener: (r: Recording) => void): void {
    this.listeners.push(listener);
  }

  // ---- for the recorder ----

  /** A new file of app/stream starting at `at`: listed at once ('recording') under a unique name (a same-second suffix when taken). */
  reserve(app: string, stream: string, at: number, session: string | undefined, part: number): Recording {
    let n = 0;
    let place = recordingPlace(app, stream, at, 0);
    while (this.byId.has(recordingId(app, stream, place.name))) {
      // Every suffix of that second taken: the next second's names (an id is never given twice).
      if (n < MAX_SUFFIX) n++;
      else {
        n = 0;
        at += 1000;
      }
      place = recordingPlace(app, stream, at, n);
    }
    const name = place.name;
    const r: Recording = {
      id: recordingId(app, stream, name),
      app,
      stream,
      name,
      file: join(this.root, place.relFile),
      startedAt: at,
      durationMs: 0,
      bytes: 0,
      state: 'recording',
      session: session ?? name,
      part,
    };
    this.byId.set(r.id, r);
    return r;
  }

  /** Makes a reserved recording's directory and writes its sidecar. Throws on an I/O error (ENOSPC, EACCES). */
  async prepare(r: Recording): Promise<void> {
    await mkdir(join(r.file, '..'), { recursive: true });
    await this.writeSidecar(r);
  }

  /** The file ended: its final state and sidecar, then the onEnded listeners. */
  async finish(r: Recording, state: 'done' | 'failed', error?: string): Promise<void> {
    r.state = state;
    r.endedAt = Date.now();
    if (error !== undefined) r.error = error;
    try {
      await this.writeSidecar(r);
    } catch (err) {
      // A full disk may refuse the sidecar too: after a restart the file is listed 'interrupted'.
      this.log.warn({ id: r.id, err: String(err) }, 'recording sidecar not written');
    }
    this.ended(r);
  }

  private ended(r: Recording): void {
    for (const l of this.listeners) {
      try {
        l(r);
      } catch (err) {
        this.log.error({ id: r.id, err }, 'recording listener failed');
      }
    }
  }

  private async writeSidecar(r: Recording): Promise<void> {
    const s: Sidecar = {
      state: r.state,
      startedAt: r.startedAt,
      ...(r.endedAt !== undefined ? { endedAt: r.endedAt } : {}),
      durationMs: r.durationMs,
      bytes: r.bytes,
      session: r.session,
      part: r.part,
      ...(r.error !== undefined ? { error: r.error } : {}),
    };
    await writeFile(r.file + '.json', JSON.stringify(s));
  }

  /**
   * Lists what is on disk (bounded: the layout's depth, limits.maxFiles, limits.maxEntriesPerDir).
   * Files without a clean close become 'interrupted' (and are told to onEnded listeners once).
   */
  async scan(): Promise<void> {
    let files = 0;
    const found: Recording[] = [];
    /** Interrupted files found for the first time (an earlier scan marked the others in their sidecars). */
    const fresh: Recording[] = [];
    const dirs = async (dir: string, test: (name: string) => boolean): Promise<string[]> => {
      const out: string[] = [];
      let d;
      try {
        d = await opendir(dir);
      } catch {
        return out;
      }
      let seen = 0;
      for await (const e of d) {
        if (++seen > this.limits.maxEntriesPerDir) {
          this.log.warn({ dir }, 'recordings scan: too many entries, rest skipped');
          break;
        }
        if (test(e.name) && (e.isDirectory() || e.isFile())) out.push(e.name);
      }
      return out;
    };
    scan: for (const app of await dirs(this.root, isValidName)) {
      for (const stream of await dirs(join(this.root, app), isValidName)) {
        for (const day of await dirs(join(this.root, app, stream), (n) => DATE_DIR.test(n))) {
          for (const f of await dirs(join(this.root, app, stream, day), (n) => FILE_NAME.test(n))) {
            if (++files > this.limits.maxFiles) {
              this.log.warn({ root: this.root, max: this.limits.maxFiles }, 'recordings scan: too many files, rest not listed');
              break scan;
            }
            const r = await this.fromDisk(app, stream, day, f);
            if (!r) continue;
            found.push(r.recording);
            if (r.fresh) fresh.push(r.recording);
          }
        }
      }
    }
    for (const r of found) this.byId.set(r.id, r);
    this.log.info({ root: this.root, recordings: found.length, interrupted: fresh.length }, 'recordings listed');
    for (const r of fresh) this.ended(r);
  }

  private async fromDisk(app: string, stream: string, day: string, f: string): Promise<{ recording: Recording; fresh: boolean } | undefined> {
    const m = FILE_NAME.exec(f);
    if (!m) return undefined;
    const name = `${day.replace(/-/g, '')}-${m[1]}${m[2] ?? ''}`;
    const file = join(this.root, app, stream, day, f);
    const nameStart = startOfName(name);
    if (nameStart === undefined) return undefined;
    try {
      const st = await stat(file);
      let side: Partial<Sidecar> = {};
      try {
        const sc = await stat(file + '.json');
        if (sc.size <= MAX_SIDECAR_BYTES) side = readSidecar(await readFile(file + '.json', 'utf8'));
      } catch {
        // No sidecar: a file we did not close (or not ours): interrupted.
      }
      const clean = side.state === 'done' || side.state === 'failed';
      const fresh = side.state !== 'interrupted' && !clean;
      const r: Recording = {
        id: recordingId(app, stream, name),
        app,
        stream,
        name,
        file,
        startedAt: side.startedAt ?? nameStart,
        endedAt: side.endedAt ?? st.mtimeMs,
        durationMs: !fresh && side.durationMs !== undefined ? side.durationMs : await lastTagTimestamp(file, st.size).catch(() => 0),
        bytes: st.size,
        state: fresh ? 'interrupted' : (side.state as RecordingState),
        session: side.session ?? name,
        part: side.part ?? 0,
        ...(side.error !== undefined ? { error: side.error } : {}),
      };
      if (fresh) await this.writeSidecar(r).catch(() => undefined);
      return { recording: r, fresh };
    } catch (err) {
      this.log.warn({ file, err: String(err) }, 'recordings scan: file skipped');
      return undefined;
    }
  }
}
