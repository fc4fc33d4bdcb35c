/**
 * `--predictor-precision auto|float32|int8` for `stc transfer` and `stc export SPEC.style` (the style predictor;
 * runtime/arbitrary/predictor-precision.ts has the rule 'auto' follows). `--predictor-int8`, the flag these
 * commands had first, is kept as another spelling of `--predictor-precision int8`.
 */
import { PREDICTOR_PRECISIONS, type PredictorPrecision } from '../runtime/arbitrary/predictor-precision.ts';
import { UserError } from '../util/errors.ts';

export const PREDICTOR_PRECISION_FLAGS = '--predictor-precision <p>';
export const PREDICTOR_PRECISION_HELP =
  `style predictor precision: ${PREDICTOR_PRECISIONS.join(', ')} (default auto: int8 on the CPU when the predictor's weights file carries ` +
  "activation scales, as Magenta's .tflite predictor does, else float32; int8 needs --device cpu and an ONNX target, and on a file " +
  'without activation scales it is calibrated on noise images at load)';
export const PREDICTOR_INT8_HELP = 'the same as --predictor-precision int8 (the older spelling)';

/** The precision `--predictor-precision` and/or `--predictor-int8` ask for; they must agree when both are given. */
export function parsePredictorPrecision(precision: string | undefined, int8: boolean | undefined): PredictorPrecision {
  if (precision !== undefined && !(PREDICTOR_PRECISIONS as readonly string[]).includes(precision))
    throw new UserError(`unknown --predictor-precision '${precision}' (known: ${PREDICTOR_PRECISIONS.join(', ')})`);
  if (int8 && precision !== undefined && precision !== 'int8')
    throw new UserError(`--predictor-int8 and --predictor-precision ${precision} disagree (--predictor-int8 means --predictor-precision int8)`);
  return int8 ? 'int8' : ((precision ?? 'auto') as PredictorPrecision);
}
