// docker-compose.yml and the Dockerfile, checked without a Docker engine: the compose file is read with a
// YAML parser (merge keys on, as compose resolves its `<<: *anchor` fragments). Every livecdn service's
// command is checked against the real CLI: `livecdn <cmd> --help` must list each flag used, LIVECDN_*
// variables must name real flags, and ports and URLs must line up; both nginx services' commands render
// their templates into configurations that Debian's `nginx -t` accepts.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { mkdtemp, readFile, rm, symlink } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';
import { parse } from 'yaml';
import { NGINX_MODULES } from './edge/nginx.js';

const run = promisify(execFile);
const root = resolve(import.meta.dirname, '..');

interface Service {
  build?: string | { context: string };
  image?: string;
  command?: string[];
  environment?: Record<string, string>;
  ports?: string[];
  volumes?: string[];
  depends_on?: Record<string, { condition: string }>;
  healthcheck?: { test: string[] };
}

interface Compose {
  services: Record<string, Service>;
}

/** The compose file as compose reads it: anchors and `<<` merge keys resolved. */
function readCompose(): Compose {
  return parse(readFileSync(join(root, 'docker-compose.yml'), 'utf8'), { merge: true }) as Compose;
}

const LIVECDN_COMMANDS = ['origin', 'edge', 'signal', 'all'] as const;

const helpCache = new Map<string, Promise<string>>();
function help(cmd: string): Promise<string> {
  let p = helpCache.get(cmd);
  if (!p) {
    p = run(process.execPath, ['--import', 'tsx', join(root, 'src/cli/main.ts'), cmd, '--help'], { cwd: root, timeout: 30_000 }).then((r) => r.stdout);
    helpCache.set(cmd, p);
  }
  return p;
}

/** Long flags listed by commander's help: "  --http-port <port>  ..." and "--no-prefetch". */
function flagsOf(helpText: string): Set<string> {
  const flags = new Set<string>();
  for (const m of helpText.matchAll(/(?:^|[\s,])(--[a-z][a-z0-9-]*)/gm)) flags.add(m[1] as string);
  return flags;
}

/** --flag value pairs (and bare --flag) of a command line. */
function parseArgs(args: readonly string[]): Map<string, string | true> {
  const out = new Map<string, string | true>();
  for (let i = 0; i < args.length; i++) {
    const a = args[i] as string;
    if (!a.startsWith('--')) continue;
    const eq = a.indexOf('=');
    if (eq > 0) out.set(a.slice(0, eq), a.slice(eq + 1));
    else if (i + 1 < args.length && !(args[i + 1] as string).startsWith('--')) out.set(a, args[++i] as string);
    else out.set(a, true);
  }
  return out;
}

/** The CLI's environment variable for a flag (src/cli/options.ts envName): --rtmp-port -> LIVECDN_RTMP_PORT. */
const envName = (flag: string): string => 'LIVECDN_' + flag.replace(/^--/, '').replace(/-/g, '_').toUpperCase();

const compose = readCompose();
const services = compose.services;
const livecdnServices = Object.entries(services).filter(([, s]) => s.image?.startsWith('livecdn') || s.build !== undefined);

const ORIGINS = ['origin-a', 'origin-b'] as const;
const EDGES = ['edge-eu', 'edge-us'] as const;

/** The two nginx services: the template each renders, and the placeholder values that work outside compose. */
const NGINX_SERVICES = [
  { name: 'nginx-edge', template: 'nginx/edge.conf.template', local: { LIVECDN_UPSTREAM: '127.0.0.1:8080' } },
  { name: 'ingest', template: 'nginx/ingest.conf.template', local: { LIVECDN_ORIGIN_A: '127.0.0.1:19350', LIVECDN_ORIGIN_B: '127.0.0.1:19351' } },
] as const;

/** The prefix an nginx service's command runs in (`exec nginx -p DIR`). */
const nginxPrefix = (s: Service | undefined): string | undefined => /exec nginx -p (\S+) -c nginx\.conf -g 'daemon off;'/.exec(s?.command?.join(' ') ?? '')?.[1];

