// Load figures for heartbeats of origins and edges: egress bit rate and CPU, each averaged since the
// previous sample.

export class LoadSampler {
  private lastAt = performance.now();
  private lastBytes: number;
  private lastCpu = process.cpuUsage();

  constructor(private readonly egressTotal: () => number) {
    this.lastBytes = egressTotal();
  }

  /** Egress bits per second and CPU (fraction of one core) since the last call. */
  sample(): { egressBps: number; cpu: number } {
    const now = performance.now();
    const bytes = this.egressTotal();
    const cpu = process.cpuUsage();
    const dtMs = Math.max(1, now - this.lastAt);
    const cpuUs = cpu.user - this.lastCpu.user + (cpu.system - this.lastCpu.system);
    const out = { egressBps: ((bytes - this.lastBytes) * 8 * 1000) / dtMs, cpu: cpuUs / 1000 / dtMs };
    this.lastAt = now;
    this.lastBytes = bytes;
    this.lastCpu = cpu;
    return out;
  }
}
