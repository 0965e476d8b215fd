// What the write batching of the origin and of an edge add together (issue 9, item 5): a publisher stamps
// each video frame's send time in an SEI message (lib/sei.ts); HTTP-FLV probes on the origin and through
// an edge read the stamps, so arrival minus send time is the delay a viewer sees, per path. Run for a few
// pairs of --write-batch-ms (origin / edge), with 500 byte-counting HTTP-FLV viewers on the edge, whose
// CPU shows what its batching saves. The edge runs on core 0, the origin and this process on core 1.
// Usage: node --import tsx bench/edge-delay.ts [--quick] [--no-write]
import { join } from 'node:path';
import { EDGE_DEFAULTS } from '../src/edge/defaults.js';
import { ORIGIN_DEFAULTS } from '../src/origin/defaults.js';
import { CACHE_DIR, MEDIA_DURATION_MS, ensureTestMedia } from './lib/media.js';
import { loadMedia, RealtimePublisher } from './lib/publisher.js';
import { fmt, mdTable, replaceSection } from './lib/report.js';
import { startPinned, type ServerProcess } from './lib/server-proc.js';
import { median, quantile } from './lib/stats.js';
import { openCounters, openProbe } from './lib/viewers.js';
import { sleep } from '../test/helpers/wait.js';
import { freePort } from '../test/helpers/net.js';

const argv = process.argv.slice(2);
const quick = argv.includes('--quick');
const write = !argv.includes('--no-write');
const MEASURE_MS = quick ? 5000 : 15_000;
/** The probes' first samples come from the GOP cache (old stamps): dropped. */
const WARM_MS = 3000;
const EDGE_VIEWERS = quick ? 200 : 500;
const cli = (args: string[]): string[] => ['--import', 'tsx', 'src/cli/main.ts', ...args];
const env = { ...process.env, LOG_LEVEL: 'warn' };

const PAIRS: ReadonlyArray<readonly [origin: number, edge: number]> = [
  [ORIGIN_DEFAULTS.writeBatchMs, EDGE_DEFAULTS.writeBatchMs],
  [ORIGIN_DEFAULTS.writeBatchMs, 10],
  [ORIGIN_DEFAULTS.writeBatchMs, 0],
  [0, 0],
];

interface Row {
  originBatch: number;
  edgeBatch: number;
  origin: number[];
  edge: number[];
  /** The edge's CPU (share of a core) while it served EDGE_VIEWERS viewers and the probe. */
  edgeCpu: number;
}

async function server(name: string, args: string[], ports: number[], core: number): Promise<ServerProcess> {
  return startPinned({ name, command: process.execPath, args: cli(args), core, logFile: join(CACHE_DIR, `edge-delay-${name}.log`), ports, env });
}

async function measure(file: string, originBatch: number, edgeBatch: number): Promise<Row> {
  const [http, rtmp, edgePort] = [await freePort(), await freePort(), await freePort()];
  const host = '127.0.0.1';
  const origin = await server('origin', ['origin', '--host', host, '--http-port', String(http), '--rtmp-port', String(rtmp), '--write-batch-ms', String(originBatch)], [http, rtmp], 1);
  const edge = await server('edge', ['edge', '--host', host, '--http-port', String(edgePort), '--upstream', `http://${host}:${http}`, '--write-batch-ms', String(edgeBatch)], [edgePort], 0);
  const pub = new RealtimePublisher(`rtmp://${host}:${rtmp}/live/delay`, loadMedia(file, MEDIA_DURATION_MS), { stamp: true });
  try {
    await pub.start();
    await sleep(1000);
    const direct = openProbe('flv', `http://${host}:${http}/live/delay.flv`);
    const viaEdge = openProbe('flv', `http://${host}:${edgePort}/live/delay.flv`);
    const load = await openCounters('flv', `http://${host}:${edgePort}/live/delay.flv`, EDGE_VIEWERS, 50, 50);
    await sleep(WARM_MS);
    direct.take();
    viaEdge.take();
    const cpu0 = edge.cpuSeconds();
    const t0 = performance.now();
    await sleep(MEASURE_MS);
    const edgeCpu = (edge.cpuSeconds() - cpu0) / ((performance.now() - t0) / 1000);
    const row = { originBatch, edgeBatch, origin: direct.take(), edge: viaEdge.take(), edgeCpu };
    for (const v of [direct, viaEdge, ...load]) v.close();
    for (const p of [direct, viaEdge]) if (p.ended && p.ended !== 'closed by us') throw new Error(`probe ended: ${p.ended}`);
    console.log(
      `batch origin ${originBatch} ms, edge ${edgeBatch} ms: origin median/p95 ${fmt(median(row.origin))}/${fmt(quantile(row.origin, 0.95))} ms, ` +
        `edge ${fmt(median(row.edge))}/${fmt(quantile(row.edge, 0.95))} ms (n=${row.origin.length}/${row.edge.length}), edge CPU ${fmt(edgeCpu * 100)}%`,
    );
    return row;
  } finally {
    pub.stop();
    await edge.stop();
    await origin.stop();
  }
}

const file = await ensureTestMedia();
const rows: Row[] = [];
for (const [o, e] of PAIRS) rows.push(await measure(file, o, e));

const cell = (v: number[]): string => `${fmt(median(v))} / ${fmt(quantile(v, 0.95))}`;
const body = [
  `One 720p30 publisher stamping each video frame's send time (SEI); one HTTP-FLV probe on the origin and one through an edge that also serves ${EDGE_VIEWERS} byte-counting HTTP-FLV viewers, ${MEASURE_MS / 1000} s per row after ${WARM_MS / 1000} s of warm-up (\`npm run bench:edge-delay\`). ` +
    'Delay = arrival - send time, so it includes RTMP ingest, the hub, the edge relay and loopback HTTP; both hubs batch viewer writes (`--write-batch-ms`, origin and edge; default 40 ms each) and the two windows add up. ' +
    "The origin's window holds a frame for half a window on average; the edge's holds it for about a whole one, as the origin delivers each window's frames in one burst and the edge's timer starts on the burst's first frame. " +
    'Unbatched, the edge writes every frame to every viewer: several times the CPU, and under load no less delay.',
  '',
  mdTable(
    ['--write-batch-ms origin / edge', 'origin viewer delay median / p95 (ms)', 'edge viewer delay median / p95 (ms)', 'edge adds (median, ms)', `edge CPU, ${EDGE_VIEWERS} viewers`],
    rows.map((r) => [`${r.originBatch} / ${r.edgeBatch}`, cell(r.origin), cell(r.edge), fmt(median(r.edge) - median(r.origin)), `${fmt(r.edgeCpu * 100)}%`]),
  ),
].join('\n');
console.log(body);
if (write) replaceSection('BENCHMARKS.md', 'Delay through an edge: write batching at origin and edge', body);
