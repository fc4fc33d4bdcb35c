/** Image quilting (Efros & Freeman, SIGGRAPH 2001): texture synthesis and texture transfer. */
export { synthesizeTexture, DEFAULT_SEED, DEFAULT_TOLERANCE, type SynthesisOptions } from './synthesize.ts';
export {
  transferTexture,
  transferSchedule,
  DEFAULT_ALPHA,
  DEFAULT_BLUR_SIGMA,
  type CorrespondenceMap,
  type PassSchedule,
  type TransferOptions,
} from './transfer.ts';
export type { QuiltProgress, QuiltProgressCallback } from './progress.ts';
export { defaultOverlap } from './layout.ts';
export { checkQuiltWork, estimateQuiltWork, QUILT_MAX_WORK } from './work.ts';
