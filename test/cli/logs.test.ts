// What an operator sees (issue 9, item 9): `livecdn` started from a terminal (as `npm start` is) logs
// readable lines, and the same command with its stdout piped to a collector logs JSON. util-linux
// `script` gives the child a real pseudo-terminal, so the TTY check itself is exercised.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';

/** The first log line of `livecdn signal` on a free port, its stdout a pseudo-terminal or a pipe. */
async function firstLogLine(tty: boolean): Promise<string> {
  const argv = [process.execPath, '--import', 'tsx', 'src/cli/main.ts', 'signal', '--insecure', '--host', '127.0.0.1', '--api-port', '0'];
  // `script -qec CMD /dev/null`: quiet, the command's exit code, no typescript file.
  const [cmd, args] = tty ? ['script', ['-qec', argv.join(' '), '/dev/null']] : [argv[0] as string, argv.slice(1)];
  // Its own process group, so that script, node and all are stopped together.
  const child = spawn(cmd, args, { detached: true, stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, LOG_LEVEL: 'info', NO_COLOR: '1' } });
  try {
    let out = '';
    let err = '';
    child.stderr.on('data', (b: Buffer) => (err = (err + b.toString()).slice(-4000)));
    return await new Promise<string>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`no log line within 30 s: ${out}`)), 30_000);
      child.stdout.on('data', (b: Buffer) => {
        out += b.toString();
        const nl = out.indexOf('\n');
        if (nl >= 0) {
          clearTimeout(timer);
          resolve(out.slice(0, nl).replace(/\r$/, ''));
        }
      });
      child.once('exit', (code) => reject(new Error(`exited (${String(code)}) before logging: ${out} ${err}`)));
    });
  } finally {
    if (child.exitCode === null) process.kill(-(child.pid as number), 'SIGKILL');
  }
}

test('livecdn logs readable lines to a terminal and JSON to a pipe', async () => {
  const [pretty, json] = await Promise.all([firstLogLine(true), firstLogLine(false)]);
  assert.match(pretty, /^\[\d\d:\d\d:\d\d\.\d{3}\] (INFO|WARN) \(signal\): \S/, pretty);
  const line = JSON.parse(json) as { name?: unknown; msg?: unknown };
  assert.equal(line.name, 'signal');
  assert.equal(typeof line.msg, 'string');
});
