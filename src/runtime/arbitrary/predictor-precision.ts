/**
 * The precision the style predictor runs in. Magenta's predictor is an int8 model: its .tflite file carries
 * each activation's scale, and quantising stc's QDQ model on exactly those scales gives vectors closer to
 * TFLite's than float32 does, and predicts faster on ONNX Runtime's CPU provider (docs/benchmarks.md, "TFLite's
 * activation scales instead of calibration", has the figures). So
 * 'auto' runs int8 where that holds, the CPU with a weights file that has activation scales, and float32
 * elsewhere: on the GPU (no int8 QDQ kernels to speak of), for a tfjs export (the tfjs backend has no int8
 * predictor, so a tfjs export bakes the vector a float32 predictor computes), and for a float weights file,
 * where int8 would need calibration, which costs load time and comes out less close (0.9997-0.9998).
 */
import type { Device } from '../../backends/types.ts';
import { UserError } from '../../util/errors.ts';

export const PREDICTOR_PRECISIONS = ['auto', 'float32', 'int8'] as const;
export type PredictorPrecision = (typeof PREDICTOR_PRECISIONS)[number];

/** Where the predictor runs and what its vector is for. */
export interface PrecisionContext {
  /** ONNX Runtime's device for the predictor; default 'cpu'. */
  readonly device?: Device;
  /** The backend the vector is baked for (`stc export --target`); default 'onnx'. */
  readonly target?: 'onnx' | 'tfjs';
}

/**
 * What to build before the weights file has been looked at: 'float32'; 'int8' (on the file's activation
 * scales, else calibrated); or 'int8-if-scales' (int8 only when the file carries activation scales, else
 * float32). A UserError where int8 is asked for and cannot run.
 */
export function predictorPrecisionPlan(asked: PredictorPrecision, ctx: PrecisionContext = {}): 'float32' | 'int8' | 'int8-if-scales' {
  const where = ctx.device === 'gpu' ? 'on the GPU' : ctx.target === 'tfjs' ? 'for a tfjs export' : undefined;
  if (asked === 'int8' && where !== undefined)
    throw new UserError(`the int8 style predictor runs on ONNX Runtime's CPU provider only, not ${where}: use predictor precision float32 or auto`);
  if (asked === 'auto') return where === undefined ? 'int8-if-scales' : 'float32';
  return asked;
}

/** The precision the predictor runs in, given whether its weights file carries activation scales. */
export function resolvePredictorPrecision(asked: PredictorPrecision, ctx: PrecisionContext, fileHasActivationScales: boolean): 'float32' | 'int8' {
  const plan = predictorPrecisionPlan(asked, ctx);
  return plan === 'int8-if-scales' ? (fileHasActivationScales ? 'int8' : 'float32') : plan;
}
