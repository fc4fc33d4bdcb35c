/**
 * Spatial padding (axes 2 and 3 of NCHW) with ONNX Pad semantics, and its adjoint.
 * reflect mirrors without repeating the edge (numpy 'reflect'); edge repeats the border.
 */
import type { PadAttrs } from '../../../compiler/ir/types.ts';
import { type Float64Tensor, zeros } from '../tensor.ts';

/** Source index of padded position i in an axis of length n, or -1 for a constant-filled position. */
export function padSource(i: number, n: number, mode: PadAttrs['mode']): number {
  if (i >= 0 && i < n) return i;
  if (mode === 'constant') return -1;
  if (mode === 'edge') return i < 0 ? 0 : n - 1;
  // reflect: valid for pads < n (checked by the shape function)
  return i < 0 ? -i : 2 * (n - 1) - i;
}

export function pad(x: Float64Tensor, a: PadAttrs): Float64Tensor {
  const [N, C, H, W] = x.shape as [number, number, number, number];
  const [t, l, b, r] = a.pads;
  const HO = H + t + b;
  const WO = W + l + r;
  const y = zeros([N, C, HO, WO]);
  for (let p = 0; p < N * C; p++)
    for (let i = 0; i < HO; i++) {
      const si = padSource(i - t, H, a.mode);
      for (let j = 0; j < WO; j++) {
        const sj = padSource(j - l, W, a.mode);
        y.data[(p * HO + i) * WO + j] = si < 0 || sj < 0 ? a.value : x.data[(p * H + si) * W + sj]!;
      }
    }
  return y;
}

/** Adjoint of pad: every padded position's gradient is added to the input element it was copied from. */
export function padGrad(dy: Float64Tensor, a: PadAttrs): Float64Tensor {
  const [N, C, HO, WO] = dy.shape as [number, number, number, number];
  const [t, l, b, r] = a.pads;
  const H = HO - t - b;
  const W = WO - l - r;
  const dx = zeros([N, C, H, W]);
  for (let p = 0; p < N * C; p++)
    for (let i = 0; i < HO; i++) {
      const si = padSource(i - t, H, a.mode);
      if (si < 0) continue;
      for (let j = 0; j < WO; j++) {
        const sj = padSource(j - l, W, a.mode);
        if (sj < 0) continue;
        dx.data[(p * H + si) * W + sj] += dy.data[(p * HO + i) * WO + j]!;
      }
    }
  return dx;
}
