/**
 * IEEE 754 binary16 ("half", ONNX FLOAT16) bit patterns from and to float32, for Node 20, which has no
 * Float16Array. Conversion rounds to nearest, ties to even (IEEE 754-2008 §4.3.1), as a hardware
 * float32→float16 conversion does; values beyond the largest half (65504) round to ±Infinity, and
 * magnitudes below 2⁻¹⁴ become subnormals (spacing 2⁻²⁴) or zero.
 */

/** Largest finite float16 value. */
export const FLOAT16_MAX = 65504;

const f32 = new Float32Array(1);
const u32 = new Uint32Array(f32.buffer);

/** The float16 bit pattern nearest `x` (ties to even). */
export function float16Bits(x: number): number {
  f32[0] = x;
  const b = u32[0]!;
  const sign = (b >>> 16) & 0x8000;
  const exp = (b >>> 23) & 0xff;
  const man = b & 0x7fffff;
  if (exp === 0xff) return sign | 0x7c00 | (man !== 0 ? 0x200 : 0); // Inf, or a quiet NaN
  const e = exp - 127 + 15; // rebiased exponent
  if (e >= 0x1f) return sign | 0x7c00; // overflow
  if (e <= 0) {
    // Subnormal half (or zero): the 24-bit significand with its hidden bit, shifted right by 14 − e.
    if (e < -10) return sign;
    const m = man | 0x800000;
    const shift = 14 - e;
    const half = m >>> shift;
    const rest = m & ((1 << shift) - 1);
    const mid = 1 << (shift - 1);
    return sign | (rest > mid || (rest === mid && (half & 1) === 1) ? half + 1 : half);
  }
  const half = (e << 10) | (man >>> 13);
  const rest = man & 0x1fff;
  // A carry out of the significand correctly bumps the exponent (and to Infinity past 65504).
  return sign | (rest > 0x1000 || (rest === 0x1000 && (half & 1) === 1) ? half + 1 : half);
}

/** The float32 value of a float16 bit pattern (exact: every half is a float32). */
export function float16Value(h: number): number {
  const sign = h & 0x8000 ? -1 : 1;
  const exp = (h >>> 10) & 0x1f;
  const man = h & 0x3ff;
  if (exp === 0) return sign * man * 2 ** -24;
  if (exp === 0x1f) return man === 0 ? sign * Infinity : NaN;
  return sign * (1 + man / 1024) * 2 ** (exp - 15);
}

/** Every element of `data` as float16 bits. */
export function toFloat16(data: ArrayLike<number>): Uint16Array {
  const out = new Uint16Array(data.length);
  for (let i = 0; i < data.length; i++) out[i] = float16Bits(data[i]!);
  return out;
}

/** float16 bits back to float32 values. */
export function fromFloat16(bits: ArrayLike<number>): Float32Array {
  const out = new Float32Array(bits.length);
  for (let i = 0; i < bits.length; i++) out[i] = float16Value(bits[i]!);
  return out;
}
