import { describe, expect, it } from 'vitest';
import { mulberry32 } from '../../src/util/prng.ts';
import { cutMask, minHorizontalPath, minLCut, minVerticalPath } from '../../src/quilt/seam.ts';

function randomSurface(seed: number, n: number): Float64Array {
  const rng = mulberry32(seed);
  return Float64Array.from({ length: n }, () => Math.floor(rng() * 100) / 7);
}

/** Every path from (startRow, startCol) to the last row, stepping at most one column per row: minimal cost. */
function bruteDown(e: Float64Array, stride: number, rows: number, cols: number, startRow: number, startCol: number): number {
  let best = Infinity;
  const walk = (i: number, j: number, acc: number): void => {
    const cost = acc + e[i * stride + j];
    if (i === rows - 1) {
      best = Math.min(best, cost);
      return;
    }
    for (const d of [-1, 0, 1]) if (j + d >= 0 && j + d < cols) walk(i + 1, j + d, cost);
  };
  walk(startRow, startCol, 0);
  return best;
}

function pathCost(e: Float64Array, width: number, path: Int32Array): number {
  let s = 0;
  path.forEach((j, i) => (s += e[i * width + j]));
  return s;
}

describe('minimum-error boundary cut', () => {
  it('vertical DP path has exactly the brute-force minimal cost, and is a valid path of that cost', () => {
    for (let trial = 0; trial < 40; trial++) {
      const h = 3 + (trial % 5);
      const w = 1 + (trial % 4);
      const e = randomSurface(100 + trial, h * w);
      let brute = Infinity;
      for (let j = 0; j < w; j++) brute = Math.min(brute, bruteDown(e, w, h, w, 0, j));
      const { path, cost } = minVerticalPath(e, h, w);
      expect(cost).toBeCloseTo(brute, 9);
      expect(pathCost(e, w, path)).toBeCloseTo(brute, 9);
      for (let i = 1; i < h; i++) expect(Math.abs(path[i] - path[i - 1])).toBeLessThanOrEqual(1);
    }
  });

  it('horizontal path is the vertical path of the transpose', () => {
    const h = 3;
    const w = 7;
    const e = randomSurface(7, h * w);
    const t = new Float64Array(h * w);
    for (let i = 0; i < h; i++) for (let j = 0; j < w; j++) t[j * h + i] = e[i * w + j];
    let brute = Infinity;
    for (let i = 0; i < h; i++) brute = Math.min(brute, bruteDown(t, h, w, h, 0, i));
    const { path, cost } = minHorizontalPath(e, h, w);
    expect(cost).toBeCloseTo(brute, 9);
    let s = 0;
    path.forEach((i, j) => (s += e[i * w + j]));
    expect(s).toBeCloseTo(brute, 9);
  });

  it('L-shaped cut has exactly the brute-force minimal cost over all meeting points and paths', () => {
    for (let trial = 0; trial < 25; trial++) {
      const h = 4 + (trial % 3);
      const w = 4 + ((trial >> 1) % 3);
      const ovL = 1 + (trial % 2);
      const ovT = 1 + ((trial >> 2) % 2);
      const e = randomSurface(500 + trial, h * w);
      const top = new Float64Array(w * ovT); // transposed top strip: column j is row j here
      for (let i = 0; i < ovT; i++) for (let j = 0; j < w; j++) top[j * ovT + i] = e[i * w + j];
      let brute = Infinity;
      for (let i = 0; i < ovT; i++) {
        for (let j = 0; j < ovL; j++) {
          const v = bruteDown(e, w, h, ovL, i, j);
          const hz = bruteDown(top, ovT, w, ovT, j, i);
          brute = Math.min(brute, v + hz - e[i * w + j]);
        }
      }
      const cut = minLCut(e, h, w, ovL, ovT);
      expect(cut.cost).toBeCloseTo(brute, 9);
      // The returned paths really have that cost and start at the meeting pixel.
      expect(cut.vertical[0]).toBe(cut.meetCol);
      expect(cut.horizontal[0]).toBe(cut.meetRow);
      let s = -e[cut.meetRow * w + cut.meetCol];
      cut.vertical.forEach((j, k) => (s += e[(cut.meetRow + k) * w + j]));
      cut.horizontal.forEach((i, k) => (s += e[i * w + cut.meetCol + k]));
      expect(s).toBeCloseTo(brute, 9);
    }
  });

  it('cut mask keeps old pixels left of a vertical seam and takes the new patch elsewhere', () => {
    const h = 6;
    const w = 8;
    const ov = 3;
    const e = new Float64Array(h * w).fill(10);
    for (let i = 0; i < h; i++) e[i * w + 1] = 0; // a free seam down column 1
    const mask = cutMask(e, h, w, ov, 0);
    for (let i = 0; i < h; i++) {
      for (let j = 0; j < w; j++) expect(mask[i * w + j]).toBe(j >= 1 ? 1 : 0);
    }
  });

  it('L-shaped mask: the corner above-left of the meeting point and the far side of both seams stay old', () => {
    const h = 7;
    const w = 7;
    const ov = 3;
    const e = new Float64Array(h * w).fill(10);
    for (let i = 2; i < h; i++) e[i * w + 2] = 0; // vertical seam at column 2 from row 2 down
    for (let j = 2; j < w; j++) e[2 * w + j] = 0; // horizontal seam at row 2 from column 2 right
    const mask = cutMask(e, h, w, ov, ov);
    for (let i = 0; i < h; i++) {
      for (let j = 0; j < w; j++) expect(mask[i * w + j]).toBe(i >= 2 && j >= 2 ? 1 : 0);
    }
  });
});
