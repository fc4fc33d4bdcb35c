/**
 * Scalar algebra on constant factors: x + x = 2·x; (y·a)·b = y·(ab); −(y·a) = y·(−a); (−y)·a = y·(−a); y·1 = y.
 * Autodiff leaves such chains (a loss scale times a norm times the 2 of a square's derivative); each link is a
 * dispatch on a GPU. Only rank-0 float constants are folded (a [1]-shaped one could change a scalar's rank), and
 * only through intermediates with no other reader.
 */
import type { NodeProto } from '../proto.ts';
import { newNode, type ProtoGraph } from './graph.ts';

/** [the non-constant operand, the constant factor] of a Mul by a rank-0 constant. */
export function scaled(g: ProtoGraph, n: NodeProto | undefined): [string, number] | undefined {
  if (n?.opType !== 'Mul') return undefined;
  const [a, b] = n.input as [string, string];
  const cb = g.scalar(b);
  if (cb !== undefined && g.scalar(a) === undefined) return [a, cb];
  const ca = g.scalar(a);
  return ca !== undefined && cb === undefined ? [b, ca] : undefined;
}

/** y·k writing `out`, in the place of `old`. */
function mulTo(g: ProtoGraph, old: NodeProto, y: string, k: number): void {
  g.replaceNode(old, newNode(g, 'Mul', [y, g.addScalar(k)], old.output!));
}

function rewrite(g: ProtoGraph, n: NodeProto): boolean {
  const [a, b] = (n.input ?? []) as [string, string];
  if (n.opType === 'Add' && a === b) {
    mulTo(g, n, a, 2);
    return true;
  }
  const outer = scaled(g, n);
  if (outer) {
    const [x, k] = outer;
    if (k === 1 && g.canRedirect(n.output![0]!, x)) {
      g.redirect(n.output![0]!, x);
      return true;
    }
    if (!g.singleUse(x)) return false;
    const inner = scaled(g, g.producer(x));
    if (inner) return (mulTo(g, n, inner[0], inner[1] * k), true);
    const neg = g.producer(x, 'Neg');
    if (neg) return (mulTo(g, n, neg.input![0]!, -k), true);
    return false;
  }
  if (n.opType === 'Neg' && g.singleUse(a)) {
    const inner = scaled(g, g.producer(a));
    if (inner) return (mulTo(g, n, inner[0], -inner[1]), true);
  }
  return false;
}

export function foldScalarFactors(g: ProtoGraph): boolean {
  for (const n of g.nodes) if (rewrite(g, n)) return true;
  return false;
}
