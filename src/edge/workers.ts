// `--workers N`: N processes sharing one port through node:cluster, each a full edge. Each object and
// FLV stream is owned by one worker (shard.ts): the others fetch it from the owner's private loopback
// port, so the edge as a whole still makes one upstream fetch per object and one FLV connection per
// stream. The primary assigns the slots, tells every worker the slot -> private port map (again after
// restarting a worker that died), registers the node with the control plane once, sums the workers'
// load for its heartbeats, and answers /metrics for any worker with every worker's metrics aggregated.
import cluster from 'node:cluster';
import type { Worker } from 'node:cluster';
import { AggregatorRegistry } from 'prom-client';
import type { NodeLoad } from '../shared/cluster.js';
import type { Logger } from '../shared/log.js';
import { edgeNodeId, edgeRegistration, resolveEdgeConfig, type EdgeConfig } from './config.js';
import { Edge } from './edge.js';
import { HitRatioSampler, type CacheCounts } from './hit-ratio.js';

type Msg =
  | { t: 'edge-ready'; index: number; port: number; privatePort: number }
  | { t: 'edge-load'; load: NodeLoad; cache: CacheCounts }
  | { t: 'peers'; ports: (number | null)[] }
  | { t: 'metrics-request'; req: number }
  | { t: 'metrics-collect'; req: number }
  | { t: 'metrics-json'; req: number; json: object[] }
  | { t: 'metrics-response'; req: number; text: string };

/** No-op send callback: with a callback, a closed channel is an error passed here, not an 'error' event. */
const ignoreSendError = (): void => undefined;

/** To a worker, if it is still there (it may have died since it was looked up). */
const post = (w: Worker, m: Msg): void => {
  if (w.isConnected()) w.send(m, undefined, undefined, ignoreSendError);
};

const isMsg = (m: unknown): m is Msg => typeof m === 'object' && m !== null && typeof (m as { t?: unknown }).t === 'string';

/** The primary tells each worker its slot here (a replacement takes the slot of the worker it replaces). */
const SLOT_ENV = 'LIVECDN_EDGE_WORKER_SLOT';

export interface RunningEdge {
  readonly httpPort: number;
  stop(): Promise<void>;
}

/** Runs one edge in this process, or (workers > 1, in the primary) a cluster of them. */
export async function runEdge(config: EdgeConfig, workers: number, log: Logger): Promise<RunningEdge> {
  if (cluster.isWorker) return runWorker(config, workers, log);
  if (workers <= 1) {
    const edge = new Edge({ ...config, logger: log });
    const { httpPort } = await edge.start();
    return { httpPort, stop: () => edge.stop() };
  }
  return runPrimary(config, workers, log);
}

