/**
 * Documented tolerances per comparison pair, as bounds on
 * relErr = max|a − b| / max|b| (compare.ts).
 *
 * - Two float64 computations (stc's reference interpreter vs PyTorch in float64, both
 *   rounded to float32 at the end): they differ by summation order (~1e-15) plus the
 *   final float32 rounding (half an ulp: 2^-24 ≈ 6e-8 of the largest value). 1e-6.
 * - A float32 backend vs a float64 one: float32 rounding accumulates through the network.
 *   PyTorch's own float32 run lies 2e-7..4e-6 relative from float64 on the golden
 *   networks (torch_f32_max_abs_err / max_abs in the goldens: fast-style wave 2.1e-6,
 *   Johnson-IN 3.5e-6, SqueezeNet logits 8.5e-7, VGG-19 relu3_1 3.0e-7); ONNX Runtime and
 *   tfjs (wasm) measure the same order (Johnson-IN 37x53: 1.9e-6 and 5.8e-6).
 *   1e-4 leaves 15-50x headroom for other summation orders (Winograd, im2col, threads)
 *   while a planted bug moves outputs by far more (test/verify/mutation.test.ts:
 *   a padding mode, a norm epsilon, a stride or a tanh scale all give > 1e-3).
 * - Two float32 backends: each within 1e-4 of the truth, so within 2e-4 of each other.
 */
import type { Side, Tolerance } from './types.ts';

export type PairKey = `${Side}:${Side}`;

const F32_VS_F64: Tolerance = { relErr: 1e-4, why: 'float32 vs float64: 15-50x the float32 error PyTorch and ORT show on the golden networks' };
const F32_VS_F32: Tolerance = { relErr: 2e-4, why: 'two float32 backends, each within 1e-4 of float64' };
const F64_VS_F64: Tolerance = { relErr: 1e-6, why: 'two float64 computations, outputs rounded to float32 (2^-24 relative)' };

export const DEFAULT_TOLERANCES: Readonly<Record<PairKey, Tolerance>> = Object.fromEntries(
  (['onnx', 'tfjs', 'reference', 'golden'] as const).flatMap((a) =>
    (['onnx', 'tfjs', 'reference', 'golden'] as const).map((b) => {
      const f64 = (s: Side) => s === 'reference' || s === 'golden';
      const t = f64(a) && f64(b) ? F64_VS_F64 : f64(a) || f64(b) ? F32_VS_F64 : F32_VS_F32;
      return [`${a}:${b}`, t] as const;
    }),
  ),
) as Record<PairKey, Tolerance>;

export function toleranceFor(a: Side, b: Side, overrides?: Partial<Record<PairKey, Tolerance>>): Tolerance {
  return overrides?.[`${a}:${b}`] ?? DEFAULT_TOLERANCES[`${a}:${b}`];
}
