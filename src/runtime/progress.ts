/**
 * Progress reporting shared by long-running jobs (Gatys optimisation, training, batch
 * stylisation). The library emits `ProgressEvent`s through callbacks and never prints;
 * the CLI renders them with `ProgressBar`.
 */

export interface ProgressEvent {
  /** What is running (`stylize`, `train`). */
  readonly label: string;
  /** Units done so far (iterations, images), 0 ≤ current ≤ total. */
  readonly current: number;
  readonly total: number;
  /** Wall time since the job started, in milliseconds. */
  readonly elapsedMs: number;
  /** Named scalars to show (`loss`, `style`, `content`), in display order. */
  readonly fields?: Readonly<Record<string, number>>;
}

export type ProgressCallback = (e: ProgressEvent) => void;

/** Remaining seconds by linear extrapolation, or undefined before the first unit. */
export function etaSeconds(e: ProgressEvent): number | undefined {
  if (e.current <= 0 || e.total <= 0) return undefined;
  return Math.max(0, (e.elapsedMs / 1000 / e.current) * (e.total - e.current));
}

/** `75s` -> `1m15s`; `3725s` -> `1h02m`. */
export function formatDuration(seconds: number): string {
  const s = Math.round(seconds);
  if (s < 60) return `${s}s`;
  if (s < 3600) return `${Math.floor(s / 60)}m${String(s % 60).padStart(2, '0')}s`;
  return `${Math.floor(s / 3600)}h${String(Math.floor((s % 3600) / 60)).padStart(2, '0')}m`;
}

/** Compact number: 4 significant digits, exponent form outside [1e-3, 1e5). */
export function formatScalar(v: number): string {
  if (!Number.isFinite(v)) return String(v);
  const a = Math.abs(v);
  if (a !== 0 && (a >= 1e5 || a < 1e-3)) return v.toExponential(3);
  return String(Number(v.toPrecision(4)));
}

/** One line: `stylize [#####.....] 150/300  50% 0:12 ETA 12s loss=1.234e+6 style=...`. */
export function formatProgress(e: ProgressEvent, barWidth = 20): string {
  const frac = e.total > 0 ? Math.min(1, Math.max(0, e.current / e.total)) : 0;
  const filled = Math.round(frac * barWidth);
  const bar = '#'.repeat(filled) + '.'.repeat(barWidth - filled);
  const pct = `${Math.floor(frac * 100)}%`.padStart(4);
  const eta = etaSeconds(e);
  const parts = [`${e.label} [${bar}] ${e.current}/${e.total} ${pct}`, `elapsed ${formatDuration(e.elapsedMs / 1000)}`];
  if (eta !== undefined && e.current < e.total) parts.push(`ETA ${formatDuration(eta)}`);
  for (const [k, v] of Object.entries(e.fields ?? {})) parts.push(`${k}=${formatScalar(v)}`);
  return parts.join(' ');
}

export interface ProgressSink {
  write(s: string): unknown;
  readonly isTTY?: boolean;
}

/**
 * Renders progress events to a stream: on a terminal, one line redrawn in place;
 * elsewhere (logs, pipes), a line each time another `logEvery` fraction is done, and at the end.
 */
export class ProgressBar {
  private lastLogged = -1;
  private drawn = false;

  constructor(
    private readonly sink: ProgressSink,
    private readonly logEvery = 0.1,
  ) {}

  update(e: ProgressEvent): void {
    const line = formatProgress(e);
    if (this.sink.isTTY) {
      this.sink.write(`\r${line}\x1b[K`);
      this.drawn = true;
      return;
    }
    const bucket = e.total > 0 ? Math.floor(e.current / e.total / this.logEvery) : e.current;
    if (bucket === this.lastLogged && e.current !== e.total) return;
    this.lastLogged = bucket;
    this.sink.write(`${line}\n`);
  }

  /** End the in-place line (terminal), so later output starts on a fresh line. */
  done(): void {
    if (this.drawn) this.sink.write('\n');
    this.drawn = false;
  }
}
