import { describe, expect, it } from 'vitest';
import { UserError } from '../../src/util/errors.ts';
import { synthesizeTexture, type QuiltProgress } from '../../src/quilt/index.ts';
import { noiseImage, periodicTexture, pixel } from './helpers.ts';

describe('texture synthesis', () => {
  it('keeps the period of a periodic checkerboard texture across block boundaries', () => {
    const period = 8;
    const texture = periodicTexture(40, 40, period);
    const out = synthesizeTexture(texture, { width: 70, height: 62, block: 16, seed: 42 });
    expect([out.width, out.height]).toEqual([70, 62]);
    // The output is larger than the texture, so it is made of many blocks; it must still be exactly periodic.
    let compared = 0;
    let broken = 0;
    for (let c = 0; c < 3; c++) {
      for (let y = 0; y < out.height; y++) {
        for (let x = 0; x < out.width; x++) {
          if (x + period < out.width) {
            compared++;
            if (pixel(out, c, y, x + period) !== pixel(out, c, y, x)) broken++;
          }
          if (y + period < out.height) {
            compared++;
            if (pixel(out, c, y + period, x) !== pixel(out, c, y, x)) broken++;
          }
        }
      }
    }
    expect(broken).toBe(0);
    expect(compared).toBeGreaterThan(10_000);
    // ...and not trivially: both checker colours appear, and half-period shifts do not match.
    let mismatches = 0;
    for (let y = 0; y < out.height; y++) for (let x = 0; x + 4 < out.width; x++) if (pixel(out, 0, y, x) !== pixel(out, 0, y, x + 4)) mismatches++;
    expect(mismatches).toBeGreaterThan(0.9 * out.height * (out.width - 4));
  });

  it('is deterministic for a seed and varies with the seed', () => {
    const texture = noiseImage(30, 26, 9);
    const a = synthesizeTexture(texture, { width: 40, height: 33, block: 10, seed: 7 });
    const b = synthesizeTexture(texture, { width: 40, height: 33, block: 10, seed: 7 });
    const c = synthesizeTexture(texture, { width: 40, height: 33, block: 10, seed: 8 });
    expect(Buffer.from(a.data.buffer).equals(Buffer.from(b.data.buffer))).toBe(true);
    expect(Buffer.from(a.data.buffer).equals(Buffer.from(c.data.buffer))).toBe(false);
  });

  it('copies every pixel from the texture', () => {
    const texture = noiseImage(24, 24, 3);
    const colours = new Set<string>();
    const n = 24 * 24;
    for (let i = 0; i < n; i++) colours.add(`${texture.data[i]},${texture.data[n + i]},${texture.data[2 * n + i]}`);
    const out = synthesizeTexture(texture, { width: 30, height: 30, block: 9, seed: 1 });
    const m = 30 * 30;
    for (let i = 0; i < m; i++) expect(colours.has(`${out.data[i]},${out.data[m + i]},${out.data[2 * m + i]}`)).toBe(true);
  });

  it('reports progress block by block', () => {
    const events: QuiltProgress[] = [];
    synthesizeTexture(noiseImage(20, 20, 1), { width: 25, height: 16, block: 8, overlap: 2, onProgress: (p) => events.push(p) });
    // Blocks step by 6: x at 0, 6, 12, 18 (4 blocks), y at 0, 6, 12 (3 rows).
    expect(events.length).toBe(12);
    expect(events.at(-1)).toEqual({ pass: 1, passes: 1, blockSize: 8, done: 12, total: 12 });
  });

  it('rejects a texture smaller than one block and bad parameters with UserErrors', () => {
    const texture = noiseImage(20, 12, 1);
    expect(() => synthesizeTexture(texture, { width: 30, height: 30, block: 16 })).toThrow(UserError);
    expect(() => synthesizeTexture(texture, { width: 30, height: 30, block: 16 })).toThrow(/smaller than one 16x16 block/);
    expect(() => synthesizeTexture(texture, { width: 30, height: 30, block: 8, overlap: 5 })).toThrow(UserError);
    expect(() => synthesizeTexture(texture, { width: 0, height: 30, block: 8 })).toThrow(UserError);
    expect(() => synthesizeTexture(texture, { width: 30, height: 30, block: 8, tolerance: -1 })).toThrow(UserError);
  });
});
