/** ReduceSum(x·x) as one ReduceSumSquare(x) (sums of squares: every content, style and TV loss). */
import { newNode, type ProtoGraph } from './graph.ts';

export function fuseSumOfSquares(g: ProtoGraph): boolean {
  for (const n of g.nodes) {
    if (n.opType !== 'ReduceSum') continue;
    const sq = n.input![0]!;
    const mul = g.producer(sq, 'Mul');
    if (!mul || mul.input![0] !== mul.input![1] || !g.singleUse(sq)) continue;
    g.replaceNode(n, newNode(g, 'ReduceSumSquare', [mul.input![0]!, ...n.input!.slice(1)], n.output!, n.attribute ?? []));
    return true;
  }
  return false;
}
