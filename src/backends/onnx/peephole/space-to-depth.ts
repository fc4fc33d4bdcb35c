/**
 * A block split written as Reshape [N, C, H, W] → [N, C, H/b, b, W/b, b] and Transpose (0, 3, 5, 1, 2, 4), read
 * only by Reshapes, as one SpaceToDepth (blocksize b): the transposed [N, b, b, C, H/b, W/b] holds the same elements
 * in the same order as SpaceToDepth's [N, b²·C, H/b, W/b] (DCR: channel (i·b + j)·C + c holds x[n, c, b·h + i, b·w + j]),
 * so the Reshapes read it unchanged. ONNX Runtime's Transpose moves the innermost axis element by element; its
 * SpaceToDepth was several times faster on the strided weight gradients' phase split (optimize/weight-grad.ts;
 * docs/benchmarks.md, "Strided weight gradients as per-tap matmuls"). Exact: a copy.
 */
import { attr } from '../proto.ts';
import { reshapedTranspose } from './reshaped-transpose.ts';
import { PHASE_SPLIT } from '../optimize/weight-grad.ts';
import { newNode, type ProtoGraph } from './graph.ts';

const BLOCK_SPLIT = PHASE_SPLIT.join();

export function transposeAsSpaceToDepth(g: ProtoGraph): boolean {
  for (const t of g.nodes) {
    const m = reshapedTranspose(g, t, BLOCK_SPLIT);
    if (!m) continue;
    const [x, xs, ss] = [m.x, m.xShape, m.split];
    const [n, c, h, w] = xs as [number, number, number, number];
    const b = ss[3]!;
    if (ss[0] !== n || ss[1] !== c || ss[5] !== b || ss[2]! * b !== h || ss[4]! * b !== w) continue;
    const out = t.output![0]!;
    const readers = g.consumers(out);
    if (g.outputs.has(out) || readers.length === 0 || readers.some((r) => r.opType !== 'Reshape' || r.input![0] !== out)) continue;
    const blocks = g.fresh(out);
    g.replaceNode(t, newNode(g, 'SpaceToDepth', [x], [blocks], [attr('blocksize', b)]));
    g.setShape(blocks, [n, b * b * c, h / b, w / b]);
    for (const r of readers) r.input = [blocks, ...r.input!.slice(1)];
    g.reindex();
    return true;
  }
  return false;
}
