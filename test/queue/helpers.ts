/** A throwaway redis-server on a free loopback port, and `stc` child processes, for the queue tests. */
import { resolve } from 'node:path';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { createServer } from 'node:net';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { probeClient } from '../../src/queue/redis/client.ts';

export const STC_BIN = fileURLToPath(new URL('../../bin/stc.js', import.meta.url));

export function redisServerAvailable(): boolean {
  const r = spawnSync('redis-server', ['--version'], { stdio: 'ignore' });
  return !r.error && r.status === 0;
}

/** A port the OS says is free now (redis-server cannot be given port 0). */
export async function freePort(): Promise<number> {
  const srv = createServer();
  await new Promise<void>((res) => srv.listen(0, '127.0.0.1', res));
  const port = (srv.address() as { port: number }).port;
  await new Promise((res) => srv.close(res));
  return port;
}

export interface RedisServer {
  readonly url: string;
  stop(): Promise<void>;
}

export async function startRedis(): Promise<RedisServer> {
  const port = await freePort();
  const proc = spawn('redis-server', ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'], { stdio: 'ignore' });
  const url = `redis://127.0.0.1:${port}`;
  for (let i = 0; ; i++) {
    const c = probeClient(url, 500);
    c.on('error', () => undefined);
    try {
      await c.connect();
      await c.ping();
      c.disconnect();
      break;
    } catch {
      c.disconnect();
      if (i > 100 || proc.exitCode !== null) throw new Error(`redis-server did not start on port ${port}`);
      await new Promise((r) => setTimeout(r, 50));
    }
  }
  return {
    url,
    async stop() {
      const exited = new Promise((r) => proc.once('exit', r));
      proc.kill('SIGKILL');
      await exited;
    },
  };
}

export interface Child {
  readonly proc: ChildProcess;
  readonly lines: string[];
  /** Resolves with the first stderr line matching `re` (rejects when the process exits first). */
  waitFor(re: RegExp, timeoutMs?: number): Promise<string>;
  exited: Promise<number | null>;
}

/** Spawn a node script (tsx-loaded like bin/stc.js) and collect its stderr lines. */
export function spawnNode(script: string, args: readonly string[], opts: { env?: NodeJS.ProcessEnv; cwd?: string } = {}): Child {
  const loader = script.endsWith('.ts') ? ['--import', 'tsx'] : [];
  const proc = spawn(process.execPath, [...loader, script, ...args], { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, ...opts.env }, ...(opts.cwd && { cwd: opts.cwd }) });
  const lines: string[] = [];
  const waiters: { re: RegExp; res: (l: string) => void }[] = [];
  const onLine = (l: string) => {
    lines.push(l);
    for (const w of waiters.splice(0)) if (w.re.test(l)) w.res(l);
    else waiters.push(w);
  };
  createInterface({ input: proc.stderr! }).on('line', onLine);
  createInterface({ input: proc.stdout! }).on('line', onLine);
  const exited = new Promise<number | null>((r) => proc.on('exit', (code) => r(code)));
  return {
    proc,
    lines,
    exited,
    waitFor(re, timeoutMs = 60_000) {
      const seen = lines.find((l) => re.test(l));
      if (seen) return Promise.resolve(seen);
      return new Promise((res, rej) => {
        const t = setTimeout(() => rej(new Error(`timed out waiting for ${re}; output:\n${lines.join('\n')}`)), timeoutMs);
        waiters.push({ re, res: (l) => (clearTimeout(t), res(l)) });
        void exited.then((code) => rej(new Error(`process exited (${code}) before ${re}; output:\n${lines.join('\n')}`)));
      });
    },
  };
}

/** Run `stc …` to completion. */
export async function runStc(args: readonly string[], opts: { env?: NodeJS.ProcessEnv; cwd?: string } = {}): Promise<{ code: number | null; out: string }> {
  const c = spawnNode(STC_BIN, args, opts);
  const code = await c.exited;
  await new Promise((r) => setImmediate(r));
  return { code, out: c.lines.join('\n') };
}

/** Run `stc …` in this process (no start-up cost), capturing what it writes to stdout and stderr. */
export async function runMain(args: readonly string[], cwd?: string): Promise<{ code: number; out: string }> {
  const { main } = await import('../../src/cli/main.ts');
  const chunks: string[] = [];
  const out = process.stdout.write.bind(process.stdout);
  const err = process.stderr.write.bind(process.stderr);
  const capture = (s: string | Uint8Array): boolean => (chunks.push(typeof s === 'string' ? s : Buffer.from(s).toString()), true);
  const dir = process.cwd();
  process.stdout.write = capture as typeof process.stdout.write;
  process.stderr.write = capture as typeof process.stderr.write;
  try {
    if (cwd) process.chdir(cwd);
    return { code: await main(['node', 'stc', ...args]), out: chunks.join('') };
  } finally {
    process.chdir(dir);
    process.stdout.write = out;
    process.stderr.write = err;
  }
}

/** SqueezeNet 1.1 in ../shared: the loss network of the queue's training tests (they skip without it). */
export const SQUEEZE = resolve(import.meta.dirname, '../../../shared/weights/squeezenet1_1');

/** A tiny transformation network for the queue's training tests: trains in well under a second a step. */
export const TINY_SPEC = `import johnson

main network tiny {
  input x: image[N, 3, H, W]
  conv1 = conv(4, 3, padding: reflect); in1 = instance_norm(); relu()
  conv2 = conv(3, 3, padding: reflect)
  output y = scaled_tanh(150, 127.5)
  weights random(seed: 0)
}
`;
