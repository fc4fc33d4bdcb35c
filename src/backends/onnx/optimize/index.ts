/**
 * Graph optimisation for the ONNX backend, on a specialised graph with its bound weights:
 *
 * 1. foldInputNormalisation — scale / BGR swap / mean / std into the first conv's weights and bias;
 * 2. resizeConvToDepthToSpace — nearest ×2 upsample + pad + 3×3 conv as a low-resolution conv with
 *    4× the output channels and a depth-to-space shuffle (never materialises the upsampled image);
 *    with 'phaseTaps', each phase on its own 2×2 taps (4/9 of the multiply-adds) and four slices;
 * 2b. upsampleTailInPhases — the last such upsampling followed by instance norm, ReLU and a few-output-channel
 *    "same" conv (Johnson's 9×9 output layer) kept in phase space: no shuffle, no padded copy of the image;
 * 3. weightGradToMatmul — autodiff's transposed-conv weight gradients as per-tap matmuls (a strided conv's on
 *    the padded input's stride phases), and kernels over 9 taps with fewer output than input channels as one
 *    conv with image and kernel swapped;
 * 4. convOutputPhases — convs with at most 4 output channels and a kernel of 25 taps or more
 *    (Johnson's 9×9 output layer) as a stride-s conv over the output's s² phases and a depth-to-space;
 * 5. winogradConvs — wide 3×3 stride-1 convs on large maps, and their input gradients (stride-1
 *    transposed convs), as Winograd F(4×4, 3×3) (and, opt-in, F(2×2, 3×3) on smaller maps): a batched GEMM with 4× fewer multiply-adds between
 *    fixed input and output transforms, one transformed kernel shared by a conv and its gradient;
 *    the ONNX backend runs it only when asked (BackendOptions.winograd: faster, more memory; the Gatys
 *    engine asks for its CPU step);
 * 6. convTransposeToConv — the remaining stride-1 transposed convs (input gradients) as convs;
 * 7. narrowConvAsMatmul — convs with at most 4 output channels and a small kernel (VGG's image gradient) as
 *    one matmul over the channels and a sum of the kernel's shifted taps;
 * 8. constantFold — everything computable from constants and bound (frozen) weights, once.
 *
 * ONNX Runtime's own optimiser ('all') then does what it does well and stc does not repeat:
 * Conv+bias+Relu fusion (FusedConv), the NCHWc layout transform, MatMul+Transpose fusion
 * (FusedMatMul), and elementwise fusions.
 */
import type { Graph } from '../../../compiler/ir/types.ts';
import type { WeightMap } from '../../types.ts';
import { constantFold } from './fold.ts';
import { convTransposeToConv } from './conv-transpose.ts';
import { foldInputNormalisation } from './preprocess.ts';
import { resizeConvToDepthToSpace } from './resize-conv.ts';
import { upsampleTailInPhases } from './phase-tail.ts';
import { weightGradToMatmul } from './weight-grad.ts';
import { convOutputPhases } from './output-phases.ts';
import { winogradConvs, type WinogradOptions } from './winograd.ts';
import { narrowConvAsMatmul } from './narrow-conv.ts';

export { constantFold, type FoldOptions } from './fold.ts';
export { convTransposeToConv, flipTransposeKernel, reversalMatrix } from './conv-transpose.ts';
export { foldInputNormalisation } from './preprocess.ts';
export { resizeConvToDepthToSpace, phaseMatrix, phaseTapMatrix, ROW_TAP, type ResizeConvOptions } from './resize-conv.ts';
export { weightGradToMatmul, MAX_TAPS } from './weight-grad.ts';
export { convOutputPhases, phaseStride, MAX_OUT_CHANNELS, MIN_TAPS } from './output-phases.ts';
export { upsampleTailInPhases } from './phase-tail.ts';
export { narrowConvAsMatmul, MIN_IN_CHANNELS } from './narrow-conv.ts';
export {
  winogradConvs,
  winogradConvCount,
  inputTransformKernels,
  weightTransformMatrix,
  outputTransformMatrix,
  DEFAULT_MIN_CHANNELS,
  DEFAULT_MIN_PIXELS,
  DEFAULT_F2_MIN_CHANNELS,
  WINOGRAD_STEM,
  F2X2,
  F4X4,
  type WinogradOptions,
  type WinogradTile,
} from './winograd.ts';

export type PassName = 'normalisation' | 'resizeConv' | 'phaseTaps' | 'phaseTail' | 'weightGrad' | 'outputPhases' | 'winograd' | 'convTranspose' | 'narrowConv' | 'fold';
export const ALL_PASSES: readonly PassName[] = ['normalisation', 'resizeConv', 'phaseTaps', 'phaseTail', 'weightGrad', 'outputPhases', 'winograd', 'convTranspose', 'narrowConv', 'fold'];

export interface OptimizeOptions {
  /** Passes to run, in the fixed order above (default all). */
  readonly passes?: readonly PassName[];
  readonly winograd?: WinogradOptions;
}

/** Optimise a concrete-shape graph; parameters in `weights` are treated as frozen (foldable). */
export function optimizeGraph(g: Graph, weights: WeightMap, opts: OptimizeOptions = {}): Graph {
  const on = new Set(opts.passes ?? ALL_PASSES);
  let out = g;
  if (on.has('normalisation')) out = foldInputNormalisation(out);
  if (on.has('resizeConv')) out = resizeConvToDepthToSpace(out, { splitTaps: on.has('phaseTaps') });
  if (on.has('phaseTail')) out = upsampleTailInPhases(out);
  if (on.has('weightGrad')) out = weightGradToMatmul(out);
  if (on.has('outputPhases')) out = convOutputPhases(out);
  if (on.has('winograd')) {
    // Kernels computed from bound weights (the resize-conv's phase kernels) folded first, so the Winograd pass
    // transforms them directly (transformKernels) instead of through the float64 reference interpreter.
    if (on.has('fold')) out = constantFold(out, weights);
    out = winogradConvs(out, opts.winograd, weights);
  }
  if (on.has('convTranspose')) out = convTransposeToConv(out, weights);
  if (on.has('narrowConv')) out = narrowConvAsMatmul(out);
  if (on.has('fold')) out = constantFold(out, weights);
  return out;
}

/** Whether every value of the graph has a concrete shape (the passes need one). */
export function isConcrete(g: Graph): boolean {
  for (const v of g.values.values()) if (v.shape.some((d) => typeof d !== 'number')) return false;
  return true;
}
