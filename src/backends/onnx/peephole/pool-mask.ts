/**
 * The CPU lowering of a ReLU's gradient under a max pool (VGG's conv → relu → 2×2 pool, SqueezeNet's relu → 3×3
 * stride-2 pool), masked at the pooled resolution. As lowered (lower-grad.ts, maxPoolGrad 'scatter', reluGrad
 * 'where' or 'mul'), for a non-overlapping pool:
 *
 *   p = MaxPool(r); (_, i) = MaxPool(r); dr = MaxUnpool(dp, i, Shape(r)); dc = Where(Greater(r, 0), dr, 0)
 *                                                                      (or dr · Cast(Greater(r, 0)))
 *
 * MaxUnpool writes dp at each window's argmax and zeros elsewhere, and at the argmax r equals the pooled p, so
 * the mask can be applied to dp before it is placed, on a quarter of the elements:
 *
 *   (p, i) = MaxPool(r); dc = MaxUnpool(Where(Greater(p, 0), dp, 0), i, shape)
 *
 * Overlapping windows (stride < kernel) place dp with a scatter-add instead of MaxUnpool,
 *
 *   dr = Reshape(ScatterElements(zeros, Reshape(i, [-1]), Reshape(dp, [-1]), add), Shape(r))
 *
 * and the mask moves before the scatter in the same way: an input that is the maximum of two windows receives both
 * masked terms, each the same product or zero as before (the sum of two masked terms is the masked sum).
 *
 * Exact for any r (no ReLU needed): every element of dc is the same product or the same zero. The forward pool
 * and the gradient's indexed pool become one node (ONNX Runtime ran both), and the gradient no longer reads r
 * itself, so r need not stay alive for the backward pass. CPU only: the GPU lowers the pool's gradient without
 * Indices (peephole/relu-pool.ts fuses that form).
 */
import { attributesKey, int64Tensor, type NodeProto } from '../proto.ts';
import { type ProtoGraph, zeroFill } from './graph.ts';

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

/**
 * How a lowered maxPoolGrad places dp at the indices `idx`: `first` is the node reading dp (the MaxUnpool, or the
 * Reshape of dp that feeds the scatter), `nodes` the placement's nodes from `first` to `last`, whose output is dr;
 * `zeros`, the scatter's zero fill.
 */
interface Placement {
  readonly dp: string;
  readonly first: NodeProto;
  readonly nodes: readonly NodeProto[];
  readonly last: NodeProto;
  readonly zeros?: NodeProto;
}

/** The MaxUnpool reading `idx`, or the ScatterElements chain of lower-grad.ts reading it; undefined for anything else. */
function placementOf(g: ProtoGraph, idx: string): Placement | undefined {
  const reader = g.consumers(idx)[0];
  if (reader?.opType === 'MaxUnpool' && reader.input![1] === idx) return { dp: reader.input![0]!, first: reader, nodes: [reader], last: reader };
  if (reader?.opType !== 'Reshape' || !g.singleUse(reader.output![0]!)) return undefined;
  const scatter = g.consumers(reader.output![0]!)[0];
  if (scatter?.opType !== 'ScatterElements' || scatter.input![1] !== reader.output![0] || !g.singleUse(scatter.output![0]!)) return undefined;
  // Into zeros only: a scatter that adds into another gradient (scatter-into.ts) places more than dp.
  const zeros = zeroFill(g, scatter.input![0]!);
  const flat = g.producer(scatter.input![2]!, 'Reshape');
  const last = g.consumers(scatter.output![0]!)[0];
  if (!zeros || !flat || !g.singleUse(flat.output![0]!) || last?.opType !== 'Reshape' || last.input![0] !== scatter.output![0]) return undefined;
  return { dp: flat.input![0]!, first: flat, nodes: [flat, scatter, last], last, zeros };
}

