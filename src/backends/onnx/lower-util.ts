/** Small helpers shared by the forward and gradient lowerings. */
import type { Dim } from '../../compiler/ir/dim.ts';
import type { PoolAttrs } from '../../compiler/ir/types.ts';
import type { EmitContext } from './context.ts';

export function valueShape(ctx: EmitContext, id: string): readonly Dim[] {
  const v = ctx.graph.values.get(id);
  if (!v) throw new Error(`ONNX emitter: unknown value ${id}`);
  return v.shape;
}

export function concreteDim(d: Dim, what: string): number {
  if (typeof d !== 'number') throw new Error(`ONNX emitter: ${what} must be concrete (specialise the graph to a size first)`);
  return d;
}

/** ONNX pool attributes ([top, left, bottom, right] is already ONNX's pads order). */
export function poolAttrs(a: PoolAttrs): Record<string, number | number[]> {
  return { kernel_shape: [...a.kernel], strides: [...a.strides], pads: [...a.pads], ceil_mode: a.ceilMode ? 1 : 0 };
}
