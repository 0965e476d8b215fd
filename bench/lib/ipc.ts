// Request/response over the Node IPC channel between the benchmark driver and its helper processes
// (load generator, publisher + probes), which run pinned to the load core.
import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { prioritize } from './proc.js';

interface Request {
  id: number;
  cmd: string;
  args: unknown;
}
type Reply = { id: number; ok: true; result: unknown } | { id: number; ok: false; error: string };
interface EventMsg {
  event: string;
  data: unknown;
}

export type Handler = (args: unknown) => unknown;

/** In a helper: answer the driver's requests with the handlers; returns an event emitter function. */
export function serve(handlers: Readonly<Record<string, Handler>>): (event: string, data: unknown) => void {
  const send = (m: Reply | EventMsg): void => {
    if (process.connected) process.send?.(m);
  };
  process.on('message', (raw: unknown) => {
    const req = raw as Request;
    const h = handlers[req.cmd];
    if (!h) {
      send({ id: req.id, ok: false, error: `unknown command ${req.cmd}` });
      return;
    }
    Promise.resolve()
      .then(() => h(req.args))
      .then(
        (result) => send({ id: req.id, ok: true, result: result ?? null }),
        (e: unknown) => send({ id: req.id, ok: false, error: e instanceof Error ? (e.stack ?? e.message) : String(e) }),
      );
  });
  // The driver going away ends the helper.
  process.on('disconnect', () => process.exit(0));
  return (event, data) => send({ event, data });
}

export class Helper {
  private nextId = 1;
  private readonly pending = new Map<number, { ok: (v: unknown) => void; fail: (e: Error) => void }>();
  private readonly listeners = new Map<string, ((data: unknown) => void)[]>();
  private exit: string | undefined;

  private constructor(
    readonly name: string,
    private readonly child: ChildProcess,
  ) {
    child.on('message', (raw: unknown) => {
      const m = raw as Reply | EventMsg;
      if ('event' in m) {
        for (const l of this.listeners.get(m.event) ?? []) l(m.data);
        return;
      }
      const p = this.pending.get(m.id);
      if (!p) return;
      this.pending.delete(m.id);
      if (m.ok) p.ok(m.result);
      else p.fail(new Error(`${name}: ${m.error}`));
    });
    child.on('exit', (code, sig) => {
      this.exit = sig ? `signal ${sig}` : `code ${String(code)}`;
      for (const p of this.pending.values()) p.fail(new Error(`${name} exited (${this.exit})`));
      this.pending.clear();
    });
  }

  /** Starts `node --import tsx script` pinned to `core` at niceness `nice`, with an IPC channel. */
  static start(name: string, script: string, core: number, nice = 0): Helper {
    const child = spawn('nice', ['-n', String(nice), 'taskset', '-c', String(core), process.execPath, '--import', 'tsx', script], {
      stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
      // Own session and autogroup (see prioritize); it exits when the IPC channel closes.
      detached: true,
    });
    if (child.pid !== undefined) prioritize(child.pid, nice);
    return new Helper(name, child);
  }

  get pid(): number {
    return this.child.pid ?? -1;
  }

  call<T>(cmd: string, args: unknown = null, timeoutMs = 120_000): Promise<T> {
    if (this.exit) return Promise.reject(new Error(`${this.name} exited (${this.exit})`));
    const id = this.nextId++;
    return new Promise<T>((ok, fail) => {
      const timer = setTimeout(() => {
        this.pending.delete(id);
        fail(new Error(`${this.name}: ${cmd} timed out`));
      }, timeoutMs);
      this.pending.set(id, {
        ok: (v) => {
          clearTimeout(timer);
          ok(v as T);
        },
        fail: (e) => {
          clearTimeout(timer);
          fail(e);
        },
      });
      this.child.send({ id, cmd, args } satisfies Request);
    });
  }

  on(event: string, fn: (data: unknown) => void): () => void {
    const list = this.listeners.get(event) ?? [];
    list.push(fn);
    this.listeners.set(event, list);
    return () => {
      const l = this.listeners.get(event) ?? [];
      this.listeners.set(event, l.filter((x) => x !== fn));
    };
  }

  /** call(), and stop() when it fails: a helper whose starting command failed leaves no process behind. */
  async callOrStop<T>(cmd: string, args: unknown = null, timeoutMs?: number): Promise<T> {
    try {
      return await this.call<T>(cmd, args, timeoutMs);
    } catch (e) {
      await this.stop();
      throw e;
    }
  }

  async stop(): Promise<void> {
    if (this.exit) return;
    const done = new Promise<void>((r) => this.child.once('exit', () => r()));
    this.child.disconnect();
    const timer = setTimeout(() => this.child.kill('SIGKILL'), 5000);
    await done;
    clearTimeout(timer);
  }
}
