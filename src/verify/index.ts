/** Conformance checking: the same network on every backend, and against PyTorch goldens. */
export { verifyNetwork, DEFAULT_VERIFY_SIZE, DEFAULT_REFERENCE_BUDGET_FLOPS, type VerifyOptions } from './network.ts';
export { runConformance, compareOutput, type ConformanceCase, type ConformanceOptions, type ConformanceResult } from './engine.ts';
export { diffTensors, relativeError, leadingItems, unravel, type TensorDiff } from './compare.ts';
export { DEFAULT_TOLERANCES, toleranceFor, type PairKey } from './tolerances.ts';
export {
  GOLDEN_BINDINGS,
  DEFAULT_GOLDENS_DIR,
  goldenDataDir,
  goldenBindingFor,
  listGoldenCases,
  loadGoldenCase,
  readGoldenTensor,
  sameWeightPath,
  type GoldenBinding,
  type GoldenCase,
  type GoldenTensorSpec,
} from './goldens.ts';
export { hashInitWeights } from './hash-init.ts';
export { fnv1a32, hashU32, lowbias32, uniformTensor } from './det.ts';
export * from './types.ts';
