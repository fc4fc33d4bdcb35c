/**
 * Radix-2 complex FFTs on split real/imaginary float64 arrays.
 *
 * Convention: the forward transform is unnormalised,
 *   X[k] = Σ_n x[n] · exp(−2πi·k·n/N),
 * and the inverse carries the 1/N factor,
 *   x[n] = (1/N) Σ_k X[k] · exp(+2πi·k·n/N),
 * so inverse(forward(x)) = x. In 2-D the same holds with N = height · width.
 */

export function isPowerOfTwo(n: number): boolean {
  return Number.isInteger(n) && n >= 1 && (n & (n - 1)) === 0;
}

/** The smallest power of two ≥ n (n ≥ 1). */
export function nextPowerOfTwo(n: number): number {
  let p = 1;
  while (p < n) p *= 2;
  return p;
}

/** Precomputed twiddles and bit-reversal permutation for one length. */
export class FftPlan {
  readonly n: number;
  private readonly cos: Float64Array;
  private readonly sin: Float64Array;
  private readonly rev: Uint32Array;

  constructor(n: number) {
    if (!isPowerOfTwo(n)) throw new Error(`FftPlan: length ${n} is not a power of two`);
    this.n = n;
    this.cos = new Float64Array(n / 2);
    this.sin = new Float64Array(n / 2);
    for (let k = 0; k < n / 2; k++) {
      this.cos[k] = Math.cos((2 * Math.PI * k) / n);
      this.sin[k] = Math.sin((2 * Math.PI * k) / n);
    }
    this.rev = new Uint32Array(n);
    const bits = Math.round(Math.log2(n));
    for (let i = 0; i < n; i++) {
      let r = 0;
      for (let b = 0; b < bits; b++) r |= ((i >> b) & 1) << (bits - 1 - b);
      this.rev[i] = r;
    }
  }

  /**
   * In-place transform of re/im[offset .. offset + n). Unnormalised in both
   * directions: the caller applies 1/N after an inverse (see Fft2dPlan).
   */
  transform(re: Float64Array, im: Float64Array, inverse: boolean, offset = 0): void {
    const n = this.n;
    const rev = this.rev;
    for (let i = 0; i < n; i++) {
      const j = rev[i];
      if (j > i) {
        const a = offset + i;
        const b = offset + j;
        const tr = re[a];
        re[a] = re[b];
        re[b] = tr;
        const ti = im[a];
        im[a] = im[b];
        im[b] = ti;
      }
    }
    const cos = this.cos;
    const sin = this.sin;
    const sign = inverse ? 1 : -1;
    for (let size = 2; size <= n; size <<= 1) {
      const half = size >> 1;
      const step = n / size;
      for (let j = 0; j < half; j++) {
        const wr = cos[j * step];
        const wi = sign * sin[j * step];
        for (let start = offset + j; start < offset + n; start += size) {
          const b = start + half;
          const br = re[b];
          const bi = im[b];
          const tr = br * wr - bi * wi;
          const ti = br * wi + bi * wr;
          const ar = re[start];
          const ai = im[start];
          re[b] = ar - tr;
          im[b] = ai - ti;
          re[start] = ar + tr;
          im[start] = ai + ti;
        }
      }
    }
  }
}

/** A 2-D transform over row-major height × width arrays (both powers of two). */
export class Fft2dPlan {
  readonly height: number;
  readonly width: number;
  private readonly rows: FftPlan;
  private readonly cols: FftPlan;
  private readonly colRe: Float64Array;
  private readonly colIm: Float64Array;

  constructor(height: number, width: number) {
    this.height = height;
    this.width = width;
    this.rows = new FftPlan(width);
    this.cols = height === width ? this.rows : new FftPlan(height);
    this.colRe = new Float64Array(height);
    this.colIm = new Float64Array(height);
  }

  /**
   * Forward 2-D FFT in place. Rows at index ≥ nonZeroRows must be zero on
   * entry; their row transforms are skipped (the transform of zero is zero).
   */
  forward(re: Float64Array, im: Float64Array, nonZeroRows = this.height): void {
    const { height, width } = this;
    for (let y = 0; y < Math.min(nonZeroRows, height); y++) this.rows.transform(re, im, false, y * width);
    this.columns(re, im, false);
  }

  /**
   * Inverse 2-D FFT in place, including the 1/(height·width) factor. Only rows
   * below neededRows are finished; later rows are left in an intermediate state.
   */
  inverse(re: Float64Array, im: Float64Array, neededRows = this.height): void {
    const { height, width } = this;
    this.columns(re, im, true);
    const scale = 1 / (height * width);
    const rows = Math.min(neededRows, height);
    for (let y = 0; y < rows; y++) {
      const o = y * width;
      this.rows.transform(re, im, true, o);
      for (let x = o; x < o + width; x++) {
        re[x] *= scale;
        im[x] *= scale;
      }
    }
  }

  private columns(re: Float64Array, im: Float64Array, inverse: boolean): void {
    const { height, width, colRe, colIm } = this;
    for (let x = 0; x < width; x++) {
      for (let y = 0, i = x; y < height; y++, i += width) {
        colRe[y] = re[i];
        colIm[y] = im[i];
      }
      this.cols.transform(colRe, colIm, inverse);
      for (let y = 0, i = x; y < height; y++, i += width) {
        re[i] = colRe[y];
        im[i] = colIm[y];
      }
    }
  }
}
