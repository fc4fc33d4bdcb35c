/**
 * Pooling with ONNX semantics (which agree with PyTorch here): explicit pads, ceil mode
 * (a last window that would start inside the end padding is dropped, as the shape function says),
 * max over in-bounds elements only, average with or without padded zeros in the divisor
 * (count_include_pad counts padding but not the ceil-mode overhang past it).
 *
 * Gradients: maxPoolGrad routes each output gradient to its window's first maximum in row-major
 * scan order (the element ONNX MaxPool's Indices output names), summing where windows overlap;
 * avgPoolGrad spreads dy / divisor over each window's in-bounds elements.
 */
import { windowOut } from '../../../compiler/ir/ops.ts';
import type { PoolAttrs } from '../../../compiler/ir/types.ts';
import { poolWindow } from '../../../compiler/ir/geometry.ts';
import { type Float64Tensor, zeros } from '../tensor.ts';

function poolOutSize(H: number, W: number, a: PoolAttrs): [number, number] {
  return [
    windowOut(H, a.kernel[0], a.strides[0], 1, a.pads[0], a.pads[2], a.ceilMode) as number,
    windowOut(W, a.kernel[1], a.strides[1], 1, a.pads[1], a.pads[3], a.ceilMode) as number,
  ];
}

/** Visit every (plane, output position) with its window extents. */
function forEachWindow(
  shape: readonly number[],
  a: PoolAttrs,
  visit: (plane: number, outIndex: number, h: ReturnType<typeof poolWindow>, w: ReturnType<typeof poolWindow>) => void,
): [number, number] {
  const [N, C, H, W] = shape as [number, number, number, number];
  const [HO, WO] = poolOutSize(H, W, a);
  for (let p = 0; p < N * C; p++)
    for (let oh = 0; oh < HO; oh++) {
      const hw = poolWindow(oh, H, a, 0);
      for (let ow = 0; ow < WO; ow++) visit(p, (p * HO + oh) * WO + ow, hw, poolWindow(ow, W, a, 1));
    }
  return [HO, WO];
}

/** Flat index of the first maximum of a window (row-major scan), or -1 if the window is empty. */
function argmaxInWindow(x: Float64Tensor, plane: number, h: ReturnType<typeof poolWindow>, w: ReturnType<typeof poolWindow>): number {
  const [, , H, W] = x.shape as [number, number, number, number];
  let best = -Infinity;
  let at = -1;
  for (let i = h.lo; i < h.hi; i++)
    for (let j = w.lo; j < w.hi; j++) {
      const idx = (plane * H + i) * W + j;
      const v = x.data[idx]!;
      if (at < 0 || v > best) {
        best = v;
        at = idx;
      }
    }
  return at;
}

function divisor(h: ReturnType<typeof poolWindow>, w: ReturnType<typeof poolWindow>, a: PoolAttrs): number {
  return a.countIncludePad ? h.padded * w.padded : (h.hi - h.lo) * (w.hi - w.lo);
}

export function maxPool(x: Float64Tensor, a: PoolAttrs): Float64Tensor {
  const [N, C, H, W] = x.shape as [number, number, number, number];
  const [HO, WO] = poolOutSize(H, W, a);
  const y = zeros([N, C, HO, WO]);
  forEachWindow(x.shape, a, (p, o, h, w) => {
    const at = argmaxInWindow(x, p, h, w);
    y.data[o] = at < 0 ? -Infinity : x.data[at]!;
  });
  return y;
}

export function avgPool(x: Float64Tensor, a: PoolAttrs): Float64Tensor {
  const [N, C, H, W] = x.shape as [number, number, number, number];
  const [HO, WO] = poolOutSize(H, W, a);
  const y = zeros([N, C, HO, WO]);
  forEachWindow(x.shape, a, (p, o, h, w) => {
    let s = 0;
    for (let i = h.lo; i < h.hi; i++) for (let j = w.lo; j < w.hi; j++) s += x.data[(p * H + i) * W + j]!;
    y.data[o] = s / divisor(h, w, a);
  });
  return y;
}

export function maxPoolGrad(x: Float64Tensor, dy: Float64Tensor, a: PoolAttrs): Float64Tensor {
  const dx = zeros(x.shape);
  forEachWindow(x.shape, a, (p, o, h, w) => {
    const at = argmaxInWindow(x, p, h, w);
    if (at >= 0) dx.data[at] += dy.data[o]!;
  });
  return dx;
}

export function avgPoolGrad(x: Float64Tensor, dy: Float64Tensor, a: PoolAttrs): Float64Tensor {
  const [, , H, W] = x.shape as [number, number, number, number];
  const dx = zeros(x.shape);
  forEachWindow(x.shape, a, (p, o, h, w) => {
    const g = dy.data[o]! / divisor(h, w, a);
    for (let i = h.lo; i < h.hi; i++) for (let j = w.lo; j < w.hi; j++) dx.data[(p * H + i) * W + j] += g;
  });
  return dx;
}

/** Mean over H and W, keeping them as size-1 axes. */
export function globalAvgPool(x: Float64Tensor): Float64Tensor {
  const [N, C, H, W] = x.shape as [number, number, number, number];
  const y = zeros([N, C, 1, 1]);
  for (let p = 0; p < N * C; p++) {
    let s = 0;
    for (let i = 0; i < H * W; i++) s += x.data[p * H * W + i]!;
    y.data[p] = s / (H * W);
  }
  return y;
}
