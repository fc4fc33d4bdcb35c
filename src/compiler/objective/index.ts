export * from './types.ts';
export type { TermKind, TermTarget, TermRefresh, TargetContext, StepContext } from './term-kind.ts';
export { TermRegistry, termRegistry, registerTerm, BUILTIN_TERMS } from './registry.ts';
export { gram, contentLoss, styleLayerLoss, tvLoss, sumOfSquares } from './terms.ts';
export { assembleLoss, nameTerms, targetKey, termOutput, type NamedTerm, type LossContext, type AssembledLoss } from './assemble.ts';
export {
  buildObjectiveGraphs,
  buildTargetGraph,
  specialiseLossNet,
  contentTarget,
  styleTarget,
  featureOutput,
  LOSS,
  ObjectiveError,
  type ImageSize,
  type MaskInput,
  type ObjectiveBuildOptions,
  type ObjectiveGraphs,
} from './build.ts';
export { normaliseBlend, blendTargets } from './blend.ts';
export { withOverrides, type WeightOverrides } from './overrides.ts';
export { atScale } from './scale-weights.ts';
export { finishTargets, combineStyleTargets, refreshTargets } from './targets.ts';
export { downsampleMask, type Mask } from './masks.ts';
export { matchHistogram, sortedQuantiles } from './histogram-match.ts';
