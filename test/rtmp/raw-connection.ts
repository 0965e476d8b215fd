// Raw RTMP connections for tests that send hand-made chunks, and a check that the server closed one.
import net from 'node:net';
import { ClientHandshake } from '../../src/rtmp/handshake.js';

/** A raw TCP connection that has completed the RTMP handshake, for sending hand-made chunks. */
export async function rawRtmpConnection(port: number, opts: { host?: string; localAddress?: string } = {}): Promise<net.Socket> {
  const s = net.connect({ host: opts.host ?? '127.0.0.1', port, ...(opts.localAddress ? { localAddress: opts.localAddress } : {}) });
  const hs = new ClientHandshake();
  await new Promise<void>((resolve, reject) => {
    const onClose = (): void => reject(new Error('closed during the handshake'));
    s.once('error', reject);
    s.once('close', onClose);
    s.once('connect', () => s.write(hs.start()));
    const onData = (d: Buffer): void => {
      const step = hs.feed(d);
      if (step.output) s.write(step.output);
      if (step.done) {
        s.off('data', onData);
        s.off('close', onClose);
        s.off('error', reject);
        resolve();
      }
    };
    s.on('data', onData);
  });
  // Later errors (a reset when the server drops us) are what the tests provoke.
  s.on('error', () => undefined);
  return s;
}

/** Whether `s` closes within `ms` (what it receives meanwhile is discarded). */
export const closedWithin = (s: net.Socket, ms: number): Promise<boolean> =>
  new Promise((resolve) => {
    if (s.destroyed) return resolve(true);
    const t = setTimeout(() => resolve(false), ms);
    s.resume();
    s.once('close', () => {
      clearTimeout(t);
      resolve(true);
    });
  });