describe('docker-compose.yml', () => {
  it('has two origins behind an nginx ingest front, the signal, Redis, two edges in two regions and an nginx edge', () => {
    assert.deepEqual(Object.keys(services).sort(), ['edge-eu', 'edge-us', 'ingest', 'nginx-edge', 'origin-a', 'origin-b', 'redis', 'signal']);
    const regions = EDGES.map((n) => parseArgs(services[n]?.command ?? []).get('--region'));
    assert.deepEqual(regions, ['eu', 'us']);
    assert.match(services.redis?.image ?? '', /^redis:/);
    for (const n of ['nginx-edge', 'ingest']) assert.match(services[n]?.image ?? '', /^nginx:/, n);
    for (const o of ORIGINS) assert.equal(services[o]?.command?.[0], 'origin', `${o} runs livecdn origin`);
  });

  it('runs every livecdn service from this repository image with a real subcommand', () => {
    assert.equal(livecdnServices.length, 5);
    for (const [name, s] of livecdnServices) {
      assert.equal(s.build, '.', `${name} builds the Dockerfile`);
      assert.equal(s.image, 'livecdn:latest', `${name} shares one image`);
      const cmd = s.command?.[0];
      assert.ok(cmd && (LIVECDN_COMMANDS as readonly string[]).includes(cmd), `${name}: subcommand ${String(cmd)}`);
    }
  });

  for (const [name, s] of livecdnServices) {
    it(`${name}: every flag and LIVECDN_* variable exists in \`livecdn ${s.command?.[0] ?? '?'} --help\``, async () => {
      const cmd = s.command?.[0] as string;
      const known = flagsOf(await help(cmd));
      assert.ok(known.size > 1, `help lists flags: ${[...known].join(' ')}`);
      const used = parseArgs(s.command?.slice(1) ?? []);
      assert.ok(used.size > 0);
      for (const flag of used.keys()) assert.ok(known.has(flag), `${name}: livecdn ${cmd} has no ${flag} (it has ${[...known].join(' ')})`);
      for (const v of Object.keys(s.environment ?? {})) {
        if (!v.startsWith('LIVECDN_')) continue;
        const flag = [...known].find((f) => envName(f) === v);
        assert.ok(flag, `${name}: ${v} matches no flag of livecdn ${cmd}`);
        assert.ok(!used.has(flag), `${name}: ${flag} given both as a flag and as ${v}`);
      }
    });
  }

  it('wires the services together: origins register, edges locate through the signal, the ingest front covers both origins', () => {
    const args = (n: string): Map<string, string | true> => parseArgs(services[n]?.command ?? []);
    const signal = args('signal');
    const signalPort = signal.get('--api-port');
    assert.equal(typeof signalPort, 'string');
    const signalUrl = `http://signal:${String(signalPort)}`;
    const originHttp = new Map<string, string>();
    for (const o of ORIGINS) {
      const a = args(o);
      const http = a.get('--http-port');
      const rtmp = a.get('--rtmp-port');
      assert.equal(typeof http, 'string');
      assert.equal(typeof rtmp, 'string');
      originHttp.set(o, `http://${o}:${String(http)}`);
      // each origin registers under its own id with URLs that resolve inside the compose network: edges pull
      // from the URL the signal's route answer gives, and the signal's kicks (revocation) go there too
      assert.equal(a.get('--signal'), signalUrl, `${o} registers with the signal`);
      assert.equal(a.get('--node-id'), o);
      assert.equal(a.get('--public-url'), `http://${o}:${String(http)}`);
      assert.equal(a.get('--rtmp-url'), `rtmp://${o}:${String(rtmp)}`);
      // the origin asks the signal before each publish, so that a revoked token stays refused after the kick
      assert.equal(a.get('--on-publish'), `${signalUrl}/api/hooks/on_publish`);
      assert.equal(a.get('--on-done'), `${signalUrl}/api/hooks/on_done`);
      // behind the front, every publisher reaches the origin from one address: the default 32 per address would cap the cluster
      assert.ok(Number(a.get('--max-connections-per-ip')) > 32, `${o}: --max-connections-per-ip above the per-address default`);
      assert.equal(services[o]?.ports, undefined, `${o} is reached through the ingest front and the edges only`);
      assert.equal(services[o]?.depends_on?.signal?.condition, 'service_healthy');
    }
    for (const e of EDGES) {
      const a = args(e);
      assert.equal(a.get('--upstream'), [...originHttp.values()].join(','), `${e} falls back to both origins`);
      assert.equal(a.get('--signal'), signalUrl, `${e} registers with the signal and locates streams through it`);
      assert.equal(a.get('--locate'), undefined, `${e} locates through the signal (the default with --signal)`);
      for (const o of ORIGINS) assert.ok(services[e]?.depends_on?.[o], `${e} starts after ${o}`);
    }
    // the ingest front proxies to both origins' RTMP ports; the signal hands out push URLs on it, at the
    // host's published port (encoders run outside the compose network); no fallback origin: both register
    const ingest = services.ingest;
    for (const [v, o] of [['LIVECDN_ORIGIN_A', 'origin-a'], ['LIVECDN_ORIGIN_B', 'origin-b']] as const) {
      assert.equal(ingest?.environment?.[v], `${o}:${String(args(o).get('--rtmp-port'))}`, v);
      assert.ok(ingest?.depends_on?.[o], `the ingest front starts after ${o} (nginx resolves its servers at start)`);
    }
    const ingestHost = ingest?.ports?.find((p) => p.endsWith(`:${String(ingest.environment?.LIVECDN_INGEST_LISTEN)}`))?.split(':')[0];
    assert.equal(signal.get('--ingest-url'), `rtmp://localhost:${String(ingestHost)}`);
    assert.equal(signal.get('--origin-rtmp'), undefined);
    assert.equal(signal.get('--origin-http'), undefined);
    const redisUrl = signal.get('--redis');
    assert.equal(redisUrl, 'redis://redis:6379');
    assert.equal(services.signal?.depends_on?.redis?.condition, 'service_healthy');
    // the secret comes from the environment (not visible in `ps`), one for every livecdn service (nodes sign
    // their registration with it, every origin checks publish tokens with it), and there is no default:
    // compose refuses to start without it (${VAR:?…})
    for (const [name, svc] of livecdnServices) {
      assert.equal(svc.environment?.LIVECDN_SECRET, services.signal?.environment?.LIVECDN_SECRET, `${name} has the cluster secret`);
    }
    assert.match(services.signal?.environment?.LIVECDN_SECRET ?? '', /^\$\{LIVECDN_SECRET:\?[^}]+\}$/);
    assert.doesNotMatch(readFileSync(join(root, 'docker-compose.yml'), 'utf8'), /LIVECDN_SECRET:-|--secret\b|--insecure/, 'no default secret, no secret on a command line, no --insecure');
  });

  it('publishes each container port the service listens on, with no host port used twice', () => {
    const hostPorts = new Set<string>();
    for (const [name, s] of Object.entries(services)) {
      const a = parseArgs(s.command ?? []);
      const listening = new Set(
        [a.get('--http-port'), a.get('--rtmp-port'), a.get('--api-port'), s.environment?.LIVECDN_LISTEN, s.environment?.LIVECDN_INGEST_LISTEN].filter(
          (x): x is string => typeof x === 'string',
        ),
      );
      for (const p of s.ports ?? []) {
        const m = /^(\d+):(\d+)$/.exec(p);
        assert.ok(m, `${name}: port mapping ${p} is HOST:CONTAINER`);
        const [, host, container] = m;
        assert.ok(!hostPorts.has(host as string), `host port ${host} published twice`);
        hostPorts.add(host as string);
        assert.ok(listening.has(container as string), `${name} publishes ${container} but listens on ${[...listening].join(', ')}`);
      }
    }
    for (const want of ['1935', '8090', '8081', '8082', '8083']) assert.ok(hostPorts.has(want), `host port ${want}`);
    // each edge's public URL is the host port that reaches it
    for (const e of EDGES) {
      const pub = parseArgs(services[e]?.command ?? []).get('--public-url');
      const host = services[e]?.ports?.[0]?.split(':')[0];
      assert.equal(pub, `http://localhost:${String(host)}`);
    }
  });

  it('runs the nginx edge in front of the eu edge, which locates streams (nginx cannot ask the signal)', () => {
    const nginx = services['nginx-edge'];
    assert.equal(nginx?.environment?.LIVECDN_UPSTREAM, `edge-eu:${String(parseArgs(services['edge-eu']?.command ?? []).get('--http-port'))}`);
    assert.ok(nginx?.depends_on?.['edge-eu']);
    assert.equal(nginx?.environment?.LIVECDN_LISTEN, nginx?.ports?.[0]?.split(':')[1], 'nginx listens on the published container port');
  });

  for (const { name, template } of NGINX_SERVICES) {
    it(`runs ${name} from ${template} with every placeholder set`, () => {
      const nginx = services[name];
      const vol = nginx?.volumes?.[0] ?? '';
      const [src, dst] = vol.split(':');
      assert.equal(src, `./${template}`);
      const script = nginx?.command?.join(' ') ?? '';
      assert.ok(dst && script.includes(`< ${dst} >`), 'the command renders the mounted template');
      assert.ok(nginxPrefix(nginx), `runs nginx in the foreground in its prefix: ${script}`);
      const tpl = readFileSync(join(root, template), 'utf8');
      const vars = new Set([...tpl.matchAll(/\$\{([A-Z_][A-Z0-9_]*)\}/g)].map((m) => m[1] as string));
      assert.ok(vars.size > 0, 'the template has placeholders');
      for (const v of vars) {
        assert.ok(nginx?.environment?.[v] !== undefined, `the template uses \${${v}}: set it in the compose file`);
        // $$ is compose's escape for a literal $: envsubst must see ${VAR}, not the host's value.
        assert.ok(script.includes(`$\${${v}}`), `envsubst substitutes only the listed variables, and ${v} is one`);
      }
    });
  }

  for (const { name, template, local } of NGINX_SERVICES) {
    it(`the ${name} command renders a configuration that \`nginx -t\` accepts (Debian nginx)`, async () => {
      const nginx = services[name];
      const prefix = nginxPrefix(nginx) ?? '';
      const mounted = nginx?.volumes?.[0]?.split(':')[1] ?? '';
      // The compose command itself, with the container paths moved into a temp dir, compose's $$ unescaped,
      // and the upstreams pointed at addresses that resolve outside the compose network. Debian builds the
      // stream module as a dynamic module that the template's modules-enabled include loads from the prefix.
      const dir = await mkdtemp(join(tmpdir(), `livecdn-compose-${name}-`));
      try {
        await symlink(NGINX_MODULES, join(dir, 'modules'));
        const script = (nginx?.command?.[2] ?? '')
          .replaceAll('$$', '$')
          .replaceAll(prefix, dir)
          .replaceAll(mounted, join(root, template))
          .replace('exec nginx -p', 'nginx -t -p')
          .replace(" -g 'daemon off;'", '');
        assert.ok(script.includes('nginx -t -p'), script);
        const env = { ...process.env, ...nginx?.environment, ...local };
        const r = await run('sh', ['-c', script], { env, timeout: 20_000 }).catch((err: { stderr?: string; message: string }) => {
          throw new Error(`nginx -t refused the rendered configuration: ${err.stderr ?? err.message}`);
        });
        assert.match(r.stderr, /test is successful/);
        const conf = await readFile(join(dir, 'nginx.conf'), 'utf8');
        assert.doesNotMatch(conf, /\$\{LIVECDN_/, 'every placeholder substituted');
        assert.match(conf, /\$(uri|upstream_cache_status|proxy_host|binary_remote_addr)\b/, "nginx's own $variables left alone");
      } finally {
        await rm(dir, { recursive: true, force: true });
      }
    });
  }

  it('has no tabs (YAML forbids them in indentation)', () => {
    assert.ok(!readFileSync(join(root, 'docker-compose.yml'), 'utf8').includes('\t'));
  });
});

