/**
 * Hash-initialised weights: the rule the PyTorch goldens use for networks without
 * real weights (test/goldens/README.md, "Hash-initialised weights"), so stc can
 * run the very same network without storing its 1.7 M parameters.
 *
 * For a parameter with stc id `id` (`conv1.weight`, `in1.scale`, `res1.in2.bias`):
 *   conv weight and bias:       uniform(shape, fnv1a32(id), -b, b), b = 1 / sqrt(fan_in),
 *                               fan_in = I * kh * kw of the conv's OIHW weight
 *   norm scale:                 uniform(shape, fnv1a32(id), 0.5, 1.5)
 *   norm bias:                  uniform(shape, fnv1a32(id), -0.5, 0.5)
 * Only convolutions and instance/batch norms' affine parameters have a rule.
 */
import { consumers, paramsOf } from '../compiler/ir/graph.ts';
import type { Graph, HostTensor } from '../compiler/ir/types.ts';
import type { WeightMap } from '../backends/types.ts';
import { uniformTensor } from './det.ts';

export function hashInitWeights(g: Graph): WeightMap {
  const users = consumers(g);
  const out = new Map<string, HostTensor>();
  for (const p of paramsOf(g)) {
    const shape = p.shape as readonly number[];
    const node = users.get(p.id)?.[0];
    if (!node) throw new Error(`hash init: parameter ${p.id} has no consumer`);
    const slot = node.inputs.indexOf(p.id);
    if (node.op === 'conv2d' && (slot === 1 || slot === 2)) {
      const w = g.values.get(node.inputs[1]!)!.shape as readonly number[];
      const fanIn = w[1]! * w[2]! * w[3]!;
      const b = 1 / Math.sqrt(fanIn);
      out.set(p.id, uniformTensor(shape, p.id, -b, b));
    } else if ((node.op === 'instanceNorm' || node.op === 'batchNorm') && slot === 1) {
      out.set(p.id, uniformTensor(shape, p.id, 0.5, 1.5));
    } else if ((node.op === 'instanceNorm' || node.op === 'batchNorm') && slot === 2) {
      out.set(p.id, uniformTensor(shape, p.id, -0.5, 0.5));
    } else {
      throw new Error(`hash init: no rule for parameter ${p.id} (input ${slot} of ${node.op})`);
    }
  }
  return out;
}
