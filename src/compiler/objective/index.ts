export * from './types.ts';
export { gram, contentLoss, styleLayerLoss, tvLoss, sumOfSquares } from './terms.ts';
export {
  buildObjectiveGraphs,
  specialiseLossNet,
  contentTarget,
  styleTarget,
  LOSS,
  ObjectiveError,
  type ImageSize,
  type ObjectiveBuildOptions,
  type ObjectiveGraphs,
} from './build.ts';
export { normaliseBlend, blendTargets } from './blend.ts';
