/**
 * Style-vector arithmetic of arbitrary style transfer (Ghiasi et al., BMVC 2017, sec. 5): the transformation
 * network is conditioned on a point of the style embedding, so mixing styles and weakening a style are
 * convex combinations of style vectors (their fig. 8 and 9).
 */
import type { HostTensor } from '../../compiler/ir/types.ts';
import { UserError } from '../../util/errors.ts';

/** Weights for `n` styles: the given ones normalised to sum 1, or equal weights. */
export function blendWeights(n: number, given?: readonly number[]): number[] {
  if (!given) return new Array<number>(n).fill(1 / n);
  if (given.length !== n) throw new UserError(`--style-blend has ${given.length} weight(s) for ${n} style image(s)`);
  if (given.some((w) => !Number.isFinite(w) || w < 0)) throw new UserError('--style-blend weights must be non-negative numbers');
  const sum = given.reduce((a, b) => a + b, 0);
  if (sum <= 0) throw new UserError('--style-blend weights must not all be zero');
  return given.map((w) => w / sum);
}

/** Σ_i w_i v_i over vectors of one shape (w from blendWeights). */
export function blendVectors(vectors: readonly HostTensor[], weights: readonly number[]): HostTensor {
  const first = vectors[0];
  if (!first) throw new Error('blendVectors: no vectors');
  const out = new Float32Array(first.data.length);
  vectors.forEach((v, i) => {
    if (v.data.length !== out.length) throw new Error(`blendVectors: vector ${i} has ${v.data.length} values, not ${out.length}`);
    for (let k = 0; k < out.length; k++) out[k] = out[k]! + weights[i]! * v.data[k]!;
  });
  return { shape: [...first.shape], data: out };
}

/**
 * Stylisation strength s in [0, 1]: s · style + (1 − s) · content, where `content` is the style vector of the
 * content image itself (s = 0 reproduces the network's own rendering of the photo; Ghiasi et al. fig. 9).
 */
export function withStrength(style: HostTensor, content: HostTensor, strength: number): HostTensor {
  if (!(strength >= 0 && strength <= 1)) throw new UserError(`--strength must be between 0 and 1, got ${strength}`);
  return blendVectors([style, content], [strength, 1 - strength]);
}
