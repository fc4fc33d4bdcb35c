/**
 * Dense float64 tensors for the reference interpreter: row-major (C order),
 * shape as plain numbers. Float64 so that finite-difference gradient checks
 * are limited by truncation error, not by rounding.
 */
import { numel } from '../../compiler/ir/ops.ts';
import type { HostTensor } from '../../compiler/ir/types.ts';

export interface Float64Tensor {
  readonly shape: readonly number[];
  readonly data: Float64Array;
}

/** Row-major strides of a shape. */
export function stridesOf(shape: readonly number[]): number[] {
  const s = new Array<number>(shape.length);
  let acc = 1;
  for (let i = shape.length - 1; i >= 0; i--) {
    s[i] = acc;
    acc *= shape[i]!;
  }
  return s;
}

export function zeros(shape: readonly number[]): Float64Tensor {
  return { shape: [...shape], data: new Float64Array(numel(shape)) };
}

export function tensor(shape: readonly number[], values: ArrayLike<number>): Float64Tensor {
  const n = numel(shape);
  if (values.length !== n) throw new Error(`tensor: ${values.length} values for shape [${shape}]`);
  return { shape: [...shape], data: Float64Array.from(values) };
}

/** Widen a float32 host tensor (or copy a float64 one) into a fresh float64 tensor. */
export function toFloat64(t: HostTensor | Float64Tensor): Float64Tensor {
  if (t.data.length !== numel(t.shape)) throw new Error(`toFloat64: ${t.data.length} values for shape [${t.shape}]`);
  return { shape: [...t.shape], data: Float64Array.from(t.data) };
}

/** Round to float32 for backends and callers that speak HostTensor. */
export function toHost(t: Float64Tensor): HostTensor {
  return { shape: [...t.shape], data: Float32Array.from(t.data) };
}