describe('Dockerfile', () => {
  const text = readFileSync(join(root, 'Dockerfile'), 'utf8');
  const lines = text.split('\n').filter((l) => l.trim() && !l.trimStart().startsWith('#'));

  it('builds on node:20-bookworm-slim with npm ci and runs dist/cli/main.js', () => {
    const froms = lines.filter((l) => /^FROM\s/i.test(l));
    assert.ok(froms.length >= 1);
    for (const f of froms) assert.match(f, /^FROM node:20-bookworm-slim(\s+AS\s+\w+)?$/i);
    assert.ok(lines.some((l) => /^RUN npm ci\b/.test(l)), 'npm ci');
    assert.ok(lines.some((l) => /^RUN npm run build\b/.test(l)), 'npm run build');
    assert.ok(lines.some((l) => /build-player/.test(l) || /dist\/player/.test(l)), 'the player pages are built into the image');
    assert.equal(lines.filter((l) => /^ENTRYPOINT/.test(l)).at(-1), 'ENTRYPOINT ["node","dist/cli/main.js"]');
    assert.ok(!/apt-get install[^\n]*ffmpeg/.test(text), 'the server needs no ffmpeg');
    assert.ok(lines.some((l) => /^USER node$/.test(l)), 'runs as the unprivileged node user');
  });

  it('copies what the entrypoint needs and keeps build junk out of the context', () => {
    const ignore = readFileSync(join(root, '.dockerignore'), 'utf8').split('\n').map((l) => l.trim());
    for (const p of ['node_modules', 'dist', '.git', 'artifacts']) assert.ok(ignore.includes(p), `.dockerignore lists ${p}`);
    assert.ok(lines.some((l) => /^COPY .*package-lock\.json/.test(l)), 'the lock file is copied before npm ci');
    const pkg = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as { bin?: Record<string, string> };
    assert.equal(pkg.bin?.livecdn, 'dist/cli/main.js', 'the ENTRYPOINT is the package binary');
  });
});
