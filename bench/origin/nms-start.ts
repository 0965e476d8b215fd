// Starts node-media-server 4.4 with RTMP and HTTP-FLV only, for the origin benchmark:
//   node --import tsx bench/origin/nms-start.ts RTMP_PORT HTTP_PORT DATA_DIR
// No admin console, no API, no TLS, no recording: only the media paths we compare.
import { createRequire } from 'node:module';

interface NodeMediaServer {
  run(): void | Promise<void>;
}
type NmsConstructor = new (config: object, configPath?: string) => NodeMediaServer;

const require = createRequire(import.meta.url);
const Nms = require('node-media-server') as NmsConstructor;

const [rtmpPort, httpPort, dataDir] = process.argv.slice(2);
if (!rtmpPort || !httpPort || !dataDir) {
  console.error('usage: nms-start.ts RTMP_PORT HTTP_PORT DATA_DIR');
  process.exit(2);
}

const config = {
  bind: '127.0.0.1',
  notify: { url: '' },
  store: { path: dataDir, maxHistory: 100 },
  auth: { play: false, publish: false, secret: '' },
  rtmp: { port: Number(rtmpPort) },
  http: { port: Number(httpPort) },
  webadmin: { enable: false },
  record: { auto: false, path: dataDir + '/record' },
};

void new Nms(config).run();
process.on('SIGTERM', () => process.exit(0));
