// `livecdn transcode`: a node of kind 'transcoder'. It registers with the signal, and on every heartbeat
// asks it for its assignments (GET /api/transcode/assignments, signed with the node key): the sources it
// must transcode (signal/transcode-assignment.ts). It runs one RemoteJob per source, stops the sources no
// longer assigned, and restarts one whose origin, rungs or settings changed. Its heartbeat lists the sources
// it runs (the signal keeps them here while it lives) with their speed. A signal that is down or answers an
// error changes nothing: the sources keep running until an answer says otherwise.
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { hostname } from 'node:os';
import { readFileSync } from 'node:fs';
import { Gauge, Registry, collectDefaultMetrics } from 'prom-client';
import type { NodeLoad, StreamStat, TranscodeAssignment } from '../shared/cluster.js';
import { createHttpServer, reply } from '../shared/http.js';
import { LoadSampler } from '../shared/load.js';
import type { ClusterKeys } from '../shared/keys.js';
import type { Logger } from '../shared/log.js';
import { Registration, defaultNodeId } from '../shared/registration.js';
import { signedFetch } from '../shared/signed-request.js';
import { TRANSCODE_ASSIGNMENTS_PATH, assignmentsAnswerSchema } from '../shared/transcode-job.js';
import { streamKey } from '../shared/url-contract.js';
import { RemoteJob, sameJob } from './remote-job.js';
import { TRANSCODER_DEFAULTS } from './transcoder.js';

export const REMOTE_TRANSCODER_DEFAULTS = {
  host: '0.0.0.0',
  httpPort: 8095,
  region: 'default',
  /** Sources one transcoder takes. */
  capacity: 4,
  heartbeatMs: 5000,
  /** Publish and play tokens signed per FFmpeg start: checked when a connection opens, so minutes suffice. */
  tokenTtlMs: 600_000,
  pullIdleMs: 15_000,
  signalTimeoutMs: 3000,
} as const;

export interface RemoteTranscoderConfig {
  /** The signal's base URL, or several instances' (shared/registration.ts fails over between them). */
  readonly signal: string | readonly string[];
  /** Pull sources from here instead of their origins' public URLs. */
  readonly upstream?: string | undefined;
  /** The cluster's keys; undefined in an --insecure cluster (unsigned requests, no tokens). */
  readonly keys?: ClusterKeys | undefined;
  readonly host?: string;
  /** 0 picks a free port: /healthz, /metrics, /api/transcoder. */
  readonly httpPort?: number;
  readonly publicUrl?: string | undefined;
  readonly nodeId?: string | undefined;
  readonly region?: string;
  readonly capacity?: number;
  readonly heartbeatMs?: number;
  readonly tokenTtlMs?: number;
  readonly logger: Logger;
}

/** CPU seconds (user + system) of a process from /proc (in USER_HZ ticks, 100 on Linux); 0 where there is none. */
function cpuSeconds(pid: number): number {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // Fields after the parenthesised command name: utime and stime are the 12th and 13th.
    const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return (Number(f[11]) + Number(f[12])) / 100;
  } catch {
    return 0;
  }
}

export class RemoteTranscoder {
  private readonly jobs = new Map<string, RemoteJob>();
  private readonly log: Logger;
  private readonly metrics = new Registry();
  private registration: Registration | undefined;
  private server: Server | undefined;
  private pollTimer: NodeJS.Timeout | undefined;
  private polling: Promise<void> | undefined;
  private stopped = false;
  /** This process's CPU since the last heartbeat (it has no egress of its own). */
  private readonly ownLoad = new LoadSampler(() => 0);
  /** Its FFmpeg children's CPU seconds at the last heartbeat. */
  private childCpuAt = { wall: performance.now(), byPid: new Map<number, number>() };

