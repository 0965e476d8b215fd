// Test helper: a connection that holds an HTTP listener's slot, as slowloris does: it sends a request head
// at one byte a second (slow), or connects and sends nothing at all (silent).
import net from 'node:net';

export interface Hog {
  /** ms from connect to close; undefined while open. */
  closedAfter: number | undefined;
  /** The server closed it without a byte of answer. */
  silent: boolean;
  socket: net.Socket;
}

export function hog(port: number, slow: boolean, path = '/'): Hog {
  const socket = net.connect(port, '127.0.0.1');
  const h: Hog = { closedAfter: undefined, silent: true, socket };
  let t0 = Date.now();
  let drip: NodeJS.Timeout | undefined;
  socket.on('connect', () => {
    t0 = Date.now();
    if (!slow) return;
    socket.write(`GET ${path} HTTP/1.1\r\nHost: x\r\nX-Slow: `);
    drip = setInterval(() => socket.write('a'), 1000);
  });
  socket.on('data', () => (h.silent = false));
  socket.on('error', () => undefined);
  socket.on('close', () => {
    clearInterval(drip);
    h.closedAfter = Date.now() - t0;
  });
  return h;
}
