/**
 * VJPs of pooling and resampling, via the gradient-only primitives.
 */
import type { VjpRule } from '../emitter.ts';

/** Routes dy to each window's first maximum (ONNX MaxPool index order), summing overlaps. */
export const maxPool: VjpRule<'maxPool'> = ({ e, node, dy }) => [e.op('maxPoolGrad', [node.inputs[0]!, dy], node.attrs)];

export const avgPool: VjpRule<'avgPool'> = ({ e, node, dy }) => [e.op('avgPoolGrad', [node.inputs[0]!, dy], node.attrs)];

/** dx = dy / (H W), broadcast over the plane. */
export const globalAvgPool: VjpRule<'globalAvgPool'> = ({ e, node, dy }) => {
  const xs = e.shape(node.inputs[0]!);
  return [e.expandTo(e.op('scale', [dy], { value: 1 / (xs[2]! * xs[3]!) }), xs)];
};

export const upsampleNearest: VjpRule<'upsampleNearest'> = ({ e, node, dy }) => [e.op('upsampleNearestGrad', [dy], node.attrs)];
