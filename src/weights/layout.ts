/**
 * Kernel layout conversion. Layouts name the axes of a 4-D kernel in memory:
 * O = output channels, I = input channels, H/W = kernel height/width.
 * stc's own layouts: conv OIHW, transposed conv IOHW (both as ONNX).
 * TensorFlow/Keras conv kernels are HWIO; TF transposed-conv kernels are [k, k, out, in] = HWOI.
 */
import type { HostTensor } from '../compiler/ir/types.ts';
import type { TensorLayout } from '../compiler/weights.ts';

export type KernelLayout = Exclude<TensorLayout, 'asis'>;

/** Permute a 4-D tensor: output axis i is input axis perm[i]. */
export function permute4(t: HostTensor, perm: readonly number[]): HostTensor {
  const s = t.shape;
  if (s.length !== 4) throw new Error(`permute4: expected a 4-D tensor, got [${s}]`);
  const outShape = perm.map((p) => s[p]!);
  const inStride = [s[1]! * s[2]! * s[3]!, s[2]! * s[3]!, s[3]!, 1];
  const st = perm.map((p) => inStride[p]!);
  const out = new Float32Array(t.data.length);
  const [A, B, C, D] = outShape as [number, number, number, number];
  let k = 0;
  for (let a = 0; a < A; a++)
    for (let b = 0; b < B; b++)
      for (let c = 0; c < C; c++) {
        const base = a * st[0]! + b * st[1]! + c * st[2]!;
        for (let d = 0; d < D; d++) out[k++] = t.data[base + d * st[3]!]!;
      }
  return { shape: outShape, data: out };
}

/** Shape a `from`-layout tensor of shape `shape` has in layout `to`. */
export function convertShape(shape: readonly number[], from: KernelLayout, to: KernelLayout): number[] {
  return [...to].map((axis) => shape[from.indexOf(axis)]!);
}

/** Convert a kernel between layouts (no-op when equal, or for non-4-D tensors such as biases). */
export function convertLayout(t: HostTensor, from: TensorLayout, to: TensorLayout): HostTensor {
  if (from === 'asis' || to === 'asis' || from === to || t.shape.length !== 4) return t;
  return permute4(t, [...to].map((axis) => from.indexOf(axis)));
}