/** The same pool of `r` run once more without indices (the forward pool), if the graph has one. */
function forwardPool(g: ProtoGraph, r: string, indexed: NodeProto): NodeProto | undefined {
  return g.consumers(r).find((n) => n !== indexed && n.opType === 'MaxPool' && n.output!.length === 1 && attributesKey(n) === attributesKey(indexed));
}

/** Let `indexed`'s indices come from the forward pool of the same input, if there is one; returns the pooled values. */
function mergeForward(g: ProtoGraph, r: string, indexed: NodeProto, idx: string): string {
  const forward = forwardPool(g, r, indexed);
  if (forward) {
    const p = forward.output![0]!;
    forward.output = [p, idx];
    g.replaceNode(indexed);
    return p;
  }
  const p = indexed.output![0] || g.fresh('pooled');
  indexed.output = [p, idx];
  return p;
}

/** `pool` when it is a MaxPool whose Indices output is read once: the indices, and its input with a known shape. */
function indexedPool(g: ProtoGraph, pool: NodeProto): { idx: string; r: string; rShape: readonly number[] } | undefined {
  const idx = pool.opType === 'MaxPool' ? pool.output![1] : undefined;
  const r = pool.input![0]!;
  const rShape = g.shape(r);
  if (!idx || !rShape || !g.singleUse(idx)) return undefined;
  return { idx, r, rShape };
}

export function maskPooledGradient(g: ProtoGraph): boolean {
  for (const indexed of g.nodes) {
    const found = indexedPool(g, indexed);
    const placement = found && placementOf(g, found.idx);
    const masking = placement && maskOf(g, found.r, placement.last.output![0]!);
    if (!found || !placement || !masking) continue;
    const { idx, r, rShape } = found;
    const { mask, gt } = masking;
    gt.input = [mergeForward(g, r, indexed, idx), gt.input![1]!];
    const masked = g.fresh('pooled_grad');
    const dc = mask.output![0]!;
    mask.input = mask.input!.map((i) => (i === placement.last.output![0] ? placement.dp : i));
    mask.output = [masked];
    placement.first.input = placement.first.input!.map((i, k) => (k === 0 ? masked : i));
    placement.last.output = [dc];
    // The output shape as a constant: the gradient no longer reads r, not even its shape.
    const fixedShape = g.fresh('shape');
    g.addInitializer(int64Tensor(fixedShape, [rShape.length], [...rShape]));
    const shapeAt = placement.last.opType === 'MaxUnpool' ? 2 : 1;
    if (placement.last.input!.length > shapeAt) placement.last.input![shapeAt] = fixedShape;
    if (placement.zeros) {
      const size = g.fresh('size');
      g.addInitializer(int64Tensor(size, [1], [rShape.reduce((a, b) => a * b, 1)]));
      placement.zeros.input = [size];
    }
    // The placement now reads the mask's output: move its nodes after the mask (the list stays topological).
    for (const n of placement.nodes) g.nodes.splice(g.nodes.indexOf(n), 1);
    g.nodes.splice(g.nodes.indexOf(mask) + 1, 0, ...placement.nodes);
    g.reindex();
    return true;
  }
  return false;
}

/**
 * A forward MaxPool and the gradient's indexed MaxPool of the same input with the same attributes (a pool whose
 * input is no ReLU, such as SqueezeNet's pools after a concat) become one node writing both outputs: ONNX Runtime
 * ran the pool twice.
 */
export function mergeIndexedPool(g: ProtoGraph): boolean {
  for (const indexed of g.nodes) {
    const idx = indexed.opType === 'MaxPool' ? indexed.output![1] : undefined;
    const forward = idx ? forwardPool(g, indexed.input![0]!, indexed) : undefined;
    const values = indexed.output![0];
    if (!idx || !forward || (values && !g.canRedirect(values, forward.output![0]!))) continue;
    const p = mergeForward(g, indexed.input![0]!, indexed, idx);
    if (values) g.redirect(values, p);
    return true;
  }
  return false;
}
