/** float16 bit conversion against IEEE 754 binary16's known patterns, and a round trip over every pattern. */
import { describe, expect, it } from 'vitest';
import { FLOAT16_MAX, float16Bits, float16Value, fromFloat16, toFloat16 } from '../../src/util/float16.ts';

describe('float16Bits', () => {
  it('gives the IEEE binary16 patterns of exact values', () => {
    expect(float16Bits(1)).toBe(0x3c00);
    expect(float16Bits(-2)).toBe(0xc000);
    expect(float16Bits(0.5)).toBe(0x3800);
    expect(float16Bits(FLOAT16_MAX)).toBe(0x7bff);
    expect(float16Bits(2 ** -14)).toBe(0x0400); // smallest normal
    expect(float16Bits(2 ** -24)).toBe(0x0001); // smallest subnormal
    expect(float16Bits(-0)).toBe(0x8000);
    expect(float16Bits(Infinity)).toBe(0x7c00);
    expect(float16Bits(NaN) & 0x7c00).toBe(0x7c00);
    expect(float16Bits(NaN) & 0x3ff).not.toBe(0);
  });

  it('rounds to nearest, ties to even, overflowing to infinity past 65504 + half a step', () => {
    expect(float16Bits(0.1)).toBe(0x2e66); // 0.0999755859375
    expect(float16Bits(1 + 2 ** -11)).toBe(0x3c00); // tie, even below
    expect(float16Bits(1 + 3 * 2 ** -11)).toBe(0x3c02); // tie, even above
    expect(float16Bits(1 + 2 ** -11 + 2 ** -20)).toBe(0x3c01); // just above the tie
    expect(float16Bits(65519)).toBe(0x7bff);
    expect(float16Bits(65520)).toBe(0x7c00); // the tie between 65504 and 2^16 goes to the even one, infinity
    expect(float16Bits(2 ** -25)).toBe(0); // tie between 0 and the smallest subnormal
    expect(float16Bits(1.5 * 2 ** -25)).toBe(1);
    expect(float16Bits(3 * 2 ** -25)).toBe(2); // tie between subnormals 1 and 2: even
    expect(float16Bits(2 ** -14 - 2 ** -26)).toBe(0x0400); // rounds up out of the subnormals into the smallest normal
  });

  it('round-trips every finite pattern through float16Value', () => {
    const wrong: number[] = [];
    for (let h = 0; h < 0x10000; h++) {
      if ((h & 0x7c00) === 0x7c00 && (h & 0x3ff) !== 0) continue; // NaNs
      if (float16Bits(float16Value(h)) !== h) wrong.push(h);
    }
    expect(wrong).toEqual([]);
  });

  it('converts arrays both ways', () => {
    const x = Float32Array.of(3.140625, -1e-3, 7e4);
    expect([...fromFloat16(toFloat16(x))]).toEqual([3.140625, float16Value(float16Bits(-1e-3)), Infinity]);
  });
});
