/**
 * A conv's bias dropped where the conv's only reader is an instance norm (Ulyanov, Vedaldi & Lempitsky, "Instance
 * Normalization", 2016): the norm subtracts each channel's mean over the image, and a per-channel bias only moves that
 * mean, so IN(conv(x) + b) = IN(conv(x)) exactly (the variance is shift-invariant too). ONNX Runtime fuses a direct
 * conv's bias into the conv for free, but the Winograd rewrite (winograd.ts) adds it as a separate Add over the whole
 * output (14 ms of Johnson-IN's 765 at 512², one thread: docs/benchmarks.md, "The last upsampling kept in phase
 * space, and Winograd at inference"), so the optimiser runs this before it.
 */
import type { Graph, Node } from '../../../compiler/ir/types.ts';
import { Rewriter, useCounts } from './rewrite.ts';

const isConv = (n: Node): boolean => n.op === 'conv2d' || n.op === 'convTranspose2d';

export function dropBiasBeforeNorm(g: Graph): Graph {
  const uses = useCounts(g);
  const normed = new Set<string>();
  for (const n of g.nodes) if (n.op === 'instanceNorm') normed.add(n.inputs[0]!);
  const rw = new Rewriter(g);
  let changed = false;
  for (const n of g.nodes) {
    const out = n.outputs[0]!;
    if (isConv(n) && n.inputs.length === 3 && normed.has(out) && uses.get(out) === 1) {
      rw.keep({ ...n, inputs: n.inputs.slice(0, 2) });
      changed = true;
    } else rw.keep(n);
  }
  return changed ? rw.build() : g;
}
