/**
 * The style's palette on an image: in YIQ (NTSC 1953, colour.ts's matrix) the chroma plane (I, Q) is mapped
 * by c' = A (c − μ) + μ_ref with A = L_ref L⁻¹ (2×2 Cholesky factors of the chroma covariances), so its
 * mean and covariance become the reference's (the method of colour.ts's matchColour, on chroma alone, as in
 * Gatys et al. 2017, "Controlling Perceptual Factors in Neural Style Transfer", §5, which matches
 * luminance and colour separately). The luminance Y is kept, or, with a luminance reference, shifted and
 * scaled to that reference's mean and standard deviation.
 *
 * Why Gatys needs it: from the default start the optimiser reaches the style's textures long before its
 * colour statistics; at the iteration counts people run, SqueezeNet outputs kept about half the
 * painting's saturation and a third of the photo's contrast (docs/quality.md). Starting from the content
 * in the style's palette, and handing the result the style's palette and the content's contrast, gives
 * pictures whose colours are the painting's.
 */
import { RGB_TO_YIQ, YIQ_TO_RGB } from '../colour.ts';
import type { RgbImage } from '../image-types.ts';

interface PlaneStats {
  readonly mean: readonly [number, number, number];
  /** Population standard deviation of Y. */
  readonly ySd: number;
  /** Chroma covariance [II, IQ, QQ]. */
  readonly cov: readonly [number, number, number];
}

function toYiq(img: RgbImage): Float64Array {
  const n = img.width * img.height;
  const d = img.data;
  const out = new Float64Array(3 * n);
  for (let p = 0; p < n; p++)
    for (let k = 0; k < 3; k++) out[k * n + p] = RGB_TO_YIQ[k * 3]! * d[p]! + RGB_TO_YIQ[k * 3 + 1]! * d[n + p]! + RGB_TO_YIQ[k * 3 + 2]! * d[2 * n + p]!;
  return out;
}

function planeStats(yiq: Float64Array, n: number): PlaneStats {
  const mean: [number, number, number] = [0, 0, 0];
  for (let k = 0; k < 3; k++) {
    let s = 0;
    for (let p = 0; p < n; p++) s += yiq[k * n + p]!;
    mean[k] = s / n;
  }
  let [yy, ii, iq, qq] = [0, 0, 0, 0];
  for (let p = 0; p < n; p++) {
    const y = yiq[p]! - mean[0];
    const i = yiq[n + p]! - mean[1];
    const q = yiq[2 * n + p]! - mean[2];
    yy += y * y;
    ii += i * i;
    iq += i * q;
    qq += q * q;
  }
  return { mean, ySd: Math.sqrt(yy / n), cov: [ii / n, iq / n, qq / n] };
}

/** Lower-triangular 2×2 Cholesky factor [l00, l10, l11] of [a, b; b, c], with a small ridge for flat images. */
function chol2([a, b, c]: readonly [number, number, number]): [number, number, number] {
  const eps = 1e-6 * (1 + (a + c) / 2);
  const l00 = Math.sqrt(a + eps);
  const l10 = b / l00;
  return [l00, l10, Math.sqrt(Math.max(eps, c + eps - l10 * l10))];
}

/**
 * `img` with `chromaRef`'s chroma mean and covariance; its luminance kept, or given `lumaRef`'s mean and
 * spread. Clamped to 0..255.
 */
export function matchPalette(img: RgbImage, chromaRef: RgbImage, lumaRef?: RgbImage): RgbImage {
  const n = img.width * img.height;
  const yiq = toYiq(img);
  const s = planeStats(yiq, n);
  const r = planeStats(toYiq(chromaRef), chromaRef.width * chromaRef.height);
  const [a0, a1, a2] = chol2(s.cov);
  const [b0, b1, b2] = chol2(r.cov);
  // A = L_r · L_s⁻¹, L_s⁻¹ = [1/a0, 0; −a1/(a0 a2), 1/a2].
  const A = [b0 / a0, 0, b1 / a0 - (b2 * a1) / (a0 * a2), b2 / a2];
  const luma = lumaRef ? planeStats(toYiq(lumaRef), lumaRef.width * lumaRef.height) : undefined;
  const ys = luma ? luma.ySd / Math.max(1e-6, s.ySd) : 1;
  const y0 = luma ? luma.mean[0] : s.mean[0];
  const out = new Float32Array(3 * n);
  for (let p = 0; p < n; p++) {
    const y = (yiq[p]! - s.mean[0]) * ys + y0;
    const i = yiq[n + p]! - s.mean[1];
    const q = yiq[2 * n + p]! - s.mean[2];
    const i2 = A[0]! * i + A[1]! * q + r.mean[1];
    const q2 = A[2]! * i + A[3]! * q + r.mean[2];
    for (let k = 0; k < 3; k++) out[k * n + p] = Math.min(255, Math.max(0, YIQ_TO_RGB[k * 3]! * y + YIQ_TO_RGB[k * 3 + 1]! * i2 + YIQ_TO_RGB[k * 3 + 2]! * q2));
  }
  return { width: img.width, height: img.height, data: out };
}
