// A process's I/O accounting from /proc/PID/io (Linux; every thread of the process counted): write
// syscalls and bytes, for what recording costs beside its CPU.
import { readFileSync } from 'node:fs';
import { threadsOf } from './proc.js';

export interface ProcIo {
  /** Bytes passed to read/write-like syscalls (sockets and pipes included). */
  rchar: number;
  wchar: number;
  /** Read and write syscalls (read, pread, readv, write, pwrite, writev, …). */
  syscr: number;
  syscw: number;
  /** Bytes the process caused to be fetched from / sent to the storage layer (0 on some filesystems). */
  readBytes: number;
  writeBytes: number;
}

const FIELDS: Record<string, keyof ProcIo> = {
  rchar: 'rchar',
  wchar: 'wchar',
  syscr: 'syscr',
  syscw: 'syscw',
  read_bytes: 'readBytes',
  write_bytes: 'writeBytes',
};

export const zeroIo = (): ProcIo => ({ rchar: 0, wchar: 0, syscr: 0, syscw: 0, readBytes: 0, writeBytes: 0 });

/** Parses the text of /proc/PID/io; a field missing from it reads 0, unknown lines are ignored. */
export function parseProcIo(text: string): ProcIo {
  const io = zeroIo();
  for (const line of text.split('\n')) {
    const m = /^(\w+):\s*(\d+)\s*$/.exec(line);
    const key = m ? FIELDS[m[1] ?? ''] : undefined;
    if (m && key) io[key] = Number(m[2]);
  }
  return io;
}

export function addIo(a: ProcIo, b: ProcIo): ProcIo {
  return {
    rchar: a.rchar + b.rchar,
    wchar: a.wchar + b.wchar,
    syscr: a.syscr + b.syscr,
    syscw: a.syscw + b.syscw,
    readBytes: a.readBytes + b.readBytes,
    writeBytes: a.writeBytes + b.writeBytes,
  };
}

/** The sum over processes (nginx: master + worker); one that ended meanwhile counts nothing. */
export function readProcIo(pids: readonly number[]): ProcIo {
  let sum = zeroIo();
  for (const pid of pids) {
    try {
      sum = addIo(sum, parseProcIo(readFileSync(`/proc/${pid}/io`, 'utf8')));
    } catch {
      // ended between listing and reading
    }
  }
  return sum;
}

/**
 * Write syscalls per thread name of one process (/proc/PID/task/TID/io, names from comm; the main
 * thread as 'main'), threads of one name summed: which thread makes the writes (Node: the event loop,
 * libuv's thread pool for file writes, V8's platform workers).
 */
export function threadSyscw(pid: number): Map<string, number> {
  const out = new Map<string, number>();
  for (const { tid, name } of threadsOf(pid)) {
    try {
      out.set(name, (out.get(name) ?? 0) + parseProcIo(readFileSync(`/proc/${pid}/task/${tid}/io`, 'utf8')).syscw);
    } catch {
      // thread ended
    }
  }
  return out;
}
