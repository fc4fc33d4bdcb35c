/**
 * The CPU lowering of a ReLU's gradient under a non-overlapping max pool (VGG's conv → relu → 2×2 pool), masked
 * at the pooled resolution. As lowered (lower-grad.ts, maxPoolGrad 'scatter' with MaxUnpool, reluGrad 'where'
 * or 'mul'):
 *
 *   p = MaxPool(r); (_, i) = MaxPool(r); dr = MaxUnpool(dp, i, Shape(r)); dc = Where(Greater(r, 0), dr, 0)
 *                                                                      (or dr · Cast(Greater(r, 0)))
 *
 * MaxUnpool writes dp at each window's argmax and zeros elsewhere, and at the argmax r equals the pooled p, so
 * the mask can be applied to dp before it is placed, on a quarter of the elements:
 *
 *   (p, i) = MaxPool(r); dc = MaxUnpool(Where(Greater(p, 0), dp, 0), i, shape)
 *
 * Exact for any r (no ReLU needed): every element of dc is the same product or the same zero. The forward pool
 * and the gradient's indexed pool become one node (ONNX Runtime ran both), and the gradient no longer reads r
 * itself, so r need not stay alive for the backward pass. CPU only: the GPU lowers the pool's gradient without
 * Indices (peephole/relu-pool.ts fuses that form).
 */
import { attributesKey, int64Tensor, type NodeProto } from '../proto.ts';
import type { ProtoGraph } from './graph.ts';

/** The mask node reading `dr` and the Greater(r, 0) it masks with (through a Cast for 'mul'), if that is the pattern. */
function maskOf(g: ProtoGraph, r: string, dr: string): { mask: NodeProto; gt: NodeProto } | undefined {
  if (!g.singleUse(dr)) return undefined;
  const mask = g.consumers(dr)[0]!;
  let flag: string | undefined;
  if (mask.opType === 'Where' && mask.input![1] === dr && g.scalar(mask.input![2]!) === 0) flag = mask.input![0];
  else if (mask.opType === 'Mul') {
    const other = mask.input![0] === dr ? mask.input![1]! : mask.input![0]!;
    const cast = g.producer(other, 'Cast');
    if (cast && g.singleUse(other)) flag = cast.input![0];
  }
  const gt = flag === undefined ? undefined : g.producer(flag, 'Greater');
  if (!gt || gt.input![0] !== r || g.scalar(gt.input![1]!) !== 0 || !g.singleUse(flag!)) return undefined;
  return { mask, gt };
}

export function maskPooledGradient(g: ProtoGraph): boolean {
  for (const unpool of g.nodes) {
    if (unpool.opType !== 'MaxUnpool') continue;
    const [dp, idx, shape] = unpool.input as [string, string, string | undefined];
    const indexed = g.producer(idx, 'MaxPool');
    const r = indexed?.input![0];
    const rShape = r === undefined ? undefined : g.shape(r);
    if (!indexed || !r || !rShape || indexed.output![1] !== idx || !g.singleUse(idx)) continue;
    const found = maskOf(g, r, unpool.output![0]!);
    if (!found) continue;
    const { mask, gt } = found;
    // The pooled values: the forward pool of r with the same attributes (which then also writes the indices), else
    // the indexed pool's own first output.
    const forward = g.consumers(r).find((n) => n !== indexed && n.opType === 'MaxPool' && n.output!.length === 1 && attributesKey(n) === attributesKey(indexed));
    let p: string;
    if (forward) {
      p = forward.output![0]!;
      forward.output = [p, idx];
      g.replaceNode(indexed);
    } else {
      p = indexed.output![0] || g.fresh('pooled');
      indexed.output = [p, idx];
    }
    gt.input = [p, gt.input![1]!];
    const masked = g.fresh('pooled_grad');
    const dc = mask.output![0]!;
    mask.input = mask.input!.map((i) => (i === unpool.output![0] ? dp : i));
    mask.output = [masked];
    const fixedShape = g.fresh('shape');
    g.addInitializer(int64Tensor(fixedShape, [rShape.length], [...rShape]));
    unpool.input = [masked, idx, ...(shape === undefined ? [] : [fixedShape])];
    unpool.output = [dc];
    // The unpool now reads the mask's output: move it after the mask (the list stays topological).
    g.nodes.splice(g.nodes.indexOf(unpool), 1);
    g.nodes.splice(g.nodes.indexOf(mask) + 1, 0, unpool);
    g.reindex();
    return true;
  }
  return false;
}
