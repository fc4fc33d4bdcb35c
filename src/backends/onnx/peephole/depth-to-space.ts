/**
 * The phase interleave written as Reshape [N, b²·C, H, W] → [N, C, b, b, H, W], Transpose (0, 1, 4, 2, 5, 3) and
 * Reshape → [N, C, b·H, b·W] (optimize/resize-conv.ts' interleavePhases: channel c·b² + i·b + j holds pixel
 * (b·h + i, b·w + j) of channel c) as one DepthToSpace in CRD mode, which reads channels in exactly that order. ONNX
 * Runtime's 6-D Transpose moves the innermost axis element by element, and its DepthToSpace is faster, in isolation
 * (bench/prototypes/interleave.py) and, by a little, in the whole network (docs/benchmarks.md, "The phase interleave as
 * DepthToSpace"). Exact: a copy. The int8 model is built without the CPU peephole, so its
 * channels-last shuffle (channels-last-phases.ts) still finds the Reshape and Transpose it matches.
 */
import { attr } from '../proto.ts';
import { reshapedTranspose } from './reshaped-transpose.ts';
import { PHASE_INTERLEAVE } from '../optimize/resize-conv.ts';
import { newNode, type ProtoGraph } from './graph.ts';

const INTERLEAVE = PHASE_INTERLEAVE.join();

export function interleaveAsDepthToSpace(g: ProtoGraph): boolean {
  for (const t of g.nodes) {
    const m = reshapedTranspose(g, t, INTERLEAVE);
    const out = t.output![0]!;
    const merge = g.consumers(out)[0];
    if (!m || !g.singleUse(t.input![0]!) || !g.singleUse(out) || merge?.opType !== 'Reshape') continue;
    const [x, xs, ss] = [m.x, m.xShape, m.split];
    const [n, c, b, b2, h, w] = ss as [number, number, number, number, number, number];
    const ms = g.shape(merge.output![0]!);
    if (b !== b2 || xs.join() !== [n, b * b * c, h, w].join() || ms?.join() !== [n, c, b * h, b * w].join()) continue;
    g.replaceNode(merge, newNode(g, 'DepthToSpace', [x], merge.output!, [attr('blocksize', b), attr('mode', 'CRD')]));
    return true;
  }
  return false;
}
