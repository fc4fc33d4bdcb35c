/**
 * `--precision fp32|int8` for `stc run`, `stc apply`, `stc compile` and `stc export`: int8 is stc's static
 * QDQ int8 model (backends/onnx/quantize.ts, ONNX Runtime only). `--quantize int8`, the flag compile and
 * export had first, is kept as another spelling of `--precision int8`.
 */
import { UserError } from '../util/errors.ts';

export const PRECISIONS = ['fp32', 'int8'] as const;
export type Precision = (typeof PRECISIONS)[number];

export const PRECISION_FLAGS = '--precision <p>';
export const PRECISION_HELP = `numeric precision: ${PRECISIONS.join(', ')} (int8: quantised convs on ONNX Runtime; default fp32)`;

/** The precision asked for by `--precision` and/or the older `--quantize`; they must agree when both are given. */
export function parsePrecision(precision: string | undefined, quantize?: string): Precision {
  if (precision !== undefined && !(PRECISIONS as readonly string[]).includes(precision))
    throw new UserError(`unknown --precision '${precision}' (known: ${PRECISIONS.join(', ')})`);
  if (quantize !== undefined && quantize !== 'int8') throw new UserError(`unknown --quantize '${quantize}' (known: int8; or use --precision)`);
  if (precision !== undefined && quantize !== undefined && precision !== quantize)
    throw new UserError(`--precision ${precision} and --quantize ${quantize} disagree (--quantize int8 means --precision int8)`);
  return (precision ?? quantize ?? 'fp32') as Precision;
}
