/** Issue 21, defect 2: the finiteness check and the loss-spike rule (src/runtime/train/health.ts). */
import { describe, expect, it } from 'vitest';
import { LossSpikeDetector, firstNonFinite } from '../../../src/runtime/train/health.ts';

// Losses measured with train() on a tiny instance-norm network with a 150·tanh + 127.5 output
// (test/runtime/train/divergence.test.ts's network), steps 1..30.
const HEALTHY = [2.39, 2.47, 3.11, 1.99, 0.813, 0.717, 1.7, 1.61, 0.803, 0.502, 0.679, 1.02, 1.11, 0.969, 0.541, 0.332, 0.384, 0.551, 0.516, 0.461];
const OVERSHOOT = [2.39, 13.7, 13.6, 11.3, 9.48, 8.23, 6.97, 5.65, 4.21, 2.54, 1.32, 0.707, 0.663, 1.01, 1.42, 1.35, 1.04, 0.692, 0.533, 0.628];
const SATURATED = [2.39, ...new Array<number>(19).fill(13.8)];

const run = (losses: readonly number[]) => {
  const d = new LossSpikeDetector();
  for (let i = 0; i < losses.length; i++) {
    const hit = d.observe(i + 1, losses[i]!);
    if (hit) return hit;
  }
  return undefined;
};

describe('LossSpikeDetector', () => {
  it('fires on a saturated run (lr 1e6) once a window of 8 steps sits at 5.8× the first loss, naming where it left', () => {
    const hit = run(SATURATED);
    expect(hit).toMatchObject({ step: 8, since: 2, reference: 2.39 });
    expect(hit!.median).toBeCloseTo(13.8);
  });

  it('stays quiet on a healthy run and on one that overshoots to 5.7× and recovers (lr 0.1)', () => {
    expect(run(HEALTHY)).toBeUndefined();
    expect(run(OVERSHOOT)).toBeUndefined();
  });

  it('ignores a single outlier batch, but not a run that climbs back up after training well', () => {
    expect(run([...HEALTHY.slice(0, 12), 40, ...HEALTHY.slice(12)])).toBeUndefined();
    const climbed = run([...HEALTHY, ...new Array<number>(12).fill(6)]);
    expect(climbed?.since).toBe(HEALTHY.length + 1);
  });

  it('a resumed run keeps its reference from the log', () => {
    const d = new LossSpikeDetector();
    d.seed(HEALTHY);
    let hit;
    for (let s = 21; s <= 28 && !hit; s++) hit = d.observe(s, 13.8);
    expect(hit?.step).toBe(28);
    expect(hit!.reference).toBeLessThan(1);
  });
});

describe('firstNonFinite', () => {
  const t = (...v: number[]) => ({ shape: [v.length], data: Float32Array.from(v) });
  it('names the group and tensor of the first NaN or infinity', () => {
    expect(firstNonFinite({ parameter: new Map([['a', t(1, 2)]]), 'Adam moment v of': new Map([['b', t(0, Infinity)]]) })).toBe('Adam moment v of b');
    expect(firstNonFinite({ parameter: new Map([['a', t(1, NaN)]]) })).toBe('parameter a');
    expect(firstNonFinite({ parameter: new Map([['a', t(1, -3e38)]]) })).toBeUndefined();
  });
});
