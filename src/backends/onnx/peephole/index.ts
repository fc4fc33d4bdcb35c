/**
 * Peephole rewrites of the ONNX graph emitted for a GPU (`device: 'gpu'`), where every node is at least one
 * dispatch: each rewrite removes nodes and keeps the value computed, up to float rounding (the rewrites'
 * modules say where they reorder arithmetic). They run to a fixed point, then unread nodes go; the model given
 * is not modified. The CPU pipeline does not run them (its own passes and ONNX Runtime's CPU fusions serve it,
 * where a node is not a dispatch); it runs CPU_PEEPHOLE_REWRITES, which save kernel work, not nodes.
 */
import type { ModelProto } from '../proto.ts';
import { commonSubexpressions } from './cse.ts';
import { dropIdentities } from './identity.ts';
import { dropBroadcastExpands } from './expand.ts';
import { ProtoGraph, type ShapeOf } from './graph.ts';
import { foldScalarFactors } from './scalars.ts';
import { fuseSumOfSquares } from './sum-square.ts';
import { gramAsGemm, symmetricGramGradient } from './gram.ts';
import { fuseReluPoolGradients } from './relu-pool.ts';
import { maskPooledGradient, mergeIndexedPool } from './pool-mask.ts';
import { mergeSliceChains } from './slice-chain.ts';
import { scatterIntoSum } from './scatter-into.ts';
import { transposeAsSpaceToDepth } from './space-to-depth.ts';
import { interleaveAsDepthToSpace } from './depth-to-space.ts';
import { winogradOutputAsGather } from './winograd-gather.ts';
import { winogradGradientOutputAsGather } from './winograd-grad-gather.ts';
import { scaleIntoConvWeights, scaleOverSum } from './scale-into.ts';
import { differenceAsConv, differenceGradientAsConvTranspose } from './shift-difference.ts';

export type { ShapeOf } from './graph.ts';

type Rewrite = (g: ProtoGraph) => boolean;

/** In order: each is tried until none applies, then the next; the whole list repeats while any applied. */
export const PEEPHOLE_REWRITES: readonly Rewrite[] = [dropIdentities, commonSubexpressions, dropBroadcastExpands, foldScalarFactors, fuseSumOfSquares, symmetricGramGradient, gramAsGemm, fuseReluPoolGradients, differenceAsConv, differenceGradientAsConvTranspose, scaleIntoConvWeights, scaleOverSum];

/**
 * The rewrites the CPU pipeline runs on its emitted graph: those that save ONNX Runtime's CPU kernels work, not
 * only dispatches.
 */
export const CPU_PEEPHOLE_REWRITES: readonly Rewrite[] = [maskPooledGradient, mergeIndexedPool, scatterIntoSum, mergeSliceChains, transposeAsSpaceToDepth, interleaveAsDepthToSpace, winogradOutputAsGather, winogradGradientOutputAsGather];

/** `symmetricInputs`: the graph inputs fed symmetric matrices only (ProtoGraph). */
export function peephole(model: ModelProto, shapeOf: ShapeOf, symmetricInputs: ReadonlySet<string> = new Set(), rewrites: readonly Rewrite[] = PEEPHOLE_REWRITES): ModelProto {
  const g = new ProtoGraph(model, shapeOf, symmetricInputs);
  for (let changed = true; changed; ) {
    changed = false;
    for (const r of rewrites)
      while (r(g)) {
        g.removeDead();
        changed = true;
      }
  }
  g.removeDead();
  return g.toModel();
}
