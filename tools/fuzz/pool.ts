/**
 * The worker pool of the nightly-style fuzzers (bench/fuzz-specs.ts, bench/fuzz-inputs.ts): cases run one
 * after another in a worker process that prints `{"start": i}` before case i and a Result line after it.
 * A worker is killed and replaced when a case passes the time limit, or when the worker's peak RSS passes
 * the RSS limit (the case that pushed it over is counted), so each count is attributable to one case.
 * Worker start-up time is not counted against a case.
 */
import { spawn } from 'node:child_process';
import { createInterface } from 'node:readline';

export interface Result {
  readonly i: number;
  readonly kind: string;
  readonly outcome: 'ran' | 'refused' | 'crashed' | 'timeout';
  readonly ms: number;
  readonly rss: number;
  readonly error?: string;
}

export interface PoolOptions {
  readonly cwd: string;
  /** Worker command line after `node --import tsx`, given the first case to run. */
  readonly args: (from: number) => string[];
  readonly count: number;
  readonly timeLimitMs: number;
  readonly rssLimit: number;
}

/** Run cases from `from` on in one worker until it ends, times out or passes the RSS limit; returns the next index. */
function runWorker(o: PoolOptions, from: number, results: Result[]): Promise<number> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, ['--import', 'tsx', ...o.args(from)], { cwd: o.cwd, stdio: ['ignore', 'pipe', 'ignore'] });
    let current = from;
    let currentKind = '?';
    let timer: NodeJS.Timeout | undefined;
    let next = o.count;
    const stop = (n: number) => {
      next = n;
      if (timer) clearTimeout(timer);
      child.kill('SIGKILL');
    };
    createInterface({ input: child.stdout! }).on('line', (line) => {
      if (!line.startsWith('{')) return;
      const msg = JSON.parse(line) as { start?: number } & Partial<Result>;
      if (msg.start !== undefined) {
        current = msg.start;
        currentKind = msg.kind ?? '?';
        if (timer) clearTimeout(timer);
        timer = setTimeout(() => {
          results.push({ i: current, kind: currentKind, outcome: 'timeout', ms: o.timeLimitMs, rss: 0 });
          stop(current + 1);
        }, o.timeLimitMs);
        return;
      }
      if (timer) clearTimeout(timer);
      const r = msg as Result;
      results.push(r);
      if (r.rss > o.rssLimit) stop(r.i + 1);
    });
    child.on('exit', () => {
      if (timer) clearTimeout(timer);
      // a worker that died on its own (out of memory, a native crash) took its current case with it
      if (next === o.count && results.at(-1)?.i !== current && current < o.count) {
        results.push({ i: current, kind: currentKind, outcome: 'crashed', ms: 0, rss: 0, error: 'worker died' });
        next = current + 1;
      }
      resolve(next);
    });
  });
}

export async function runPool(o: PoolOptions): Promise<Result[]> {
  const results: Result[] = [];
  for (let i = 0; i < o.count; ) i = await runWorker(o, i, results);
  return results;
}

/** The report lines: the counts the issue asks for, per family, and the first offenders. Returns the offender count. */
export function report(title: string, results: readonly Result[], o: PoolOptions, log: (s: string) => void): number {
  const by = (p: (r: Result) => boolean) => results.filter(p).length;
  const crashed = results.filter((r) => r.outcome === 'crashed');
  const overTime = results.filter((r) => r.outcome === 'timeout' || r.ms > o.timeLimitMs);
  const overRss = results.filter((r) => r.rss > o.rssLimit);
  log(`${title}: ${results.length} cases`);
  log(`  ran: ${by((r) => r.outcome === 'ran')}`);
  log(`  refused with a diagnostic or one-line error: ${by((r) => r.outcome === 'refused')}`);
  log(`  stack traces (crashes): ${crashed.length}`);
  log(`  over ${o.timeLimitMs / 1000} s: ${overTime.length}`);
  log(`  over ${o.rssLimit / 2 ** 20} MiB RSS: ${overRss.length}`);
  const peak = results.reduce<Result | undefined>((m, r) => (m && m.rss >= r.rss ? m : r), undefined);
  if (peak) log(`  max RSS: ${(peak.rss / 2 ** 20).toFixed(0)} MiB (#${peak.i} ${peak.kind}, a worker's peak so far)`);
  const families = new Map<string, number[]>();
  for (const r of results) {
    const f = r.kind.split(':')[0]!;
    const c = families.get(f) ?? [0, 0, 0];
    c[r.outcome === 'ran' ? 0 : r.outcome === 'refused' ? 1 : 2]!++;
    families.set(f, c);
  }
  for (const [f, [ran, refused, bad]] of families) log(`  ${f}: ran ${ran}, refused ${refused}, crashed/timed out ${bad}`);
  for (const r of [...crashed, ...overTime, ...overRss].slice(0, 20))
    log(`  #${r.i} ${r.kind} ${r.outcome} ${r.ms.toFixed(0)} ms ${(r.rss / 2 ** 20).toFixed(0)} MiB${r.error ? `: ${r.error}` : ''}`);
  return crashed.length + overTime.length + overRss.length;
}
