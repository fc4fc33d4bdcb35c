/**
 * Identity nodes (the emitter writes one where a lowering's result must carry the IR value's id: the pad
 * gradient's folds) are copies: readers take the input instead, or, for a graph output, the input's producer
 * writes the output's name.
 */
import type { ProtoGraph } from './graph.ts';

export function dropIdentities(g: ProtoGraph): boolean {
  for (const n of g.nodes) {
    if (n.opType !== 'Identity') continue;
    const [x, y] = [n.input![0]!, n.output![0]!];
    if (!g.canRedirect(y, x) || (g.outputs.has(y) && g.outputs.has(x))) continue;
    g.redirect(y, x);
    return true;
  }
  return false;
}
