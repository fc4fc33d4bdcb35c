/**
 * Histogram matching of feature maps, on the host (sorting is not an IR op).
 *
 * A style's histogram per channel is kept as its sorted values resampled to a fixed count of
 * quantiles (`sortedQuantiles`): quantile i of n is the value at rank i·(M_s − 1)/(n − 1), linearly
 * interpolated. Quantile functions blend linearly (the 1-D Wasserstein barycentre of several styles).
 * `matchHistogram` remaps a feature map so that each channel takes the style's quantiles in the
 * order of its own values (exact histogram specification with n = H·W quantiles; Risser, Wilmot &
 * Barnes 2017, §4.2: the remapped map is the nearest, in L2, with the style's histogram).
 */
import type { HostTensor } from '../ir/types.ts';

/** f [1, C, H, W] (or [1, C, M]) -> [1, C, n]: each channel's sorted values resampled to n quantiles. */
export function sortedQuantiles(f: HostTensor, n: number): HostTensor {
  const c = f.shape[1]!;
  const m = f.data.length / c;
  const out = new Float32Array(c * n);
  const buf = new Float64Array(m);
  for (let ch = 0; ch < c; ch++) {
    for (let i = 0; i < m; i++) buf[i] = f.data[ch * m + i]!;
    buf.sort();
    for (let i = 0; i < n; i++) {
      const r = n === 1 ? (m - 1) / 2 : (i * (m - 1)) / (n - 1);
      const lo = Math.floor(r);
      const hi = Math.min(m - 1, lo + 1);
      out[ch * n + i] = buf[lo]! + (r - lo) * (buf[hi]! - buf[lo]!);
    }
  }
  return { shape: [1, c, n], data: out };
}

/**
 * f [1, C, H, W], quantiles [1, C, H·W] (sorted per channel) -> r [1, C, H, W]: in each channel the
 * position holding the k-th smallest value of f gets the k-th quantile (ties keep index order).
 */
export function matchHistogram(f: HostTensor, quantiles: HostTensor): HostTensor {
  const c = f.shape[1]!;
  const m = f.data.length / c;
  if (quantiles.data.length !== c * m) throw new Error(`matchHistogram: ${quantiles.data.length / c} quantiles per channel for ${m} positions`);
  const out = new Float32Array(f.data.length);
  const order = new Uint32Array(m);
  for (let ch = 0; ch < c; ch++) {
    const base = ch * m;
    for (let i = 0; i < m; i++) order[i] = i;
    order.sort((a, b) => f.data[base + a]! - f.data[base + b]! || a - b);
    for (let k = 0; k < m; k++) out[base + order[k]!] = quantiles.data[base + k]!;
  }
  return { shape: [...f.shape], data: out };
}
