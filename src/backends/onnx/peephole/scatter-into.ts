/**
 * An overlapping max pool's gradient added to another gradient of the pool's input (SqueezeNet's relu1 and fire
 * concats, which are also style taps): lower-grad.ts scatters dy into zeros, and an Add sums the two,
 *
 *   s = Reshape(ScatterElements(ConstantOfShape(n, 0), i, dy, add), shape); d = Add(s, o)
 *
 * and the scatter can add into the other gradient directly, which saves filling the zeros and the full-size Add:
 *
 *   d = Reshape(ScatterElements(Reshape(o, [-1]), i, dy, add), shape)
 *
 * The sum at an input that is the maximum of two windows is taken in another order ((o + u₁) + u₂, not
 * (u₁ + u₂) + o): equal up to float32 rounding. CPU only, like the scatter it rewrites.
 */
import { type NodeProto, attribute } from '../proto.ts';
import { newNode, type ProtoGraph, zeroFill } from './graph.ts';

/** The Reshape(ScatterElements(zeros, …)) chain writing `s`, read only by the Add, or undefined. */
function scatterIntoZeros(g: ProtoGraph, s: string): { reshape: NodeProto; scatter: NodeProto } | undefined {
  const reshape = g.producer(s, 'Reshape');
  const scattered = reshape?.input![0];
  const scatter = scattered === undefined ? undefined : g.producer(scattered, 'ScatterElements');
  if (!reshape || !scatter || !g.singleUse(s) || !g.singleUse(scattered!)) return undefined;
  const reduction = attribute(scatter, 'reduction')?.s;
  if (!zeroFill(g, scatter.input![0]!) || !reduction || new TextDecoder().decode(reduction) !== 'add') return undefined;
  if (Number(attribute(scatter, 'axis')?.i ?? 0) !== 0) return undefined;
  return { reshape, scatter };
}

export function scatterIntoSum(g: ProtoGraph): boolean {
  for (const add of g.nodes) {
    if (add.opType !== 'Add') continue;
    for (const k of [0, 1]) {
      const s = add.input![k]!;
      const other = add.input![1 - k]!;
      const found = scatterIntoZeros(g, s);
      const [ss, os] = [g.shape(s), g.shape(other)];
      if (!found || !ss || !os || ss.length !== os.length || ss.some((d, i) => d !== os[i])) continue;
      const flat = g.fresh('scatter_into');
      const summed = g.fresh('scattered');
      const { scatter, reshape } = found;
      const into = newNode(g, 'Reshape', [other, g.addInts([-1])], [flat]);
      const scatterInto: NodeProto = { ...scatter, input: [flat, scatter.input![1]!, scatter.input![2]!], output: [summed] };
      const back: NodeProto = { ...reshape, input: [summed, reshape.input![1]!], output: [add.output![0]!] };
      g.replaceNode(reshape);
      g.replaceNode(scatter);
      g.replaceNode(add, into, scatterInto, back);
      return true;
    }
  }
  return false;
}
