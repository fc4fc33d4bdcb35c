/**
 * Constant factors moved into the nodes next to them (each saves a Mul):
 *
 * - scaleIntoConvWeights: Conv(x·k, W, b) = Conv(x, k·W, b), and so for ConvTranspose, where W is a constant
 *   (a new initializer k·W; the loss scales of TV's gradient, shift-difference.ts).
 * - scaleOverSum: (Σ_i a_i·k_i)·k = Σ_i a_i·(k_i·k) where every term is a constant multiple read only there
 *   (the style loss: β · Σ_l w_l·E_l).
 */
import { floatTensor } from '../proto.ts';
import { addTree } from './add-tree.ts';
import type { ProtoGraph } from './graph.ts';
import { newNode } from './graph.ts';
import { scaled } from './scalars.ts';

/** Elements of the largest shared conv weight copied to take a factor (4096: 16 KB). */
export const MAX_COPIED_WEIGHT = 4096;

export function scaleIntoConvWeights(g: ProtoGraph): boolean {
  for (const n of g.nodes) {
    if (n.opType !== 'Conv' && n.opType !== 'ConvTranspose') continue;
    const [x, w] = n.input as [string, string];
    const s = g.singleUse(x) ? scaled(g, g.producer(x)) : undefined;
    const shape = g.shape(w);
    // A weight other nodes read too (a conv and its gradient's transposed conv) would be copied: small ones only.
    const small = shape !== undefined && shape.reduce((a, d) => a * d, 1) <= MAX_COPIED_WEIGHT;
    const weights = s && (g.consumers(w).length === 1 || small) ? g.floats(w) : undefined;
    if (!s || !weights || !shape) continue;
    const name = g.fresh('scaled_weight');
    g.addInitializer(floatTensor(name, shape, Float32Array.from(weights, (v) => v * s[1])));
    n.input = [s[0], name, ...n.input!.slice(2)];
    g.reindex();
    return true;
  }
  return false;
}

export function scaleOverSum(g: ProtoGraph): boolean {
  for (const n of g.nodes) {
    const outer = scaled(g, n);
    const tree = outer && g.singleUse(outer[0]) ? addTree(g, g.producer(outer[0], 'Add') ?? n) : undefined;
    if (!outer || !tree || tree.root === n) continue;
    const terms = tree.leaves.map((l) => (g.singleUse(l) ? g.producer(l) : undefined));
    const factors = terms.map((t) => scaled(g, t));
    if (!factors.every((f) => f !== undefined) || !g.canRedirect(n.output![0]!, outer[0])) continue;
    terms.forEach((t, i) => g.replaceNode(t!, newNode(g, 'Mul', [factors[i]![0], g.addScalar(factors[i]![1] * outer[1])], t!.output!)));
    g.redirect(n.output![0]!, outer[0]);
    return true;
  }
  return false;
}
