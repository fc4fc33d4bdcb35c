/**
 * `--precision fp32|int8|fp16` for `stc run`, `stc apply`, `stc compile` and `stc export`: int8 is stc's static
 * QDQ int8 model (backends/onnx/quantize.ts, ONNX Runtime only). `--quantize int8`, the flag compile and
 * export had first, is kept as another spelling of `--precision int8`. fp16 is a float16 ONNX model
 * (backends/onnx/float16.ts): files for GPUs and the browser's WebGPU, and run/apply on `--device gpu` only.
 */
import { UserError } from '../util/errors.ts';

export const PRECISIONS = ['fp32', 'int8', 'fp16'] as const;
export type Precision = (typeof PRECISIONS)[number];

export const PRECISION_FLAGS = '--precision <p>';
export const PRECISION_HELP = `numeric precision: ${PRECISIONS.join(', ')} (int8: quantised convs on ONNX Runtime; fp16: float16 weights and compute, for GPUs (WebGPU needs shader-f16); default fp32)`;

/** The precision asked for by `--precision` and/or the older `--quantize`; they must agree when both are given. */
export function parsePrecision(precision: string | undefined, quantize?: string): Precision {
  if (precision !== undefined && !(PRECISIONS as readonly string[]).includes(precision))
    throw new UserError(`unknown --precision '${precision}' (known: ${PRECISIONS.join(', ')})`);
  if (quantize !== undefined && quantize !== 'int8') throw new UserError(`unknown --quantize '${quantize}' (known: int8; or use --precision)`);
  if (precision !== undefined && quantize !== undefined && precision !== quantize)
    throw new UserError(`--precision ${precision} and --quantize ${quantize} disagree (--quantize int8 means --precision int8)`);
  return (precision ?? quantize ?? 'fp32') as Precision;
}

/**
 * `run`/`apply --precision fp16` need `--device gpu`. ONNX Runtime's CPU provider has no float16 kernels for
 * these networks on x86: it wraps every float16 node in Casts back to float32 (44 Casts in the fast-style network's optimised graph), so a
 * float16 model computes in float32 there and only runs slower (docs/benchmarks.md, "fp16 inference").
 */
export function checkFloat16Device(precision: Precision, device: string | undefined): void {
  if (precision === 'fp16' && device !== 'gpu')
    throw new UserError(
      "--precision fp16 runs on --device gpu: ONNX Runtime's CPU provider computes float16 models in float32 behind Casts, slower than fp32; " +
        'for a float16 file (WebGPU, the browser), use stc export or stc compile --precision fp16',
    );
}
