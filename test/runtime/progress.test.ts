import { describe, expect, it } from 'vitest';
import { etaSeconds, formatDuration, formatProgress, formatScalar, ProgressBar, type ProgressEvent } from '../../src/runtime/progress.ts';

const ev = (current: number, fields?: Record<string, number>): ProgressEvent => ({ label: 'stylize', current, total: 300, elapsedMs: current * 100, fields });

describe('progress', () => {
  it('extrapolates the ETA linearly', () => {
    expect(etaSeconds(ev(0))).toBeUndefined();
    expect(etaSeconds(ev(100))).toBeCloseTo(20, 10); // 0.1 s per unit, 200 left
    expect(etaSeconds(ev(300))).toBe(0);
  });

  it('formats durations and scalars', () => {
    expect(formatDuration(9.4)).toBe('9s');
    expect(formatDuration(75)).toBe('1m15s');
    expect(formatDuration(3725)).toBe('1h02m');
    expect(formatScalar(1234567)).toBe('1.235e+6');
    expect(formatScalar(12.3456)).toBe('12.35');
    expect(formatScalar(0)).toBe('0');
    expect(formatScalar(Number.NaN)).toBe('NaN');
  });

  it('draws the bar, counts, ETA and named fields in order', () => {
    const line = formatProgress(ev(150, { loss: 2.5e6, style: 1e6, content: 42 }), 10);
    expect(line).toBe('stylize [#####.....] 150/300  50% elapsed 15s ETA 15s loss=2.500e+6 style=1.000e+6 content=42');
  });

  it('redraws in place on a terminal, logs every 10% elsewhere', () => {
    const tty: string[] = [];
    const bar = new ProgressBar({ write: (s: string) => tty.push(s), isTTY: true });
    bar.update(ev(1));
    bar.update(ev(2));
    bar.done();
    expect(tty).toHaveLength(3);
    expect(tty[0]!.startsWith('\r')).toBe(true);
    expect(tty[2]).toBe('\n');

    const log: string[] = [];
    const plain = new ProgressBar({ write: (s: string) => log.push(s) });
    for (let i = 1; i <= 300; i++) plain.update(ev(i));
    // Buckets 0..9 (one line each, at the first unit of each) plus the final line at 300/300.
    expect(log).toHaveLength(11);
    expect(log.at(-1)).toContain('300/300 100%');
  });
});
