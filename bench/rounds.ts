/**
 * A full run measures each job in rounds: every round runs stc and each peer once, each in its own process, back to
 * back. Why: on the shared 2-core machine one process's draw moves its time by up to 30% (docs/benchmarks.md, "Goals
 * (issue 22)"), while the runs within a process agree to a few per cent; so one process per backend lets a single
 * slow stretch decide a ratio. With rounds, a ratio is the median over rounds of stc's time over the fastest peer's
 * time in the same round, and its range shows the spread. Pure functions; bench/run.ts does the measuring.
 */
import type { BackendName, Measurement, Outcome } from './report.ts';
import { gflops, median } from './stats.ts';

/** One round of one job: each backend's median time (ms) in that round, for the backends that measured it. */
export type RoundTimes = Readonly<Partial<Record<BackendName, number>>>;

/** The backends' median times of one round's outcomes (failed and skipped ones left out). */
export function roundTimes(outcomes: Readonly<Partial<Record<BackendName, Outcome>>>): RoundTimes {
  const out: Partial<Record<BackendName, number>> = {};
  for (const [name, o] of Object.entries(outcomes) as [BackendName, Outcome][]) if (o.status === 'ok') out[name] = o.m.median_ms;
  return out;
}

/**
 * One backend's outcomes over the rounds as one: its time is the median of the rounds' medians, its best the best
 * run of any round, its runs all rounds' runs in order, its peak RSS the highest; other per-process figures (set-up
 * time, baseline RSS) are the first measured round's. With no round measured, the first round's outcome (why it was not).
 */
export function combineRounds(outcomes: readonly Outcome[]): Outcome {
  const ok = outcomes.flatMap((o) => (o.status === 'ok' ? [o.m] : []));
  if (ok.length === 0) return outcomes[0] ?? { status: 'skipped', reason: 'not run' };
  if (ok.length === 1) return { status: 'ok', m: ok[0]! };
  const first = ok[0]!;
  const medianMs = median(ok.map((m) => m.median_ms));
  const m: Measurement = {
    ...first,
    median_ms: medianMs,
    min_ms: Math.min(...ok.map((x) => x.min_ms)),
    ...(ok.every((x) => x.times_ms) && { times_ms: ok.flatMap((x) => x.times_ms!) }),
    gflops: gflops(first.gflop * 1e9, medianMs),
    peak_rss_mb: Math.max(...ok.map((x) => x.peak_rss_mb)),
  };
  return { status: 'ok', m };
}

/** A backend's time over the fastest peer's, per round: the median over rounds, its range and the rounds counted. */
export interface PairedRatio {
  readonly median: number;
  readonly min: number;
  readonly max: number;
  readonly rounds: number;
}

/**
 * `backend`'s time over the fastest of `peers` in the same round, over the rounds where both were measured; undefined
 * when there is no such round.
 */
export function pairedRatio(rounds: readonly RoundTimes[], backend: BackendName, peers: readonly BackendName[]): PairedRatio | undefined {
  const ratios = rounds.flatMap((r) => {
    const t = r[backend];
    const p = peers.flatMap((n) => (r[n] !== undefined ? [r[n]!] : []));
    return t !== undefined && p.length > 0 ? [t / Math.min(...p)] : [];
  });
  if (ratios.length === 0) return undefined;
  return { median: median(ratios), min: Math.min(...ratios), max: Math.max(...ratios), rounds: ratios.length };
}
