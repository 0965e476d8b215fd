// The recording benchmark's pure helpers (bench/record.ts): /proc/PID/io parsing, the JPEG frame-header
// size reader (checked on FFmpeg's JPEG), Prometheus counter totals, and the cost arithmetic.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { parseProcIo, readProcIo, threadSyscw } from '../../bench/lib/proc-io.js';
import { isWholeJpeg, jpegSize } from '../../bench/lib/jpeg-size.js';
import { metricTotal } from '../../bench/lib/prom.js';
import { extraPerStream, medianByName, medianPerStream, ratesByName, summarize, windowRates } from '../../bench/lib/record-cost.js';
import type { Counters } from '../../bench/lib/record-cost.js';
import { spawnFfmpeg } from '../helpers/ffmpeg.js';

describe('parseProcIo', () => {
  it('reads every field of the kernel text', () => {
    const io = parseProcIo('rchar: 6976\nwchar: 120\nsyscr: 10\nsyscw: 3\nread_bytes: 4096\nwrite_bytes: 8192\ncancelled_write_bytes: 0\n');
    assert.deepEqual(io, { rchar: 6976, wchar: 120, syscr: 10, syscw: 3, readBytes: 4096, writeBytes: 8192 });
  });

  it('missing fields read 0, garbage lines are ignored', () => {
    assert.deepEqual(parseProcIo('syscw: 7\nnonsense\nwchar: -1\nfoo: 12\n'), { rchar: 0, wchar: 0, syscr: 0, syscw: 7, readBytes: 0, writeBytes: 0 });
  });

  it('this process: the counters grow with a write; a pid that does not exist counts 0', () => {
    const before = readProcIo([process.pid]);
    assert.ok(before.syscr > 0, readFileSync('/proc/self/io', 'utf8'));
    process.stdout.write('');
    readFileSync('/proc/self/io');
    const after = readProcIo([process.pid, 0x7ffffff0]);
    assert.ok(after.syscr > before.syscr);
  });

  it('per thread name: the main thread is "main"; a pid that does not exist gives none', () => {
    assert.ok(threadSyscw(process.pid).has('main'));
    assert.equal(threadSyscw(0x7ffffff0).size, 0);
  });
});

const segment = (marker: number, body: number[]): number[] => [0xff, marker, (body.length + 2) >> 8, (body.length + 2) & 0xff, ...body];
const sof = (marker: number, w: number, h: number): number[] => segment(marker, [8, h >> 8, h & 0xff, w >> 8, w & 0xff, 1, 1, 0x11, 0]);

describe('jpegSize', () => {
  it('finds the frame header after APP0 and DHT (C4 is not a frame header); fill bytes allowed', () => {
    const app0 = segment(0xe0, [0x4a, 0x46, 0x49, 0x46, 0]);
    const dht = segment(0xc4, [0, ...new Array<number>(16).fill(0)]);
    const buf = Buffer.from([0xff, 0xd8, ...app0, 0xff, ...dht, ...sof(0xc0, 1920, 1080), ...segment(0xda, [0]), 0xff, 0xd9]);
    assert.deepEqual(jpegSize(buf), { width: 1920, height: 1080 });
    assert.deepEqual(jpegSize(Buffer.from([0xff, 0xd8, ...sof(0xc2, 640, 360)])), { width: 640, height: 360 });
    assert.equal(isWholeJpeg(buf), true);
  });

  it('undefined for not-a-JPEG, a scan before any frame header, a cut or malformed segment', () => {
    assert.equal(jpegSize(Buffer.from('not a jpeg at all')), undefined);
    assert.equal(jpegSize(Buffer.from([0xff, 0xd8, ...segment(0xda, [0]), 0xff, 0xd9])), undefined);
    const whole = Buffer.from([0xff, 0xd8, ...segment(0xe0, [1, 2, 3]), ...sof(0xc0, 320, 240)]);
    // The size fields end 4 bytes before the frame header does (component count and one component follow).
    for (let n = 0; n < whole.length - 4; n++) assert.equal(jpegSize(whole.subarray(0, n)), undefined, `cut at ${n}`);
    assert.deepEqual(jpegSize(whole.subarray(0, whole.length - 4)), { width: 320, height: 240 });
    assert.equal(jpegSize(Buffer.from([0xff, 0xd8, 0xff, 0xe0, 0, 1, 0, 0])), undefined);
    assert.equal(jpegSize(Buffer.from([0xff, 0xd8, 0x12, 0x34, 0, 4, 0, 0])), undefined);
    assert.equal(isWholeJpeg(whole), false);
  });

  it("reads FFmpeg's mjpeg output size", async (t) => {
    const p = spawnFfmpeg(['-hide_banner', '-loglevel', 'error', '-f', 'lavfi', '-i', 'testsrc2=size=176x144:rate=1', '-frames:v', '1', '-c:v', 'mjpeg', '-f', 'image2', 'pipe:1']);
    t.after(() => p.stop());
    const out: Buffer[] = [];
    p.child.stdout?.on('data', (b: Buffer) => out.push(b));
    assert.equal(await p.exited, 0);
    const jpeg = Buffer.concat(out);
    assert.equal(isWholeJpeg(jpeg), true);
    assert.deepEqual(jpegSize(jpeg), { width: 176, height: 144 });
  });
});

