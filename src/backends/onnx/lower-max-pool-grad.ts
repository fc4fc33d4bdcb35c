/**
 * maxPoolGrad for GPU providers, where windows tile the input exactly (kernel = stride, no padding, sizes
 * divisible by the stride: VGG's 2×2 pools): the pool output y is repeated over its windows (nearest Resize),
 * every input equal to its window's maximum is marked, and dy, repeated the same way, is kept there:
 *
 *   dx = Where(Equal(x, up(y)), up(dy), 0)      4 nodes (3 when y is recomputed: a MaxPool more)
 *
 * against about 20 for the windowed lowering (lower-grad.ts, maxPoolGradWindow). ONNX Runtime 1.30's WebGPU
 * provider runs Resize, Equal and Where but fails on MaxPool's Indices output, which the exact CPU lowering uses.
 *
 * Ties: this routes dy to every maximum of a window, where PyTorch and the reference interpreter route it to
 * the first (row-major). Behind a ReLU (VGG) an all-zero window's inputs are masked by the ReLU's gradient
 * anyway; windows with two equal positive maxima are the only difference (probability zero for real-valued
 * activations, but not for quantised or saturated ones). The CPU pipeline keeps the exact lowering.
 */
import type { NodeOf, PoolAttrs } from '../../compiler/ir/types.ts';
import type { EmitContext } from './context.ts';
import { poolAttrs, valueShape } from './lower-util.ts';

/** Whether the windows of a max pool tile an input of `h`×`w` exactly (each input in one window). */
export function poolTilesExactly(a: PoolAttrs, h: unknown, w: unknown): h is number {
  const [kh, kw] = a.kernel;
  const [sh, sw] = a.strides;
  return kh === sh && kw === sw && a.pads.every((p) => p === 0) && typeof h === 'number' && typeof w === 'number' && h % kh === 0 && w % kw === 0;
}

const samePool = (a: PoolAttrs, b: PoolAttrs): boolean =>
  a.kernel.every((k, i) => k === b.kernel[i]) && a.strides.every((s, i) => s === b.strides[i]) && a.pads.every((p, i) => p === b.pads[i]) && a.ceilMode === b.ceilMode;

/** The forward pool's output over `x` with these attributes, or a new MaxPool when the graph has none. */
function poolOutput(ctx: EmitContext, x: string, a: PoolAttrs): string {
  const fwd = ctx.graph.nodes.find((n) => n.op === 'maxPool' && n.inputs[0] === x && samePool(n.attrs as PoolAttrs, a));
  return fwd ? fwd.outputs[0]! : ctx.op1('MaxPool', [x], poolAttrs(a));
}

/** Lower maxPoolGrad as above; returns false (emitting nothing) where the windows do not tile the input. */
export function maxPoolGradTiled(ctx: EmitContext, n: NodeOf<'maxPoolGrad'>): boolean {
  const [x, dy] = n.inputs as [string, string];
  const xs = valueShape(ctx, x);
  if (!poolTilesExactly(n.attrs, xs[2], xs[3])) return false;
  const scales = ctx.constF('maxpool_scales', [4], Float32Array.of(1, 1, n.attrs.kernel[0], n.attrs.kernel[1]));
  // asymmetric + floor: output pixel i reads input floor(i / k), each value repeated over its k×k window.
  const up = (t: string): string => ctx.op1('Resize', [t, '', scales], { mode: 'nearest', coordinate_transformation_mode: 'asymmetric', nearest_mode: 'floor' });
  const isMax = ctx.op1('Equal', [x, up(poolOutput(ctx, x, n.attrs))]);
  ctx.opTo('Where', [isMax, up(dy), ctx.scalarF(0)], n.outputs);
  return true;
}
