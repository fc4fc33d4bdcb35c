/** `stc queue worker`: run tasks until SIGTERM; `--local N` starts N such processes and relays their output. */
import { spawn } from 'node:child_process';
import { createInterface } from 'node:readline';
import { startWorker, type WorkerEvent, type WorkerHandle } from '../../queue/worker.ts';
import { parseDevice } from '../device-option.ts';
import { intOpt, redisUrl } from './queue-options.ts';

interface WorkerFlags {
  redis?: string;
  concurrency?: string;
  local?: string;
  threads?: string;
  lockMs?: string;
  device?: string;
}

function render(url: string, concurrency: number): (e: WorkerEvent) => void {
  const say = (s: string) => process.stderr.write(`${s}\n`);
  return (e) => {
    if (e.type === 'unreachable')
      say(e.attempt === 1 ? `stc: error: ${e.message}; retrying every few seconds (backoff up to 30 s)` : `Redis still unreachable; next try in ${Math.round(e.delayMs / 1000)} s`);
    else if (e.type === 'ready') say(`worker ready on ${url}: ${concurrency} task(s) at a time`);
    else if (e.type === 'start') say(`start ${e.task} (${e.kind})`);
    else if (e.type === 'done') say(`done ${e.task} in ${(e.ms / 1000).toFixed(2)} s`);
    else if (e.type === 'failed') say(`failed ${e.task}: ${e.error}${e.willRetry ? ' (will retry)' : ''}`);
    else if (e.type === 'refused') say(`refused ${e.task}: ${e.reason}`);
    else say(`worker: ${e.message}`);
  };
}

/** Runs n copies of this command without --local, each line of their stderr prefixed with its number; signals are passed on. */
async function runLocal(n: number): Promise<number> {
  const args = process.argv.slice(2);
  const i = args.findIndex((a) => a === '--local' || a.startsWith('--local='));
  args.splice(i, args[i] === '--local' ? 2 : 1);
  const procs = Array.from({ length: n }, (_, k) => {
    const child = spawn(process.execPath, [...process.execArgv, process.argv[1]!, ...args], { stdio: ['ignore', 'inherit', 'pipe'] });
    createInterface({ input: child.stderr! }).on('line', (line) => process.stderr.write(`[${k + 1}] ${line}\n`));
    return child;
  });
  const exits = procs.map((c) => new Promise<number>((res) => c.on('close', (code) => res(code ?? 1))));
  for (const sig of ['SIGTERM', 'SIGINT'] as const) process.on(sig, () => procs.forEach((c) => c.kill(sig)));
  return Math.max(0, ...(await Promise.all(exits)));
}

/** Runs until stopped; resolves to the exit code (--local: the highest of its workers'). */
export async function workerAction(o: WorkerFlags): Promise<number> {
  const url = redisUrl(o.redis);
  const local = intOpt(o.local, 'local', 1);
  if (local !== undefined) return runLocal(local);
  const concurrency = intOpt(o.concurrency, 'concurrency', 1) ?? 1;
  const threads = intOpt(o.threads, 'threads', 1);
  const lockMs = intOpt(o.lockMs, 'lock-ms', 1000);
  const device = parseDevice(o.device);
  const abort = new AbortController();
  let handle: WorkerHandle | undefined;
  let signals = 0;
  let stopped: () => void = () => undefined;
  const closed = new Promise<void>((res) => (stopped = res));
  const onSignal = (sig: string) => () => {
    signals++;
    if (!handle) {
      abort.abort();
      stopped();
      return;
    }
    process.stderr.write(signals === 1 ? `${sig}: finishing the running task(s); send it again to hand them back to the queue\n` : `${sig}: handing the running task(s) back\n`);
    void handle.close(signals > 1).then(stopped, stopped);
  };
  process.on('SIGTERM', onSignal('SIGTERM'));
  process.on('SIGINT', onSignal('SIGINT'));
  try {
    handle = await startWorker({
      redis: url,
      concurrency,
      ...(threads !== undefined && { threads }),
      ...(lockMs !== undefined && { lockMs }),
      ...(device && { device }),
      signal: abort.signal,
      onEvent: render(url, concurrency),
    });
  } catch (e) {
    if (abort.signal.aborted) return 0;
    throw e;
  }
  await closed;
  process.stderr.write('worker stopped\n');
  return 0;
}
