import { describe, expect, it } from 'vitest';
import type { Outcome } from '../../bench/report.ts';
import { combineRounds, pairedRatio, roundTimes } from '../../bench/rounds.ts';

const ok = (median_ms: number, min_ms: number, rss: number, gflop = 10): Outcome => ({ status: 'ok', m: { median_ms, min_ms, gflop, gflops: (gflop * 1000) / median_ms, peak_rss_mb: rss } });

describe('bench rounds', () => {
  it("combines a backend's rounds: the median of their medians, the best run of any, the highest peak RSS", () => {
    const c = combineRounds([ok(300, 290, 450), ok(240, 230, 470), ok(250, 245, 440)]);
    expect(c.status).toBe('ok');
    if (c.status !== 'ok') return;
    expect(c.m.median_ms).toBe(250);
    expect(c.m.min_ms).toBe(230);
    expect(c.m.peak_rss_mb).toBe(470);
    // GFLOP/s follows the combined time: 10 GFLOP in 250 ms.
    expect(c.m.gflops).toBeCloseTo(40, 10);
  });

  it("keeps every round's runs, in order", () => {
    const runs = (o: Outcome, times_ms: number[]): Outcome => (o.status === 'ok' ? { status: 'ok', m: { ...o.m, times_ms } } : o);
    const c = combineRounds([runs(ok(300, 290, 1), [290, 300, 310]), { status: 'failed', reason: 'x' }, runs(ok(240, 230, 1), [230, 240])]);
    expect(c.status === 'ok' && c.m.times_ms).toEqual([290, 300, 310, 230, 240]);
  });

  it('leaves failed rounds out, and keeps the first outcome when no round measured', () => {
    const failed: Outcome = { status: 'failed', reason: 'boom' };
    const c = combineRounds([failed, ok(100, 90, 1), ok(120, 95, 2)]);
    expect(c.status === 'ok' && c.m.median_ms).toBe(110);
    expect(combineRounds([failed, { status: 'skipped', reason: 'x' }])).toEqual(failed);
    expect(combineRounds([]).status).toBe('skipped');
  });

  it("takes each round's ratio against that round's fastest peer, then the median over rounds", () => {
    const rounds = [
      roundTimes({ 'stc-onnx': ok(240, 1, 1), pytorch: ok(500, 1, 1), 'torch-onnx-ort': ok(380, 1, 1) }),
      // A slow stc process: 300 / 370.
      roundTimes({ 'stc-onnx': ok(300, 1, 1), pytorch: ok(450, 1, 1), 'torch-onnx-ort': ok(370, 1, 1) }),
      // A failed peer is no reference in its round: 250 / 400 (eager).
      roundTimes({ 'stc-onnx': ok(250, 1, 1), pytorch: ok(400, 1, 1), 'torch-onnx-ort': { status: 'failed', reason: 'x' } }),
    ];
    const r = pairedRatio(rounds, 'stc-onnx', ['pytorch', 'pytorch-compile', 'torch-onnx-ort'])!;
    expect(r.rounds).toBe(3);
    // 240 / 380 = 0.632, 300 / 370 = 0.811, 250 / 400 = 0.625.
    expect(r.median).toBeCloseTo(240 / 380, 12);
    expect(r.min).toBeCloseTo(250 / 400, 12);
    expect(r.max).toBeCloseTo(300 / 370, 12);
    // Not the ratio of the combined medians (250 / 380): the pairing is per round.
    expect(r.median).not.toBeCloseTo(250 / 380, 3);
    expect(pairedRatio(rounds, 'stc-onnx-int8', ['pytorch'])).toBeUndefined();
    expect(pairedRatio([roundTimes({ 'stc-onnx': ok(1, 1, 1) })], 'stc-onnx', ['pytorch'])).toBeUndefined();
  });
});
