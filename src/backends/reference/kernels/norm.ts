/**
 * Normalisation with ONNX semantics.
 * batchNorm (inference): y = scale * (x - mean) / sqrt(var + eps) + bias, per channel.
 * instanceNorm: per (n, c) plane, mu = mean(x), var = mean((x - mu)^2) (biased, divide by H*W),
 * y = scale * (x - mu) / sqrt(var + eps) + bias.
 */
import type { NormAttrs } from '../../../compiler/ir/types.ts';
import { type Float64Tensor, zeros } from '../tensor.ts';

function perChannel(t: Float64Tensor | undefined, c: number, fallback: number): number {
  return t ? t.data[c]! : fallback;
}

export function batchNorm(x: Float64Tensor, scale: Float64Tensor | undefined, bias: Float64Tensor | undefined, mean: Float64Tensor, variance: Float64Tensor, a: NormAttrs): Float64Tensor {
  const [N, C, H, W] = x.shape as [number, number, number, number];
  const y = zeros(x.shape);
  const hw = H * W;
  for (let n = 0; n < N; n++)
    for (let c = 0; c < C; c++) {
      const k = perChannel(scale, c, 1) / Math.sqrt(variance.data[c]! + a.epsilon);
      const m = mean.data[c]!;
      const bb = perChannel(bias, c, 0);
      const base = (n * C + c) * hw;
      for (let i = 0; i < hw; i++) y.data[base + i] = (x.data[base + i]! - m) * k + bb;
    }
  return y;
}

export function instanceNorm(x: Float64Tensor, scale: Float64Tensor | undefined, bias: Float64Tensor | undefined, a: NormAttrs): Float64Tensor {
  const [N, C, H, W] = x.shape as [number, number, number, number];
  const y = zeros(x.shape);
  const hw = H * W;
  for (let n = 0; n < N; n++)
    for (let c = 0; c < C; c++) {
      const base = (n * C + c) * hw;
      let mu = 0;
      for (let i = 0; i < hw; i++) mu += x.data[base + i]!;
      mu /= hw;
      let v = 0;
      for (let i = 0; i < hw; i++) v += (x.data[base + i]! - mu) ** 2;
      v /= hw;
      const k = perChannel(scale, c, 1) / Math.sqrt(v + a.epsilon);
      const bb = perChannel(bias, c, 0);
      for (let i = 0; i < hw; i++) y.data[base + i] = (x.data[base + i]! - mu) * k + bb;
    }
  return y;
}
