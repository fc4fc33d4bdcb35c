import { describe, expect, it } from 'vitest';
import { noiseImage } from '../../../src/runtime/gatys/init.ts';
import { runGatys } from '../../../src/runtime/gatys/run.ts';
import type { StepFn } from '../../../src/runtime/gatys/types.ts';
import type { RgbImage } from '../../../src/runtime/image-types.ts';
import type { ProgressEvent } from '../../../src/runtime/progress.ts';

const W = 9;
const H = 7;
const N = 3 * W * H;

/**
 * A hand-written differentiable objective with two terms:
 *   content = Σ (x − t)², with a target t that leaves [0, 255] at some pixels (−40 and 300);
 *   smooth  = 0.1 Σ (x_{i+1} − x_i)² over the flat vector.
 * Its box-constrained minimiser, for the content term alone, is clamp(t, 0, 255).
 */
const target = Float32Array.from({ length: N }, (_, i) => (i % 11 === 0 ? 300 : i % 13 === 0 ? -40 : (i * 37) % 256));
function step(opts: { smooth?: number; nanAt?: number } = {}): StepFn & { calls: number } {
  const k = opts.smooth ?? 0;
  const fn = async (x: Float32Array) => {
    fn.calls++;
    let c = 0;
    let s = 0;
    const grad = new Float32Array(x.length);
    for (let i = 0; i < x.length; i++) {
      const d = x[i]! - target[i]!;
      c += d * d;
      grad[i]! += 2 * d;
      if (i + 1 < x.length) {
        const e = x[i + 1]! - x[i]!;
        s += k * e * e;
        grad[i + 1]! += 2 * k * e;
        grad[i]! -= 2 * k * e;
      }
    }
    const loss = fn.calls === opts.nanAt ? Number.NaN : c + s;
    return { loss, terms: { content: c, smooth: s }, grad };
  };
  fn.calls = 0;
  return fn;
}

const init: RgbImage = noiseImage(W, H, 7);

describe('runGatys', () => {
  for (const optimizer of ['lbfgs', 'adam'] as const)
    it(`${optimizer}: converges to the box-constrained minimiser (pixel range policy)`, async () => {
      const r = await runGatys({ init, step: step(), iterations: optimizer === 'lbfgs' ? 50 : 400, optimizer, lr: 5 });
      for (let i = 0; i < N; i++) expect(r.image.data[i]).toBeCloseTo(Math.min(255, Math.max(0, target[i]!)), 0);
      expect(Math.min(...r.image.data)).toBeGreaterThanOrEqual(0);
      expect(Math.max(...r.image.data)).toBeLessThanOrEqual(255);
    });

  it('reports every iteration with each term, and snapshots every N iterations', async () => {
    const events: ProgressEvent[] = [];
    const snaps: number[] = [];
    const r = await runGatys({
      init,
      step: step({ smooth: 0.1 }),
      iterations: 12,
      optimizer: 'adam',
      lr: 3,
      snapshotEvery: 5,
      onSnapshot: async (img, it) => {
        expect(img.width).toBe(W);
        snaps.push(it);
      },
      onProgress: (e) => events.push(e),
    });
    expect(r.status).toBe('done');
    expect(snaps).toEqual([5, 10]);
    expect(events.map((e) => e.current)).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12]);
    for (const e of events) {
      expect(e.total).toBe(12);
      expect(Object.keys(e.fields!)).toEqual(['loss', 'content', 'smooth']);
      expect(e.fields!.content! + e.fields!.smooth!).toBeCloseTo(e.fields!.loss!, 0);
    }
    expect(r.history[0]!.iteration).toBe(0);
    expect(r.history.at(-1)!.loss).toBeLessThan(r.history[0]!.loss);
  });

  it('lbfgs: reported terms are those of the accepted point, not of the last line-search trial', async () => {
    const events: ProgressEvent[] = [];
    await runGatys({ init, step: step({ smooth: 0.1 }), iterations: 5, optimizer: 'lbfgs', onProgress: (e) => events.push(e) });
    for (const e of events) expect(e.fields!.content! + e.fields!.smooth!).toBeCloseTo(e.fields!.loss!, 0);
  });

  it('lbfgs: reports its last step\'s largest move, and a warm start\'s firstMove sets the first trial step', async () => {
    const first = await runGatys({ init, step: step({ smooth: 0.1 }), iterations: 4, optimizer: 'lbfgs' });
    expect(first.lastMove).toBeGreaterThan(0);
    const trials: Float32Array[] = [];
    const inner = step({ smooth: 0.1 });
    await runGatys({ init: first.image, step: (x) => (trials.push(Float32Array.from(x)), inner(x)), iterations: 1, optimizer: 'lbfgs', firstMove: first.lastMove! });
    const moved = Math.max(...trials[1]!.map((v, i) => Math.abs(v - trials[0]![i]!)));
    expect(moved).toBeCloseTo(first.lastMove!, 3);
    expect((await runGatys({ init, step: step(), iterations: 3, optimizer: 'adam' })).lastMove).toBeUndefined();
  });

  it('stops on a NaN loss with a clear message and the last good image', async () => {
    const snaps: RgbImage[] = [];
    const r = await runGatys({
      init,
      step: step({ nanAt: 8 }),
      iterations: 50,
      optimizer: 'adam',
      lr: 5,
      snapshotEvery: 2,
      onSnapshot: async (img) => {
        snaps.push(img);
      },
    });
    expect(r.status).toBe('diverged');
    expect(r.message).toMatch(/the loss became NaN at evaluation 8 \(after iteration 7\)/);
    expect(r.iterations).toBe(7);
    expect(r.image.data.every(Number.isFinite)).toBe(true);
    expect(snaps).toHaveLength(3);
  });

  it('noise init is seeded and low-amplitude around mid-grey', () => {
    const a = noiseImage(W, H, 1);
    expect(noiseImage(W, H, 1).data).toEqual(a.data);
    expect(noiseImage(W, H, 2).data).not.toEqual(a.data);
    expect(Math.min(...a.data)).toBeGreaterThanOrEqual(96);
    expect(Math.max(...a.data)).toBeLessThan(160);
  });
});

describe('runGatys with refreshed targets', () => {
  it('optimises in segments of `every` iterations, refreshing before each from the current image, numbering iterations on', async () => {
    const init = noiseImage(W, H, 1);
    const updates: { at: number; first: number }[] = [];
    let seen = 0;
    const s = step({ smooth: 0.1 });
    const r = await runGatys({
      init,
      step: async (x) => {
        seen++;
        return s(x);
      },
      iterations: 7,
      optimizer: 'adam',
      lr: 5,
      refresh: { every: 3, update: async (x) => void updates.push({ at: seen, first: x[0]! }) },
    });
    expect(r.iterations).toBe(7);
    expect(r.history.map((h) => h.iteration)).toEqual([0, 1, 2, 3, 4, 5, 6, 7]);
    // Before iterations 1, 4 and 7: the first with the (clamped) initial image, then with the image reached.
    expect(updates).toHaveLength(3);
    expect(updates[0]!.first).toBe(Math.min(255, Math.max(0, init.data[0]!)));
    expect(updates[1]!.at).toBeGreaterThan(updates[0]!.at);
    expect(updates[1]!.first).not.toBe(updates[0]!.first);
    expect(r.history.at(-1)!.loss).toBeLessThan(r.history[0]!.loss);
  });
});
