// `--workers N`: N processes sharing one port through node:cluster, each a full edge (own cache, own
// relay). The primary registers the node with the control plane once, sums the workers' load for its
// heartbeats, and answers /metrics for any worker with every worker's metrics aggregated.
import cluster from 'node:cluster';
import type { Worker } from 'node:cluster';
import { AggregatorRegistry } from 'prom-client';
import { hostname } from 'node:os';
import type { NodeLoad } from '../shared/cluster.js';
import type { Logger } from '../shared/log.js';
import { resolveEdgeConfig, type EdgeConfig } from './config.js';
import { Edge } from './edge.js';
import { Registration } from './registration.js';

type Msg =
  | { t: 'edge-ready'; id: string; port: number }
  | { t: 'edge-load'; load: NodeLoad }
  | { t: 'metrics-request'; req: number }
  | { t: 'metrics-collect'; req: number }
  | { t: 'metrics-json'; req: number; json: object[] }
  | { t: 'metrics-response'; req: number; text: string };

const isMsg = (m: unknown): m is Msg => typeof m === 'object' && m !== null && typeof (m as { t?: unknown }).t === 'string';

export interface RunningEdge {
  readonly httpPort: number;
  stop(): Promise<void>;
}

/** Runs one edge in this process, or (workers > 1, in the primary) a cluster of them. */
export async function runEdge(config: EdgeConfig, workers: number, log: Logger): Promise<RunningEdge> {
  if (cluster.isWorker) return runWorker(config, log);
  if (workers <= 1) {
    const edge = new Edge({ ...config, logger: log });
    const { httpPort } = await edge.start();
    return { httpPort, stop: () => edge.stop() };
  }
  return runPrimary(config, workers, log);
}

async function runWorker(config: EdgeConfig, log: Logger): Promise<RunningEdge> {
  // The primary registers; a worker registering too would announce N nodes for one.
  const edge = new Edge({ ...config, signal: undefined, logger: log.child({ worker: cluster.worker?.id }) });
  const { httpPort } = await edge.start();
  const send = (m: Msg): void => void process.send?.(m);
  send({ t: 'edge-ready', id: edge.nodeId, port: httpPort });
  const interval = setInterval(() => send({ t: 'edge-load', load: edge.nodeLoad() }), resolveEdgeConfig(config).heartbeatMs / 2);
  interval.unref();
  let next = 0;
  const pending = new Map<number, (text: string) => void>();
  process.on('message', (m: unknown) => {
    if (!isMsg(m)) return;
    if (m.t === 'metrics-collect') {
      void edge.metrics.registry.getMetricsAsJSON().then((json) => send({ t: 'metrics-json', req: m.req, json }));
    } else if (m.t === 'metrics-response') {
      pending.get(m.req)?.(m.text);
      pending.delete(m.req);
    }
  });
  edge.setMetricsSource(
    () =>
      new Promise<string>((resolve, reject) => {
        const req = ++next;
        const timer = setTimeout(() => {
          pending.delete(req);
          reject(new Error('metrics aggregation timed out'));
        }, 3000);
        pending.set(req, (text) => {
          clearTimeout(timer);
          resolve(text);
        });
        send({ t: 'metrics-request', req });
      }),
  );
  return {
    httpPort,
    stop: async () => {
      clearInterval(interval);
      await edge.stop();
    },
  };
}

async function runPrimary(config: EdgeConfig, workers: number, log: Logger): Promise<RunningEdge> {
  const resolved = resolveEdgeConfig(config);
  const loads = new Map<number, NodeLoad>();
  let stopping = false;
  // Metrics aggregation rounds: our round id -> the asking worker, its request id, answers so far.
  const rounds = new Map<number, { from: Worker; req: number; parts: object[][]; expect: number; timer: NodeJS.Timeout }>();
  let nextRound = 0;

  const finishRound = (id: number): void => {
    const r = rounds.get(id);
    if (!r) return;
    rounds.delete(id);
    clearTimeout(r.timer);
    void AggregatorRegistry.aggregate(r.parts)
      .metrics()
      .then((text) => r.from.send({ t: 'metrics-response', req: r.req, text } satisfies Msg));
  };

  const onMessage = (w: Worker, m: unknown): void => {
    if (!isMsg(m)) return;
    if (m.t === 'edge-load') loads.set(w.id, m.load);
    else if (m.t === 'metrics-request') {
      const id = ++nextRound;
      const live = Object.values(cluster.workers ?? {}).filter((x): x is Worker => x !== undefined && x.isConnected());
      // A worker that does not answer in time is left out rather than failing the scrape.
      rounds.set(id, { from: w, req: m.req, parts: [], expect: live.length, timer: setTimeout(() => finishRound(id), 2000) });
      for (const x of live) x.send({ t: 'metrics-collect', req: id } satisfies Msg);
    } else if (m.t === 'metrics-json') {
      const r = rounds.get(m.req);
      if (!r) return;
      r.parts.push(m.json);
      if (r.parts.length >= r.expect) finishRound(m.req);
    }
  };

  const fork = (): Worker => {
    const w = cluster.fork();
    w.on('message', (m: unknown) => onMessage(w, m));
    return w;
  };

  const ready = new Promise<{ id: string; port: number }>((resolve, reject) => {
    let first: { id: string; port: number } | undefined;
    let readyCount = 0;
    cluster.on('message', (_w, m: unknown) => {
      if (!isMsg(m) || m.t !== 'edge-ready') return;
      first ??= { id: m.id, port: m.port };
      if (++readyCount === workers) resolve(first);
    });
    cluster.on('exit', (w, code, signal) => {
      loads.delete(w.id);
      if (stopping) return;
      if (readyCount < workers) {
        reject(new Error(`edge worker ${w.id} exited during start (code ${code}, signal ${signal})`));
        return;
      }
      log.error({ worker: w.id, code, signal }, 'edge worker died; starting another');
      fork();
    });
  });
  for (let i = 0; i < workers; i++) fork();
  const { id, port } = await ready;
  log.info({ workers, port, id }, 'edge workers ready');

  let registration: Registration | undefined;
  if (resolved.signal) {
    registration = new Registration(
      {
        signal: resolved.signal,
        registration: {
          id: resolved.nodeId ?? id,
          kind: 'edge',
          region: resolved.region,
          publicUrl: resolved.publicUrl ?? `http://${hostname()}:${port}`,
          capacity: resolved.capacity,
        },
        load: () => sumLoads([...loads.values()]),
        intervalMs: resolved.heartbeatMs,
        ...(resolved.signalToken ? { token: resolved.signalToken } : {}),
      },
      log.child({ part: 'registration' }),
    );
    await registration.start();
  }
  return {
    httpPort: port,
    stop: async () => {
      stopping = true;
      await registration?.stop();
      const all = Object.values(cluster.workers ?? {}).filter((w): w is Worker => w !== undefined);
      await Promise.all(
        all.map(
          (w) =>
            new Promise<void>((resolve) => {
              const t = setTimeout(() => w.process.kill('SIGKILL'), 5000);
              w.once('exit', () => {
                clearTimeout(t);
                resolve();
              });
              w.process.kill('SIGTERM');
            }),
        ),
      );
    },
  };
}

export function sumLoads(loads: readonly NodeLoad[]): NodeLoad {
  const streams = new Set<string>();
  let viewers = 0;
  let egressBps = 0;
  let cpu = 0;
  for (const l of loads) {
    viewers += l.viewers;
    egressBps += l.egressBps;
    cpu += l.cpu;
    for (const s of l.streams) streams.add(s);
  }
  return { viewers, publishers: 0, egressBps, cpu, streams: [...streams] };
}
