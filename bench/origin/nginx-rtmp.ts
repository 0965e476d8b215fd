// nginx + libnginx-mod-rtmp (Debian) as an RTMP play peer: a generated config in a temp prefix.
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

const MODULE_CANDIDATES = ['/usr/lib/nginx/modules/ngx_rtmp_module.so', '/usr/share/nginx/modules/ngx_rtmp_module.so'];

export function rtmpModulePath(): string {
  const found = MODULE_CANDIDATES.find((p) => existsSync(p));
  if (!found) throw new Error(`ngx_rtmp_module.so not found in ${MODULE_CANDIDATES.join(', ')} (apt-get install libnginx-mod-rtmp)`);
  return found;
}

/**
 * Writes nginx.conf into `prefix` and returns the nginx arguments that run it in the foreground;
 * `appDirectives` go into `application live` (e.g. `record all; record_path DIR;`).
 */
export function nginxRtmpArgs(prefix: string, rtmpPort: number, appDirectives = ''): string[] {
  mkdirSync(join(prefix, 'logs'), { recursive: true });
  const conf = `load_module ${rtmpModulePath()};
# One worker: nginx-rtmp's live module only fans out within a worker, and the benchmark pins one core.
worker_processes 1;
worker_rlimit_nofile 20000;
error_log ${join(prefix, 'logs/error.log')} warn;
pid ${join(prefix, 'nginx.pid')};
events { worker_connections 8192; }
rtmp {
  server {
    listen 127.0.0.1:${rtmpPort};
    chunk_size 4096;
    application live { live on; ${appDirectives}}
  }
}
`;
  writeFileSync(join(prefix, 'nginx.conf'), conf);
  return ['-p', prefix, '-c', join(prefix, 'nginx.conf'), '-g', 'daemon off;'];
}
