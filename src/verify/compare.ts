/**
 * Comparing two tensors: the numbers a conformance check reports.
 *
 * For a candidate `a` and a reference `b` of the same shape:
 *
 *   maxAbs = max_i |a_i − b_i|
 *   scale  = max_i |b_i|
 *   relErr = maxAbs / scale        (0 when both are all zeros; Infinity when only b is)
 *
 * The error is relative to the reference's largest magnitude, not element by element:
 * a float32 computation is accurate relative to the size of the sums it forms, so tiny
 * entries (ReLU outputs near zero, cancelling sums) carry absolute, not relative, error.
 * A NaN anywhere on either side makes maxAbs NaN (never a pass). Shapes must be equal.
 */
import { sameShape } from '../compiler/ir/ops.ts';
import type { HostTensor } from '../compiler/ir/types.ts';

export interface TensorDiff {
  readonly maxAbs: number;
  readonly scale: number;
  readonly relErr: number;
  /** Flat index of the largest difference (-1 when the tensors are empty). */
  readonly worst: number;
}

/** max|a − b|, max|b| and their ratio, over tensors of equal shape. */
export function diffTensors(a: HostTensor, b: HostTensor): TensorDiff {
  if (!sameShape(a.shape, b.shape)) throw new Error(`diffTensors: shapes [${a.shape}] and [${b.shape}] differ`);
  let maxAbs = 0;
  let scale = 0;
  let worst = a.data.length > 0 ? 0 : -1;
  for (let i = 0; i < a.data.length; i++) {
    const x = a.data[i]!;
    const y = b.data[i]!;
    const d = Math.abs(x - y);
    if (Number.isNaN(d)) {
      if (!(Number.isNaN(x) && Number.isNaN(y))) return { maxAbs: NaN, scale: NaN, relErr: NaN, worst: i };
      continue;
    }
    if (d > maxAbs) {
      maxAbs = d;
      worst = i;
    }
    const m = Math.abs(y);
    if (m > scale) scale = m;
  }
  return { maxAbs, scale, relErr: relativeError(maxAbs, scale), worst };
}

/** maxAbs / scale, with 0/0 = 0. */
export function relativeError(maxAbs: number, scale: number): number {
  if (maxAbs === 0) return 0;
  return scale === 0 ? Infinity : maxAbs / scale;
}

/** The first `count` items along axis 0 (a view when possible). */
export function leadingItems(t: HostTensor, count: number): HostTensor {
  if (t.shape.length === 0 || t.shape[0]! < count) throw new Error(`leadingItems: tensor [${t.shape}] has fewer than ${count} items`);
  const per = t.shape.slice(1).reduce((a, b) => a * b, 1);
  return { shape: [count, ...t.shape.slice(1)], data: t.data.subarray(0, count * per) };
}

/** Multi-index of a flat C-order index (for reporting where the worst difference lies). */
export function unravel(flat: number, shape: readonly number[]): number[] {
  const idx = new Array<number>(shape.length).fill(0);
  for (let k = shape.length - 1; k >= 0; k--) {
    const d = shape[k]!;
    idx[k] = flat % d;
    flat = Math.floor(flat / d);
  }
  return idx;
}
