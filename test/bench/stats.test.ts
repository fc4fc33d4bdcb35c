import { describe, expect, it } from 'vitest';
import { convFlops, gflops, median, percentOfPeak, ratio } from '../../bench/stats.ts';
import { JOBS, tfjsRuns } from '../../bench/jobs.ts';

describe('bench arithmetic', () => {
  it('median of odd and even samples', () => {
    expect(median([5, 1, 3])).toBe(3);
    expect(median([4, 1, 3, 2])).toBe(2.5);
    expect(() => median([])).toThrow();
  });

  it('GFLOP/s, ratio and percent of peak', () => {
    expect(gflops(4e9, 500)).toBe(8); // 4 GFLOP in 0.5 s
    expect(ratio(70, 100)).toBeCloseTo(0.7);
    expect(ratio(70, undefined)).toBeUndefined();
    expect(percentOfPeak(15, 60)).toBe(25);
  });

  it('conv FLOPs: 2 per multiply-add', () => {
    // 3x3 256->256 at 64x64: 2 * 256 * 64 * 64 * 256 * 9 multiply-adds.
    expect(convFlops(1, 256, 256, 64, 64, 3, 3)).toBe(2 * 256 * 64 * 64 * 256 * 9);
    // Grouped: each output sees C/g inputs.
    expect(convFlops(1, 8, 8, 1, 1, 1, 1, 4)).toBe(2 * 8 * 2);
  });
});

describe('bench job table', () => {
  it('has the issue jobs with torch_bench.py ids', () => {
    expect(JOBS.map((j) => j.id)).toEqual([
      'inference-johnson_in-256',
      'inference-johnson_in-512',
      'inference-johnson_in-1024',
      'gatys-squeezenet-256',
      'gatys-squeezenet-512',
      'gatys-vgg19-256',
      'gatys-vgg19-512',
      'train-johnson_in-b4-256',
      'train-johnson_in-b2-128',
    ]);
  });

  it('quick mode runs tfjs only on the smallest size of each job', () => {
    const ran = JOBS.filter((j) => tfjsRuns(j, true)).map((j) => j.id);
    expect(ran).toEqual(['inference-johnson_in-256', 'gatys-squeezenet-256', 'gatys-vgg19-256', 'train-johnson_in-b2-128']);
    expect(JOBS.every((j) => tfjsRuns(j, false))).toBe(true);
  });
});
