import { describe, expect, it } from 'vitest';
import { drawCrop, planResizeCrop } from '../../../src/runtime/data/augment.ts';
import { Rng } from '../../../src/runtime/data/rng.ts';

describe('planResizeCrop', () => {
  it('scales the short side into [size, 1.15 size] and keeps the crop inside', () => {
    const rng = Rng.fromSeed(5);
    for (let i = 0; i < 200; i++) {
      const w = 40 + rng.int(300);
      const h = 40 + rng.int(300);
      const p = planResizeCrop(w, h, 32, drawCrop(rng));
      const short = Math.min(p.width, p.height);
      expect(short).toBeGreaterThanOrEqual(32);
      expect(short).toBeLessThanOrEqual(Math.round(32 * 1.15));
      // aspect ratio kept to rounding
      expect(Math.abs(p.width / p.height - w / h)).toBeLessThan(0.1 * Math.max(w / h, 1));
      expect(p.left).toBeGreaterThanOrEqual(0);
      expect(p.top).toBeGreaterThanOrEqual(0);
      expect(p.left + 32).toBeLessThanOrEqual(p.width);
      expect(p.top + 32).toBeLessThanOrEqual(p.height);
    }
  });

  it('maps the position fractions to the ends of the free range', () => {
    expect(planResizeCrop(100, 50, 50, { scale: 1, fy: 0, fx: 0 })).toMatchObject({ width: 100, height: 50, left: 0, top: 0 });
    expect(planResizeCrop(100, 50, 50, { scale: 1, fy: 0.9999, fx: 0.9999 })).toMatchObject({ left: 50, top: 0 });
  });
});
