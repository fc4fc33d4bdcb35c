/**
 * Window geometry shared by backends and the autodiff rules:
 * resolving TF "SAME" padding to explicit ONNX pads, and pool window extents.
 */
import { samePads } from './ops.ts';
import type { Padding, PoolAttrs } from './types.ts';

export type Pads4 = readonly [number, number, number, number];

/** Effective extent of a dilated kernel. */
export function effectiveKernel(k: number, dilation: number): number {
  return dilation * (k - 1) + 1;
}

/** Explicit conv pads [top, left, bottom, right] for an input of spatial size [h, w]. */
export function convPads(padding: Padding, h: number, w: number, kernel: readonly [number, number], strides: readonly [number, number], dilations: readonly [number, number]): Pads4 {
  if (padding.kind === 'explicit') return padding.pads;
  const [t, b] = samePads(h, kernel[0], strides[0], dilations[0]);
  const [l, r] = samePads(w, kernel[1], strides[1], dilations[1]);
  return [t, l, b, r];
}

export interface ConvTransposeGeometry {
  readonly pads: Pads4;
  readonly outputPadding: readonly [number, number];
}

/**
 * Explicit pads and output padding of a transposed conv. TF "SAME" means output = input * stride:
 * it is the adjoint of a SAME conv over the output, whose total padding is max(eff - s, 0) with the
 * smaller half at the start; when eff < s the missing rows come from output padding (s - eff).
 */
export function convTransposeGeometry(padding: Padding, outputPadding: readonly [number, number], kernel: readonly [number, number], strides: readonly [number, number], dilations: readonly [number, number]): ConvTransposeGeometry {
  if (padding.kind === 'explicit') return { pads: padding.pads, outputPadding };
  const axis = (i: 0 | 1): [number, number, number] => {
    const eff = effectiveKernel(kernel[i], dilations[i]);
    const total = Math.max(eff - strides[i], 0);
    const lo = Math.floor(total / 2);
    return [lo, total - lo, Math.max(strides[i] - eff, 0)];
  };
  const [t, b, oh] = axis(0);
  const [l, r, ow] = axis(1);
  return { pads: [t, l, b, r], outputPadding: [oh, ow] };
}

/** One pool window along an axis: nominal start, clamped in-bounds range, and the count_include_pad divisor. */
export interface WindowExtent {
  readonly lo: number; // first in-bounds index (inclusive)
  readonly hi: number; // last in-bounds index (exclusive)
  /** Window length counting padding but not the ceil-mode overhang past the end padding (PyTorch / ORT). */
  readonly padded: number;
}

export function poolWindow(o: number, size: number, a: PoolAttrs, axis: 0 | 1): WindowExtent {
  const start = o * a.strides[axis] - a.pads[axis];
  const end = start + a.kernel[axis];
  const paddedEnd = Math.min(end, size + a.pads[axis + 2]!);
  return { lo: Math.max(start, 0), hi: Math.min(end, size), padded: paddedEnd - start };
}
