/**
 * Issue 21: quilting's time is bounded before any work (src/quilt/work.ts), and a texture scaled like an
 * enlarged target stops at twice the target's long side (`stc quilt`): a 1×1 target with `--size 32` scaled
 * a 24×20 texture 32× and quilted for 17.6 s.
 */
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { main } from '../../src/cli/main.ts';
import { blocksPerPass, checkQuiltWork, estimateQuiltWork, QUILT_MAX_WORK } from '../../src/quilt/work.ts';
import { synthesizeTexture } from '../../src/quilt/index.ts';
import { readImage, writeImage } from '../../src/runtime/image.ts';
import { UserError } from '../../src/util/errors.ts';
import { noiseImage } from './helpers.ts';

let dir: string;

async function quilt(...args: string[]): Promise<{ code: number; stderr: string }> {
  let stderr = '';
  const spy = vi.spyOn(process.stderr, 'write').mockImplementation((chunk: string | Uint8Array) => {
    stderr += String(chunk);
    return true;
  });
  try {
    return { code: await main(['node', 'stc', 'quilt', ...args]), stderr };
  } finally {
    spy.mockRestore();
  }
}

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'stc-quilt-work-'));
  await writeImage(join(dir, 'tex.png'), noiseImage(24, 20, 5));
  await writeImage(join(dir, 'one.png'), noiseImage(1, 1, 6));
  await writeImage(join(dir, 'big.png'), noiseImage(1000, 1000, 7));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('estimateQuiltWork', () => {
  it('counts blocks per pass like the raster layout and charges N log2 N of the texture FFT grid per block', () => {
    // 32 px, block 8, overlap 1: origins 0, 7, 14, 21, 28 in each direction
    expect(blocksPerPass({ width: 32, height: 32 }, { block: 8, overlap: 1 })).toBe(25);
    // 40 px, block 8, overlap 2: 0, 6, …, 30, then 36 reaches the edge; 8 px high: one row
    expect(blocksPerPass({ width: 40, height: 8 }, { block: 8, overlap: 2 })).toBe(7);
    // a 768x640 texture is searched on a 1024x1024 grid: 2^20 points, log2 = 20
    expect(estimateQuiltWork({ width: 768, height: 640 }, { width: 32, height: 32 }, [{ block: 8, overlap: 1 }])).toBe(25 * 2 ** 20 * 20);
    // passes add up
    const p = [{ block: 8, overlap: 1 }, { block: 5, overlap: 1 }];
    const one = (q: (typeof p)[number]) => estimateQuiltWork({ width: 24, height: 20 }, { width: 32, height: 32 }, [q]);
    expect(estimateQuiltWork({ width: 24, height: 20 }, { width: 32, height: 32 }, p)).toBe(one(p[0]!) + one(p[1]!));
  });

  it('refuses work over the limit with one message naming the flags and the limit, and accepts work under it', () => {
    const huge = () => checkQuiltWork({ width: 4000, height: 4000 }, { width: 4000, height: 4000 }, [{ block: 32, overlap: 5 }]);
    expect(huge).toThrow(UserError);
    expect(huge).toThrow(/over the limit of 2\.00e\+10 .*--size or --texture-size, or a larger --block/);
    expect(() => checkQuiltWork({ width: 256, height: 256 }, { width: 256, height: 256 }, [{ block: 26, overlap: 4 }])).not.toThrow();
    expect(() => checkQuiltWork({ width: 64, height: 64 }, { width: 64, height: 64 }, [{ block: 8, overlap: 1 }], 1)).toThrow(/over the limit of 1\.00e\+0:/);
    expect(QUILT_MAX_WORK).toBe(2e10);
  });

  it('synthesizeTexture refuses before allocating anything for the job', () => {
    const t0 = performance.now();
    expect(() => synthesizeTexture(noiseImage(1000, 1000, 1), { width: 4000, height: 4000, block: 16 })).toThrow(/units of work, over the limit/);
    // refused up front: the first block of this job alone is a 1024² FFT search
    expect(performance.now() - t0).toBeLessThan(2000);
  });
});

describe('stc quilt bounds its work', () => {
  it('a 1x1 target with --size 32 no longer scales the texture 32x: it stops at twice the target and says so', async () => {
    const out = join(dir, 'one-out.png');
    const r = await quilt('--texture', join(dir, 'tex.png'), '--target', join(dir, 'one.png'), '--size', '32', '--block', '8', '-o', out);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).toMatch(/note: the texture is enlarged to 64 px on its long side \(twice the target's\), not 768 px/);
    const img = await readImage(out);
    expect([img.width, img.height]).toEqual([32, 32]);
  });

  it('a synthesis job over the bound is one error line and exit 1, naming the flags and the limit, with no output', async () => {
    const out = join(dir, 'huge.png');
    const r = await quilt('--texture', join(dir, 'big.png'), '--size', '3000x3000', '--block', '16', '-o', out);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/^stc: error: quilting 3000x3000 px in \d+ blocks, each searching a 1000x1000 texture, is an estimated 1\.12e\+12 units of work, over the limit of 2\.00e\+10/);
    expect(r.stderr.trim().split('\n')).toHaveLength(1);
    expect(existsSync(out)).toBe(false);
  });
});
