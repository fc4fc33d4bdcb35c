import { describe, expect, it } from 'vitest';
import { UserError } from '../../src/util/errors.ts';
import { transferSchedule, transferTexture, type QuiltProgress } from '../../src/quilt/index.ts';
import { luminance } from '../../src/quilt/maps.ts';
import { createImage, type RgbImage } from '../../src/runtime/image-types.ts';
import { correlation, noiseImage } from './helpers.ts';

/** A target with a dark left half, a bright disc and a mid-grey background. */
function target(width: number, height: number): RgbImage {
  const img = createImage(width, height);
  const n = width * height;
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      const disc = (x - 0.7 * width) ** 2 + (y - height / 2) ** 2 < (height / 3) ** 2;
      const v = disc ? 235 : x < width / 3 ? 20 : 128;
      for (let c = 0; c < 3; c++) img.data[c * n + y * width + x] = v;
    }
  }
  return img;
}

describe('texture transfer', () => {
  it('schedules blocks a third smaller each pass and α from 0.1 to 0.9 (the paper)', () => {
    const s = transferSchedule(27, 5, 3, 0.1);
    expect(s.map((p) => p.block)).toEqual([27, 18, 12]);
    expect(s.map((p) => p.alpha)).toEqual([0.1, 0.5, 0.9].map((a) => expect.closeTo(a, 12)));
    expect(s.map((p) => p.overlap)).toEqual([5, 3, 2]);
    expect(transferSchedule(30, 5, 5, 0.1).map((p) => p.alpha)).toEqual(
      [0.1, 0.3, 0.5, 0.7, 0.9].map((a) => expect.closeTo(a, 12)),
    );
  });

  it('renders the target from texture blocks: output luminance follows the target', () => {
    const t = target(48, 36);
    // A texture with the full luminance range: noise whose brightness ramps left to right.
    const tex = noiseImage(60, 40, 2);
    const n = 60 * 40;
    for (let i = 0; i < 3 * n; i++) tex.data[i] = (tex.data[i] * 0.3 + ((i % n) % 60) * (255 / 60) * 0.7);
    const events: QuiltProgress[] = [];
    const out = transferTexture(tex, t, { block: 9, iterations: 2, seed: 3, onProgress: (p) => events.push(p) });
    expect([out.width, out.height]).toEqual([48, 36]);
    expect(correlation(luminance(out), luminance(t))).toBeGreaterThan(0.8);
    const finals = events.filter((e) => e.done === e.total);
    expect(finals.map((e) => [e.pass, e.passes, e.blockSize])).toEqual([
      [1, 2, 9],
      [2, 2, 6],
    ]);
  });

  it('is deterministic for a seed, with plain and blurred correspondence', () => {
    const t = target(30, 24);
    const tex = noiseImage(32, 32, 5);
    for (const correspondence of ['luminance', 'blurred-luminance'] as const) {
      const opts = { block: 8, iterations: 2, seed: 11, correspondence };
      const a = transferTexture(tex, t, opts);
      const b = transferTexture(tex, t, opts);
      expect(Buffer.from(a.data.buffer).equals(Buffer.from(b.data.buffer))).toBe(true);
    }
  });

  it('rejects a block larger than the target or the texture, and bad α / iterations', () => {
    const tex = noiseImage(32, 32, 5);
    expect(() => transferTexture(tex, target(20, 12), { block: 16 })).toThrow(/larger than the target \(20x12 px\)/);
    expect(() => transferTexture(noiseImage(10, 40, 1), target(40, 40), { block: 16 })).toThrow(UserError);
    expect(() => transferTexture(tex, target(30, 30), { block: 8, alpha: 1.5 })).toThrow(UserError);
    expect(() => transferTexture(tex, target(30, 30), { block: 8, iterations: 0 })).toThrow(UserError);
  });
});
