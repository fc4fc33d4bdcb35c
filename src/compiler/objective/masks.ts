/**
 * Spatial-control masks (Gatys et al. 2017, "Controlling Perceptual Factors in Neural Style
 * Transfer", §5): a mask is a one-channel image in 0..1 at the output size; each tap sees it
 * downsampled to its own resolution by area averaging (every output cell is the mean of the mask
 * over the cell's footprint, fractional pixels weighted by their covered fraction), the paper's
 * choice for guidance channels and what keeps a region's share of positions the same at every tap.
 */
import type { HostTensor } from '../ir/types.ts';

export interface Mask {
  readonly width: number;
  readonly height: number;
  /** height × width values in 0..1, row-major. */
  readonly data: Float32Array;
}

/** Weights [out][in] of area averaging from n input cells to m output cells (rows sum to 1). */
function areaWeights(n: number, m: number): Float64Array {
  const w = new Float64Array(m * n);
  const step = n / m;
  for (let o = 0; o < m; o++) {
    const lo = o * step;
    const hi = lo + step;
    for (let i = Math.floor(lo); i < Math.min(n, Math.ceil(hi)); i++) w[o * n + i] = (Math.min(hi, i + 1) - Math.max(lo, i)) / step;
  }
  return w;
}

/** The mask at h × w, as a step input [1, 1, h, w]. */
export function downsampleMask(mask: Mask, h: number, w: number): HostTensor {
  const wy = areaWeights(mask.height, h);
  const wx = areaWeights(mask.width, w);
  const rows = new Float64Array(h * mask.width);
  for (let o = 0; o < h; o++)
    for (let i = 0; i < mask.height; i++) {
      const k = wy[o * mask.height + i]!;
      if (k) for (let x = 0; x < mask.width; x++) rows[o * mask.width + x]! += k * mask.data[i * mask.width + x]!;
    }
  const out = new Float32Array(h * w);
  for (let o = 0; o < h; o++)
    for (let p = 0; p < w; p++) {
      let s = 0;
      for (let x = 0; x < mask.width; x++) s += wx[p * mask.width + x]! * rows[o * mask.width + x]!;
      out[o * w + p] = s;
    }
  return { shape: [1, 1, h, w], data: out };
}