describe('metricTotal', () => {
  const page = [
    '# HELP livecdn_snapshot_decodes_total decodes',
    '# TYPE livecdn_snapshot_decodes_total counter',
    'livecdn_snapshot_decodes_total{app="live",stream="a"} 3',
    'livecdn_snapshot_decodes_total{app="live",stream="b"} 4',
    'livecdn_snapshot_decodes_total_other 100',
    'livecdn_record_active 2',
  ].join('\n');
  it('sums the label sets of one name, and only that name', () => {
    assert.equal(metricTotal(page, 'livecdn_snapshot_decodes_total'), 7);
    assert.equal(metricTotal(page, 'livecdn_record_active'), 2);
  });
  it('NaN when absent', () => assert.ok(Number.isNaN(metricTotal(page, 'livecdn_nothing'))));
});

describe('recording cost arithmetic', () => {
  const at = (s: number, cpu: number, syscw: number, disk: number, wait = 0): Counters => ({ atMs: s * 1000, cpuSeconds: cpu, syscw, wchar: disk, diskBytes: disk, waitSeconds: wait });

  it('rates per second over a window; a window that does not move forward throws', () => {
    const w = windowRates(at(10, 5, 100, 0), at(20, 6, 600, 5_000_000, 0.5));
    assert.deepEqual(w, { seconds: 10, cpu: 0.1, syscwPerS: 50, wcharPerS: 500_000, diskPerS: 500_000, wait: 0.05 });
    assert.throws(() => windowRates(at(10, 0, 0, 0), at(10, 0, 0, 0)), RangeError);
  });

  it('medians of the clean windows, all of them when none is clean; extra per stream', () => {
    const w = (cpu: number, wait: number): ReturnType<typeof windowRates> => ({ seconds: 10, cpu, syscwPerS: cpu * 1000, wcharPerS: 0, diskPerS: cpu, wait });
    const clean = (x: { wait: number }): boolean => x.wait <= 0.1;
    const off = summarize([w(0.2, 0), w(0.9, 0.5), w(0.22, 0.05), w(0.21, 0)], clean);
    assert.equal(off.cpu, 0.21);
    assert.equal(off.discarded, 1);
    assert.deepEqual(off.cpuWindows, [0.2, 0.22, 0.21]);
    const noisy = summarize([w(0.3, 0.5), w(0.5, 0.6)], clean);
    assert.equal(noisy.cpu, 0.4);
    assert.equal(noisy.discarded, 0);
    const on = summarize([w(0.26, 0), w(0.27, 0), w(0.25, 0)], clean);
    const extra = extraPerStream(on, off, 50);
    assert.ok(Math.abs(extra.cpu - 0.001) < 1e-12);
    assert.ok(Math.abs(extra.syscwPerS - 1) < 1e-9);
    assert.ok(Number.isNaN(extraPerStream(on, off, 0).cpu));
    const pair = (cpu: number): typeof extra => ({ cpu, syscwPerS: cpu * 10, wcharPerS: 0, diskPerS: 1 });
    assert.deepEqual(medianPerStream([pair(3), pair(1), pair(2)]), pair(2));
    assert.ok(Number.isNaN(medianPerStream([]).cpu));
  });

  it('rates and medians by thread name; a name missing from a sample counts 0', () => {
    const r = ratesByName(new Map([['main', 100], ['libuv-worker', 10]]), new Map([['main', 300], ['libuv-worker', 50], ['node', 8]]), 4);
    assert.deepEqual(r, { main: 50, 'libuv-worker': 10, node: 2 });
    assert.deepEqual(medianByName([r, { main: 10 }, { main: 20, node: 4 }]), { main: 20, 'libuv-worker': 0, node: 2 });
  });
});
