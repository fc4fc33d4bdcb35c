/**
 * A ReLU followed by a tiling max pool (VGG's conv → relu → pool), with both gradients as lowered for the GPU
 * (lower-max-pool-grad.ts and reluGrad 'where'):
 *
 *   r = Relu(c); p = MaxPool(r); dr = Where(Equal(r, up(p)), up(dp), 0); dc = Where(Greater(r, 0), dr, 0)
 *
 * ReLU is monotonic, so MaxPool(Relu(c)) = Relu(MaxPool(c)), and an input that equals its window's pooled,
 * rectified maximum is a positive maximum: both masks are one Equal against c,
 *
 *   p = Relu(MaxPool(c)); dc = Where(Equal(c, up(p)), up(dp), 0)
 *
 * two nodes fewer (and the ReLU runs on the pooled map). Applies only where nothing else reads r. Difference:
 * an input exactly 0 that is its window's maximum now receives the gradient (ReLU's gradient at 0 is 0 in
 * PyTorch), as tied maxima do in the tiled max-pool gradient; both need exact float equalities.
 */
import type { NodeProto } from '../proto.ts';
import { newNode, type ProtoGraph } from './graph.ts';

/** The Where(Greater(r, 0), dr, 0) reading `dr` = Where(Equal(r, up(p)), …) alone, or undefined. */
function reluMask(g: ProtoGraph, r: string, eq: NodeProto): { where: NodeProto; outer: NodeProto; gt: NodeProto } | undefined {
  const eqOut = eq.output![0]!;
  const where = g.consumers(eqOut).length === 1 ? g.consumers(eqOut)[0] : undefined;
  if (where?.opType !== 'Where' || where.input![0] !== eqOut || g.scalar(where.input![2]!) !== 0 || !g.singleUse(where.output![0]!)) return undefined;
  const outer = g.consumers(where.output![0]!)[0]!;
  if (outer.opType !== 'Where' || outer.input![1] !== where.output![0] || g.scalar(outer.input![2]!) !== 0) return undefined;
  const gt = g.producer(outer.input![0]!, 'Greater');
  if (!gt || gt.input![0] !== r || g.scalar(gt.input![1]!) !== 0 || !g.singleUse(gt.output![0]!)) return undefined;
  return { where, outer, gt };
}

export function fuseReluPoolGradients(g: ProtoGraph): boolean {
  for (const relu of g.nodes) {
    if (relu.opType !== 'Relu') continue;
    const [c, r] = [relu.input![0]!, relu.output![0]!];
    const readers = g.consumers(r);
    const pool = readers.find((n) => n.opType === 'MaxPool' && n.output!.length === 1);
    const eq = readers.find((n) => n.opType === 'Equal' && n.input![0] === r);
    if (!pool || !eq || readers.length !== 3 || g.outputs.has(r)) continue;
    const up = g.producer(eq.input![1]!, 'Resize');
    if (!up || up.input![0] !== pool.output![0]) continue;
    const mask = reluMask(g, r, eq);
    if (!mask || !readers.includes(mask.gt)) continue;
    const pooled = g.fresh('pooled');
    const p = pool.output![0]!;
    pool.input = [c];
    pool.output = [pooled];
    g.replaceNode(pool, pool, newNode(g, 'Relu', [pooled], [p]));
    eq.input = [c, eq.input![1]!];
    // dc is the inner Where's result: it takes the outer's output name, and the outer and the Greater go.
    mask.where.output = mask.outer.output;
    g.replaceNode(mask.outer);
    g.replaceNode(mask.gt);
    return true;
  }
  return false;
}