  constructor(private readonly config: RemoteTranscoderConfig) {
    this.log = config.logger;
    collectDefaultMetrics({ register: this.metrics, prefix: 'livecdn_transcoder_' });
    const jobs = this.jobs;
    new Gauge({
      name: 'livecdn_transcode_rungs_up',
      help: 'Rungs being encoded, over all sources of this transcoder',
      registers: [this.metrics],
      collect() {
        this.set([...jobs.values()].reduce((n, j) => n + j.stats().rungsUp, 0));
      },
    });
    new Gauge({
      name: 'livecdn_transcode_restarts',
      help: 'FFmpeg restarts of the sources this transcoder runs now',
      registers: [this.metrics],
      collect() {
        this.set([...jobs.values()].reduce((n, j) => n + j.stats().restarts, 0));
      },
    });
    new Gauge({
      name: 'livecdn_transcode_skipped_frames',
      help: 'Source frames not fed to FFmpeg because it fell behind, over the sources this transcoder runs now',
      registers: [this.metrics],
      collect() {
        this.set([...jobs.values()].reduce((n, j) => n + j.skippedFrames, 0));
      },
    });
    new Gauge({
      name: 'livecdn_transcode_speed',
      help: 'Encoding speed (x real time) of the slowest source; 0 without any',
      registers: [this.metrics],
      collect() {
        const speeds = [...jobs.values()].map((j) => j.stats().speed).filter((s): s is number => s !== null);
        this.set(speeds.length ? Math.min(...speeds) : 0);
      },
    });
    new Gauge({
      name: 'livecdn_transcoder_sources',
      help: 'Sources assigned to this transcoder',
      registers: [this.metrics],
      collect() {
        this.set(jobs.size);
      },
    });
  }

  get id(): string {
    return this.registration?.id ?? '';
  }

