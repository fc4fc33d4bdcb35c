/**
 * Colour preservation for neural style transfer (Gatys, Bethge, Hertzmann & Shechtman 2016,
 * "Preserving color in neural artistic style transfer"; Gatys et al. 2017, "Controlling
 * perceptual factors in neural style transfer", §5). Two methods:
 *
 * - Luminance-only transfer (`transferLuminance`): after stylisation, keep the stylised
 *   image's luminance Y and the content image's chroma (I, Q) in YIQ (NTSC 1953 matrix).
 * - Colour histogram matching (`matchColour`): before stylisation, map the style image's pixels
 *   by x' = A (x − μ_s) + μ_c so that their mean and 3×3 covariance equal the content's, with
 *   A = L_c L_s⁻¹ from Cholesky factors Σ = L Lᵀ (then A Σ_s Aᵀ = L_c L_cᵀ = Σ_c).
 *   A ridge of 1e-6·(1 + trace/3)·I keeps flat (rank-deficient) images factorisable.
 *
 * Images are planar RGB in 0..255 (RgbImage); results are clamped to 0..255.
 */
import type { RgbImage } from './image-types.ts';

type M3 = [number, number, number, number, number, number, number, number, number];

/** RGB -> YIQ (rows Y, I, Q). */
export const RGB_TO_YIQ: M3 = [0.299, 0.587, 0.114, 0.595716, -0.274453, -0.321263, 0.211456, -0.522591, 0.311135];
export const YIQ_TO_RGB: M3 = invert3(RGB_TO_YIQ);

export function invert3(m: M3): M3 {
  const [a, b, c, d, e, f, g, h, i] = m;
  const A = e * i - f * h;
  const B = -(d * i - f * g);
  const C = d * h - e * g;
  const det = a * A + b * B + c * C;
  if (Math.abs(det) < 1e-300) throw new Error('invert3: singular matrix');
  return [A / det, -(b * i - c * h) / det, (b * f - c * e) / det, B / det, (a * i - c * g) / det, -(a * f - c * d) / det, C / det, -(a * h - b * g) / det, (a * e - b * d) / det];
}

function mul3(a: M3, b: M3): M3 {
  const r = new Array<number>(9).fill(0) as M3;
  for (let i = 0; i < 3; i++) for (let j = 0; j < 3; j++) for (let k = 0; k < 3; k++) r[i * 3 + j] += a[i * 3 + k]! * b[k * 3 + j]!;
  return r;
}

/** Lower-triangular L with L Lᵀ = s (s symmetric positive definite). */
export function cholesky3(s: M3): M3 {
  const l = new Array<number>(9).fill(0) as M3;
  for (let i = 0; i < 3; i++)
    for (let j = 0; j <= i; j++) {
      let sum = s[i * 3 + j]!;
      for (let k = 0; k < j; k++) sum -= l[i * 3 + k]! * l[j * 3 + k]!;
      if (i === j) {
        if (!(sum > 0)) throw new Error('cholesky3: matrix is not positive definite');
        l[i * 3 + i] = Math.sqrt(sum);
      } else l[i * 3 + j] = sum / l[j * 3 + j]!;
    }
  return l;
}

export interface ColourStats {
  readonly mean: readonly [number, number, number];
  /** Population covariance (divided by the pixel count), row-major 3×3. */
  readonly cov: readonly number[];
}

export function colourStats(img: RgbImage): ColourStats {
  const n = img.width * img.height;
  const d = img.data;
  const mean: [number, number, number] = [0, 0, 0];
  for (let c = 0; c < 3; c++) {
    let s = 0;
    for (let p = 0; p < n; p++) s += d[c * n + p]!;
    mean[c] = s / n;
  }
  const cov = new Array<number>(9).fill(0);
  for (let p = 0; p < n; p++) {
    const r = d[p]! - mean[0];
    const g = d[n + p]! - mean[1];
    const b = d[2 * n + p]! - mean[2];
    const v = [r, g, b];
    for (let i = 0; i < 3; i++) for (let j = 0; j < 3; j++) cov[i * 3 + j]! += v[i]! * v[j]!;
  }
  return { mean, cov: cov.map((v) => v / n) };
}

function apply3(img: RgbImage, m: M3, offsetIn: readonly number[], offsetOut: readonly number[]): RgbImage {
  const n = img.width * img.height;
  const out = new Float32Array(3 * n);
  const d = img.data;
  for (let p = 0; p < n; p++) {
    const v0 = d[p]! - offsetIn[0]!;
    const v1 = d[n + p]! - offsetIn[1]!;
    const v2 = d[2 * n + p]! - offsetIn[2]!;
    for (let c = 0; c < 3; c++) {
      const x = m[c * 3]! * v0 + m[c * 3 + 1]! * v1 + m[c * 3 + 2]! * v2 + offsetOut[c]!;
      out[c * n + p] = Math.min(255, Math.max(0, x));
    }
  }
  return { width: img.width, height: img.height, data: out };
}

/** Map `style`'s colours so their mean and covariance match `content`'s (Cholesky transform). */
export function matchColour(style: RgbImage, content: RgbImage): RgbImage {
  const s = colourStats(style);
  const c = colourStats(content);
  const ridge = (cov: readonly number[]): M3 => {
    const eps = 1e-6 * (1 + (cov[0]! + cov[4]! + cov[8]!) / 3);
    return cov.map((v, i) => (i % 4 === 0 ? v + eps : v)) as M3;
  };
  const a = mul3(cholesky3(ridge(c.cov)), invert3(cholesky3(ridge(s.cov))));
  return apply3(style, a, s.mean, c.mean);
}

/** The stylised image's luminance with the content image's chroma (YIQ). Same sizes required. */
export function transferLuminance(stylised: RgbImage, content: RgbImage): RgbImage {
  if (stylised.width !== content.width || stylised.height !== content.height)
    throw new Error(`transferLuminance: sizes differ (${stylised.width}x${stylised.height} vs ${content.width}x${content.height})`);
  const n = stylised.width * stylised.height;
  const yiq = new Float32Array(3 * n);
  const [y0, y1, y2] = RGB_TO_YIQ;
  const s = stylised.data;
  const c = content.data;
  for (let p = 0; p < n; p++) {
    yiq[p] = y0 * s[p]! + y1 * s[n + p]! + y2 * s[2 * n + p]!;
    for (let k = 1; k < 3; k++) yiq[k * n + p] = RGB_TO_YIQ[k * 3]! * c[p]! + RGB_TO_YIQ[k * 3 + 1]! * c[n + p]! + RGB_TO_YIQ[k * 3 + 2]! * c[2 * n + p]!;
  }
  return apply3({ width: stylised.width, height: stylised.height, data: yiq }, YIQ_TO_RGB, [0, 0, 0], [0, 0, 0]);
}

export type ColourPreservation = 'luminance' | 'histogram';
