/**
 * Blending the style targets of several style images: A_l = Σ_k b_k A_l^(k).
 * Blend weights are normalised to sum to 1, so `--style-blend 7,3` equals `0.7,0.3`
 * and the style loss keeps the scale of a single style image.
 */
import type { HostTensor } from '../ir/types.ts';

/** Validated, normalised blend weights for `count` styles (equal weights when absent). */
export function normaliseBlend(count: number, weights?: readonly number[]): number[] {
  if (count < 1) throw new RangeError('at least one style image is needed');
  if (!weights) return new Array<number>(count).fill(1 / count);
  if (weights.length !== count) throw new RangeError(`${weights.length} blend weights for ${count} style images`);
  if (weights.some((w) => !Number.isFinite(w) || w < 0)) throw new RangeError('blend weights must be finite and non-negative');
  const total = weights.reduce((a, b) => a + b, 0);
  if (!(total > 0)) throw new RangeError('blend weights must not all be zero');
  return weights.map((w) => w / total);
}

/** Weighted sum of per-style target maps (same keys and shapes in each). */
export function blendTargets(perStyle: readonly Readonly<Record<string, HostTensor>>[], weights: readonly number[]): Record<string, HostTensor> {
  if (perStyle.length !== weights.length) throw new Error(`blendTargets: ${perStyle.length} target sets, ${weights.length} weights`);
  const out: Record<string, HostTensor> = {};
  for (const key of Object.keys(perStyle[0]!)) {
    const first = perStyle[0]![key]!;
    const data = new Float32Array(first.data.length);
    perStyle.forEach((targets, k) => {
      const t = targets[key];
      if (!t || t.data.length !== data.length) throw new Error(`blendTargets: style ${k} lacks a matching ${key}`);
      const w = weights[k]!;
      for (let i = 0; i < data.length; i++) data[i]! += w * t.data[i]!;
    });
    out[key] = { shape: first.shape, data };
  }
  return out;
}
