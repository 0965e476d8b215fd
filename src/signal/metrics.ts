// Prometheus metrics of one signal instance, in its own registry (several instances may share a process).
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';

export class SignalMetrics {
  readonly registry = new Registry();
  readonly httpRequests = new Counter({
    name: 'livecdn_signal_http_requests_total',
    help: 'API requests by route, method and status',
    labelNames: ['route', 'method', 'status'] as const,
    registers: [this.registry],
  });
  readonly httpDuration = new Histogram({
    name: 'livecdn_signal_http_request_duration_seconds',
    help: 'API request duration by route',
    labelNames: ['route'] as const,
    buckets: [0.0005, 0.001, 0.002, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1],
    registers: [this.registry],
  });
  readonly placements = new Counter({
    name: 'livecdn_signal_placements_total',
    help: 'Play placements by outcome: edge (own region), fallback_region, origin, none',
    labelNames: ['result'] as const,
    registers: [this.registry],
  });
  readonly routeLookups = new Counter({
    name: 'livecdn_signal_route_lookups_total',
    help: 'GET /api/route answers: found (an origin holds the stream) or not_found',
    labelNames: ['result'] as const,
    registers: [this.registry],
  });
  readonly hooks = new Counter({
    name: 'livecdn_signal_hooks_total',
    help: 'Hook calls by hook and result (allowed or the refusal code)',
    labelNames: ['hook', 'result'] as const,
    registers: [this.registry],
  });
  readonly chatMessages = new Counter({
    name: 'livecdn_signal_chat_messages_total',
    help: 'Chat messages accepted from local members',
    registers: [this.registry],
  });
  readonly chatRejected = new Counter({
    name: 'livecdn_signal_chat_rejected_total',
    help: 'Chat frames and joins refused, by error code',
    labelNames: ['code'] as const,
    registers: [this.registry],
  });
  readonly nodes: Gauge<'kind'>;
  readonly chatMembers: Gauge;

  constructor(sources: { nodes: () => { origin: number; edge: number; transcoder: number }; chatMembers: () => number }) {
    collectDefaultMetrics({ register: this.registry, prefix: 'livecdn_signal_' });
    this.nodes = new Gauge({
      name: 'livecdn_signal_nodes',
      help: 'Live registered nodes by kind (as of the last cluster view)',
      labelNames: ['kind'] as const,
      registers: [this.registry],
      collect() {
        const n = sources.nodes();
        this.set({ kind: 'origin' }, n.origin);
        this.set({ kind: 'edge' }, n.edge);
        this.set({ kind: 'transcoder' }, n.transcoder);
      },
    });
    this.chatMembers = new Gauge({
      name: 'livecdn_signal_chat_members',
      help: 'Chat members connected to this instance',
      registers: [this.registry],
      collect() {
        this.set(sources.chatMembers());
      },
    });
  }
}