  async start(): Promise<{ httpPort: number }> {
    const d = REMOTE_TRANSCODER_DEFAULTS;
    const host = this.config.host ?? d.host;
    const server = createHttpServer((req, res) => {
      const path = (req.url ?? '/').split('?')[0];
      if (req.method !== 'GET' && req.method !== 'HEAD') return reply(res, 405, 'method not allowed');
      if (path === '/healthz') return reply(res, 200, 'ok');
      if (path === '/api/transcoder') return reply(res, 200, { id: this.id, sources: this.sourceStats() });
      if (path === '/metrics') {
        this.metrics.metrics().then(
          (body) => reply(res, 200, body.trimEnd(), { 'Content-Type': this.metrics.contentType }),
          () => reply(res, 500, 'metrics failed'),
        );
        return;
      }
      reply(res, 404, 'not found');
    });
    this.server = server;
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(this.config.httpPort ?? d.httpPort, host, () => {
        server.off('error', reject);
        resolve();
      });
    });
    const httpPort = (server.address() as AddressInfo).port;
    const publicHost = host === '0.0.0.0' || host === '::' ? hostname() : host.includes(':') ? `[${host}]` : host;
    const region = this.config.region ?? d.region;
    this.registration = new Registration(
      {
        signal: this.config.signal,
        registration: {
          id: this.config.nodeId ?? defaultNodeId('transcoder', region, httpPort),
          kind: 'transcoder',
          region,
          publicUrl: this.config.publicUrl ?? `http://${publicHost}:${httpPort}`,
          capacity: this.config.capacity ?? d.capacity,
        },
        load: () => this.load(),
        intervalMs: this.config.heartbeatMs ?? d.heartbeatMs,
        key: this.config.keys?.node,
      },
      this.log.child({ part: 'registration' }),
    );
    await this.registration.start();
    this.log.info({ id: this.id, httpPort, signal: this.registration.signal, upstream: this.config.upstream ?? null }, 'transcoder started');
    const poll = (): void => {
      // A timer callback: whatever a poll throws costs that poll, never the process.
      this.polling ??= this.poll()
        .catch((err: unknown) => this.log.error({ err: String(err) }, 'assignment poll failed'))
        .finally(() => (this.polling = undefined));
    };
    poll();
    this.pollTimer = setInterval(poll, this.config.heartbeatMs ?? d.heartbeatMs);
    this.pollTimer.unref();
    return { httpPort };
  }

  /** Deregisters first (the signal hands the sources to others at once), then ends every FFmpeg. */
  async stop(): Promise<void> {
    if (this.stopped) return;
    this.stopped = true;
    clearInterval(this.pollTimer);
    await this.polling;
    await this.registration?.stop();
    await Promise.all([...this.jobs.values()].map((j) => j.stop()));
    this.jobs.clear();
    const server = this.server;
    if (server) {
      await new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      });
    }
    this.log.info('transcoder stopped');
  }

  /** The sources it runs, with their transcode state. */
  private sourceStats(): StreamStat[] {
    return [...this.jobs.values()].map((j) => ({ stream: j.key, viewers: 0, transcode: { where: 'remote' as const, ...j.stats() } }));
  }

  /** Heartbeat load: the sources it runs, and the CPU since the last heartbeat, its FFmpeg children's included. */
  load(): NodeLoad {
    const streamStats = this.sourceStats();
    return { viewers: 0, publishers: 0, egressBps: 0, cpu: this.sampleCpu(), streams: streamStats.map((s) => s.stream), streamStats };
  }

  private sampleCpu(): number {
    const own = this.ownLoad.sample().cpu;
    const now = performance.now();
    let children = 0;
    const byPid = new Map<number, number>();
    for (const j of this.jobs.values()) {
      const pid = j.pid;
      if (pid === undefined) continue;
      const s = cpuSeconds(pid);
      byPid.set(pid, s);
      children += s - (this.childCpuAt.byPid.get(pid) ?? 0);
    }
    const wall = Math.max(0.001, (now - this.childCpuAt.wall) / 1000);
    this.childCpuAt = { wall: now, byPid };
    return Math.round(Math.max(0, own + children / wall) * 1000) / 1000;
  }

  private async poll(): Promise<void> {
    const reg = this.registration;
    if (this.stopped || !reg?.isRegistered) return;
    // The instance it is registered with: after a failover, the one that knows it.
    const url = `${reg.signal}${TRANSCODE_ASSIGNMENTS_PATH}?node=${encodeURIComponent(reg.id)}`;
    let list: TranscodeAssignment[];
    try {
      const res = await signedFetch(url, { method: 'GET', key: this.config.keys?.node, timeoutMs: REMOTE_TRANSCODER_DEFAULTS.signalTimeoutMs });
      if (res.status !== 200) {
        this.log.warn({ status: res.status, body: res.body.slice(0, 300) }, 'assignments refused');
        return;
      }
      const parsed = assignmentsAnswerSchema.safeParse(JSON.parse(res.body));
      if (!parsed.success) {
        this.log.warn({ err: parsed.error.issues[0]?.message }, 'assignments malformed');
        return;
      }
      list = parsed.data.assignments;
    } catch (err) {
      this.log.warn({ err: String(err) }, 'assignments unavailable');
      return;
    }
    if (!this.stopped) await this.reconcile(list);
  }

  /** Starts what is assigned and not running, stops what runs and is not assigned, restarts what changed. */
  private async reconcile(list: readonly TranscodeAssignment[]): Promise<void> {
    const wanted = new Map(list.map((a) => [streamKey(a.app, a.stream), a]));
    const ending: Promise<void>[] = [];
    for (const [key, job] of this.jobs) {
      const a = wanted.get(key);
      if (a && sameJob(a, job.assignment)) continue;
      this.log.info({ stream: key, reason: a ? 'changed' : 'unassigned' }, 'stopping source');
      this.jobs.delete(key);
      ending.push(job.stop());
    }
    await Promise.all(ending);
    const d = REMOTE_TRANSCODER_DEFAULTS;
    for (const [key, a] of wanted) {
      if (this.jobs.has(key) || this.stopped) continue;
      const job = new RemoteJob({
        assignment: a,
        upstream: this.config.upstream,
        keys: this.config.keys,
        tokenTtlSec: Math.floor((this.config.tokenTtlMs ?? d.tokenTtlMs) / 1000),
        maxBacklogBytes: TRANSCODER_DEFAULTS.maxBacklogBytes,
        pullIdleMs: d.pullIdleMs,
        log: this.log.child({ part: 'job' }),
      });
      this.jobs.set(key, job);
      job.start();
    }
  }
}