async function runWorker(config: EdgeConfig, workers: number, log: Logger): Promise<RunningEdge> {
  const index = Number(process.env[SLOT_ENV]);
  if (!Number.isInteger(index) || index < 0 || index >= workers) throw new Error(`edge worker: bad ${SLOT_ENV}=${process.env[SLOT_ENV]}`);
  // The primary registers; a worker registering too would announce N nodes for one.
  const edge = new Edge({
    ...config,
    signal: undefined,
    shard: { index, count: workers },
    logger: log.child({ worker: index }),
  });
  // The primary may be gone (killed): a closed channel must not end this worker with an 'error' event.
  const send = (m: Msg): void => void process.send?.(m, undefined, undefined, ignoreSendError);
  let next = 0;
  const pending = new Map<number, (text: string) => void>();
  // Listening before start(): the peer map may arrive as soon as the primary hears from a sibling.
  process.on('message', (m: unknown) => {
    if (!isMsg(m)) return;
    if (m.t === 'peers') edge.setPeers(m.ports);
    else if (m.t === 'metrics-collect') {
      edge.metrics.registry.getMetricsAsJSON().then(
        (json) => send({ t: 'metrics-json', req: m.req, json }),
        (err: unknown) => log.warn({ err: String(err) }, 'metrics collection failed'),
      );
    } else if (m.t === 'metrics-response') {
      pending.get(m.req)?.(m.text);
      pending.delete(m.req);
    }
  });
  const { httpPort } = await edge.start();
  send({ t: 'edge-ready', index, port: httpPort, privatePort: edge.peerPort });
  const interval = setInterval(() => {
    try {
      send({ t: 'edge-load', load: edge.nodeLoad(), cache: edge.cacheCounts() });
    } catch (err) {
      log.warn({ err: String(err) }, 'load report failed');
    }
  }, edge.config.heartbeatMs / 2);
  interval.unref();
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
  // Slot of each live worker (by cluster id), and each slot's private port (null while it is down).
  const slots = new Map<number, number>();
  const ports: (number | null)[] = Array.from({ length: workers }, () => null);
  // Cache counters: the latest cumulative figures of each live worker, plus those of dead ones.
  const counts = new Map<number, CacheCounts>();
  let retired: CacheCounts = { hits: 0, misses: 0 };
  const hitRatio = new HitRatioSampler(() => addCounts([retired, ...counts.values()]));
  let stopping = false;
  // Metrics aggregation rounds: our round id -> the asking worker, its request id, answers so far.
  const rounds = new Map<number, { from: Worker; req: number; parts: object[][]; expect: number; timer: NodeJS.Timeout }>();
  let nextRound = 0;

  const live = (): Worker[] => Object.values(cluster.workers ?? {}).filter((x): x is Worker => x !== undefined && x.isConnected());
  const broadcastPeers = (): void => {
    for (const w of live()) post(w, { t: 'peers', ports });
  };

  const finishRound = (id: number): void => {
    const r = rounds.get(id);
    if (!r) return;
    rounds.delete(id);
    clearTimeout(r.timer);
    // The asking worker answers 500 when its request times out; here a failure is only logged.
    Promise.resolve()
      .then(() => AggregatorRegistry.aggregate(r.parts).metrics())
      .then(
        (text) => post(r.from, { t: 'metrics-response', req: r.req, text }),
        (err: unknown) => log.warn({ err: String(err) }, 'metrics aggregation failed'),
      );
  };

  const onMessage = (w: Worker, m: unknown): void => {
    if (!isMsg(m)) return;
    if (m.t === 'edge-load') {
      loads.set(w.id, m.load);
      counts.set(w.id, m.cache);
    } else if (m.t === 'edge-ready') {
      ports[m.index] = m.privatePort;
      broadcastPeers();
    } else if (m.t === 'metrics-request') {
      const id = ++nextRound;
      const all = live();
      // A worker that does not answer in time is left out rather than failing the scrape.
      rounds.set(id, { from: w, req: m.req, parts: [], expect: all.length, timer: setTimeout(() => finishRound(id), 2000) });
      for (const x of all) post(x, { t: 'metrics-collect', req: id });
    } else if (m.t === 'metrics-json') {
      const r = rounds.get(m.req);
      if (!r) return;
      r.parts.push(m.json);
      if (r.parts.length >= r.expect) finishRound(m.req);
    }
  };

  const fork = (index: number): Worker => {
    const w = cluster.fork({ [SLOT_ENV]: String(index) });
    slots.set(w.id, index);
    w.on('message', (m: unknown) => onMessage(w, m));
    return w;
  };

  const ready = new Promise<number>((resolve, reject) => {
    let readyCount = 0;
    cluster.on('message', (_w, m: unknown) => {
      if (!isMsg(m) || m.t !== 'edge-ready') return;
      if (++readyCount === workers) resolve(m.port);
    });
    cluster.on('exit', (w, code, signal) => {
      const index = slots.get(w.id);
      slots.delete(w.id);
      loads.delete(w.id);
      const last = counts.get(w.id);
      counts.delete(w.id);
      if (last) retired = addCounts([retired, last]);
      if (stopping || index === undefined) return;
      // Siblings stop routing to the dead worker at once (they fetch its keys themselves meanwhile).
      ports[index] = null;
      broadcastPeers();
      if (readyCount < workers) {
        reject(new Error(`edge worker ${index} exited during start (code ${code}, signal ${signal})`));
        return;
      }
      log.error({ worker: index, code, signal }, 'edge worker died; starting another');
      try {
        fork(index);
      } catch (err) {
        log.error({ worker: index, err: String(err) }, 'could not start a worker');
      }
    });
  });
  for (let i = 0; i < workers; i++) fork(i);
  const port = await ready;
  const id = edgeNodeId(resolved, port);
  log.info({ workers, port, id }, 'edge workers ready');

  const registration = edgeRegistration(
    resolved,
    id,
    port,
    () => {
      const cacheHitRatio = hitRatio.sample();
      return { ...sumLoads([...loads.values()]), ...(cacheHitRatio !== undefined ? { cacheHitRatio } : {}) };
    },
    log,
  );
  await registration?.start();
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

const addCounts = (all: readonly CacheCounts[]): CacheCounts =>
  all.reduce((a, c) => ({ hits: a.hits + c.hits, misses: a.misses + c.misses }), { hits: 0, misses: 0 });

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
