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

  /** The bit-reversal permutation of 0 .. n − 1 (a copy). */
  bitReversal(): Uint32Array {
    return this.rev.slice();
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

/**
 * A 2-D transform over row-major height × width arrays (both powers of two).
 * Rows are transformed one by one; columns are transformed all at once, each
 * butterfly acting on whole rows (contiguous memory, no gathering), and
 * butterflies between two all-zero rows are skipped, so a forward transform
 * of data with only m non-zero leading rows costs O(N log m) in its column pass.
 */
export class Fft2dPlan {
  readonly height: number;
  readonly width: number;
  private readonly rowPlan: FftPlan;
  private readonly cos: Float64Array;
  private readonly sin: Float64Array;
  private readonly rev: Uint32Array;
  private readonly live: Uint8Array;
  private readonly rowRe: Float64Array;
  private readonly rowIm: Float64Array;

  constructor(height: number, width: number) {
    if (!isPowerOfTwo(height) || !isPowerOfTwo(width)) throw new Error(`Fft2dPlan: ${height}x${width} is not a power of two`);
    this.height = height;
    this.width = width;
    this.rowPlan = new FftPlan(width);
    this.cos = new Float64Array(height / 2);
    this.sin = new Float64Array(height / 2);
    for (let k = 0; k < height / 2; k++) {
      this.cos[k] = Math.cos((2 * Math.PI * k) / height);
      this.sin[k] = Math.sin((2 * Math.PI * k) / height);
    }
    this.rev = new FftPlan(height).bitReversal();
    this.live = new Uint8Array(height);
    this.rowRe = new Float64Array(width);
    this.rowIm = new Float64Array(width);
  }

  /**
   * Forward 2-D FFT in place. Rows at index ≥ nonZeroRows must be zero on
   * entry; their transforms are skipped (the transform of zero is zero).
   */
  forward(re: Float64Array, im: Float64Array, nonZeroRows = this.height): void {
    const rows = Math.min(nonZeroRows, this.height);
    for (let y = 0; y < rows; y++) this.rowPlan.transform(re, im, false, y * this.width);
    this.columns(re, im, false, rows);
  }

  /**
   * Inverse 2-D FFT in place, including the 1/(height·width) factor. Only rows
   * below neededRows are finished; later rows are left in an intermediate state.
   */
  inverse(re: Float64Array, im: Float64Array, neededRows = this.height): void {
    const { height, width } = this;
    this.columns(re, im, true, height);
    const scale = 1 / (height * width);
    const rows = Math.min(neededRows, height);
    for (let y = 0; y < rows; y++) {
      const o = y * width;
      this.rowPlan.transform(re, im, true, o);
      for (let x = o; x < o + width; x++) {
        re[x] *= scale;
        im[x] *= scale;
      }
    }
  }

  /**
   * Inverse 2-D FFT of the spectrum of a real signal, reading only columns
   * kx ≤ width/2 of re/im (the rest follow from Hermitian symmetry
   * X(−k) = conj X(k)). On return re holds the real result, 1/(height·width)
   * included, for rows below neededRows; everything else is scratch.
   * Costs about half of inverse(): half the columns, and rows two at a time.
   */
  inverseReal(re: Float64Array, im: Float64Array, neededRows = this.height): void {
    const { height, width, rowRe, rowIm } = this;
    const halfCols = width / 2 + 1;
    this.columns(re, im, true, height, halfCols);
    const scale = 1 / (height * width);
    const rows = Math.min(neededRows, height);
    for (let y = 0; y < rows; y += 2) {
      // Z = Q_y + i·Q_{y+1}, each Q extended to all kx by Q(W − kx) = conj Q(kx).
      const o1 = y * width;
      const second = y + 1 < height;
      const o2 = second ? o1 + width : o1;
      const k2 = second ? 1 : 0;
      for (let kx = 0; kx < width; kx++) {
        let ar: number;
        let ai: number;
        let br: number;
        let bi: number;
        if (kx < halfCols) {
          ar = re[o1 + kx];
          ai = im[o1 + kx];
          br = k2 * re[o2 + kx];
          bi = k2 * im[o2 + kx];
        } else {
          const m = width - kx;
          ar = re[o1 + m];
          ai = -im[o1 + m];
          br = k2 * re[o2 + m];
          bi = -k2 * im[o2 + m];
        }
        rowRe[kx] = ar - bi;
        rowIm[kx] = ai + br;
      }
      this.rowPlan.transform(rowRe, rowIm, true);
      for (let x = 0; x < width; x++) re[o1 + x] = rowRe[x] * scale;
      if (second) for (let x = 0; x < width; x++) re[o2 + x] = rowIm[x] * scale;
    }
  }

  /**
   * Transforms columns 0 .. columnCount − 1 (unnormalised); rows ≥ nonZeroRows
   * are zero on entry.
   */
  private columns(re: Float64Array, im: Float64Array, inverse: boolean, nonZeroRows: number, columnCount = this.width): void {
    const { height: n, width: w, rev, live, cos, sin } = this;
    live.fill(0);
    for (let i = 0; i < n; i++) {
      const j = rev[i];
      live[j] = i < nonZeroRows ? 1 : 0;
      if (j > i) {
        const a = i * w;
        const b = j * w;
        for (let x = 0; x < columnCount; x++) {
          const tr = re[a + x];
          re[a + x] = re[b + x];
          re[b + x] = tr;
          const ti = im[a + x];
          im[a + x] = im[b + x];
          im[b + x] = ti;
        }
      }
    }
    const sign = inverse ? 1 : -1;
    for (let size = 2; size <= n; size <<= 1) {
      const half = size >> 1;
      const step = n / size;
      for (let start = 0; start < n; start += size) {
        for (let j = 0; j < half; j++) {
          const ra = start + j;
          const rb = ra + half;
          if (live[ra] === 0 && live[rb] === 0) continue;
          const a = ra * w;
          const b = rb * w;
          if (live[rb] === 0) {
            // (x, 0) ↦ (x, x)
            re.copyWithin(b, a, a + columnCount);
            im.copyWithin(b, a, a + columnCount);
          } else {
            const wr = cos[j * step];
            const wi = sign * sin[j * step];
            for (let x = 0; x < columnCount; x++) {
              const br = re[b + x];
              const bi = im[b + x];
              const tr = br * wr - bi * wi;
              const ti = br * wi + bi * wr;
              const ar = re[a + x];
              const ai = im[a + x];
              re[b + x] = ar - tr;
              im[b + x] = ai - ti;
              re[a + x] = ar + tr;
              im[a + x] = ai + ti;
            }
          }
          live[ra] = 1;
          live[rb] = 1;
        }
      }
    }
  }
}
