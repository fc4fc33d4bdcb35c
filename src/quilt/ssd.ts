/**
 * Candidate errors for every source position at once.
 *
 * A query is a sum of weighted, masked SSD terms. Term t compares a template
 * T_t (one plane per source plane of its group g) with the source patch whose
 * top-left corner is p:
 *
 *   E(p) = Σ_t w_t Σ_{i,j} M_t(i,j) Σ_c (S_{g,c}(p + (i,j)) − T_{t,c}(i,j))²
 *
 * where the mask M_t = Σ_r m_r · 1[rect r] is a signed sum of rectangles (an
 * L-shaped overlap is left + top − corner). Expanding the square,
 *
 *   E(p) = Σ_t w_t Σ_r m_r · box_g(p + r)         (sum of squares: integral images)
 *        − 2 Σ_planes corr(S_plane, A_plane)(p)    (cross term: FFT correlation)
 *        + Σ_t w_t Σ_{i,j} M_t Σ_c T_{t,c}²        (a constant)
 *
 * with A_plane = Σ_{t in its group} w_t M_t T_{t,c}. The correlation
 * corr(S, A)(p) = Σ_{i,j} A(i,j) S(p + (i,j)) is IFFT(conj(FFT A) · FFT S) on a
 * power-of-two grid at least as large as the source, so no valid position
 * wraps around. Two real templates share one complex FFT (x = a + i·b).
 * Cost per query: ⌈planes/2⌉ forward and one inverse 2-D FFT, O(N log N) for
 * N = fftHeight · fftWidth, plus O(candidates · rects) lookups.
 */
import { Fft2dPlan, nextPowerOfTwo } from './fft.ts';
import { boxSum, squaresIntegral, type SquaresIntegral } from './integral.ts';

export interface PreparedSource {
  readonly width: number;
  readonly height: number;
  /** Planes per group, e.g. [3, 1] for RGB plus a correspondence map. */
  readonly groupSizes: readonly number[];
  readonly fftHeight: number;
  readonly fftWidth: number;
  /** @internal */ readonly plan: Fft2dPlan;
  /** @internal spectra of every source plane, groups flattened in order */
  readonly spectraRe: readonly Float64Array[];
  /** @internal */ readonly spectraIm: readonly Float64Array[];
  /** @internal one summed-area table of squares per group */
  readonly integrals: readonly SquaresIntegral[];
  /** @internal box sums of squares per (group, height, width), see boxSums */
  readonly boxCache: Map<string, Float64Array>;
  /** @internal scratch buffers, reused across queries (not re-entrant) */
  readonly scratch: { re: Float64Array; im: Float64Array; accRe: Float64Array; accIm: Float64Array };
}

/** Precomputes spectra and integral images of the source planes (each height × width, row-major). */
export function prepareSource(
  height: number,
  width: number,
  groups: readonly (readonly Float32Array[])[],
): PreparedSource {
  const fftHeight = nextPowerOfTwo(height);
  const fftWidth = nextPowerOfTwo(width);
  const plan = new Fft2dPlan(fftHeight, fftWidth);
  const n = fftHeight * fftWidth;
  const spectraRe: Float64Array[] = [];
  const spectraIm: Float64Array[] = [];
  const integrals: SquaresIntegral[] = [];
  for (const planes of groups) {
    if (planes.length === 0) throw new Error('prepareSource: empty plane group');
    for (const p of planes) {
      if (p.length !== height * width) throw new Error('prepareSource: plane size does not match height × width');
      const re = new Float64Array(n);
      const im = new Float64Array(n);
      for (let y = 0; y < height; y++) for (let x = 0; x < width; x++) re[y * fftWidth + x] = p[y * width + x];
      plan.forward(re, im, height);
      spectraRe.push(re);
      spectraIm.push(im);
    }
    integrals.push(squaresIntegral(planes, height, width));
  }
  return {
    width,
    height,
    groupSizes: groups.map((g) => g.length),
    fftHeight,
    fftWidth,
    plan,
    spectraRe,
    spectraIm,
    integrals,
    boxCache: new Map(),
    scratch: {
      re: new Float64Array(n),
      im: new Float64Array(n),
      accRe: new Float64Array(n),
      accIm: new Float64Array(n),
    },
  };
}

/**
 * For every q, the sum of squares of the group's planes over the h × w box at
 * q: row-major (H − h + 1) × (W − w + 1). Cached on the source.
 */
function boxSums(source: PreparedSource, group: number, h: number, w: number): Float64Array {
  const key = `${group}:${h}x${w}`;
  const hit = source.boxCache.get(key);
  if (hit) return hit;
  const rows = source.height - h + 1;
  const cols = source.width - w + 1;
  const ii = source.integrals[group];
  const sums = new Float64Array(rows * cols);
  for (let y = 0; y < rows; y++) for (let x = 0; x < cols; x++) sums[y * cols + x] = boxSum(ii, y, x, y + h, x + w);
  source.boxCache.set(key, sums);
  return sums;
}

/** Rows [y0, y1) × columns [x0, x1) of the template, counted m times (m may be negative). */
export interface MaskRect {
  readonly y0: number;
  readonly x0: number;
  readonly y1: number;
  readonly x1: number;
  readonly multiplicity: number;
}

export interface SsdTerm {
  /** Index of the source plane group this term compares against. */
  readonly group: number;
  readonly weight: number;
  readonly rects: readonly MaskRect[];
  /** One plane per plane of the group, templateHeight × templateWidth row-major. */
  readonly template: readonly Float32Array[];
}

export interface SsdQuery {
  /** Size of a candidate source patch: positions range over [0, H − patchHeight] × [0, W − patchWidth]. */
  readonly patchHeight: number;
  readonly patchWidth: number;
  /** Size of the templates (≤ the patch; a clipped block at the output border). */
  readonly templateHeight: number;
  readonly templateWidth: number;
  readonly terms: readonly SsdTerm[];
}

export interface CandidateErrors {
  /** E(p) for p = (row, col), row-major rows × cols, clamped at 0. */
  readonly errors: Float64Array;
  readonly rows: number;
  readonly cols: number;
  /** An absolute bound on floating-point noise in the errors: values this close are ties. */
  readonly noise: number;
}

/** E(p) for every patch position p in the source, by FFT correlation and integral images. */
export function candidateSsd(source: PreparedSource, query: SsdQuery): CandidateErrors {
  const { patchHeight, patchWidth, templateHeight: th, templateWidth: tw } = query;
  if (patchHeight > source.height || patchWidth > source.width) {
    throw new Error('candidateSsd: patch larger than the source');
  }
  if (th > patchHeight || tw > patchWidth) throw new Error('candidateSsd: template larger than the patch');
  const rows = source.height - patchHeight + 1;
  const cols = source.width - patchWidth + 1;
  const errors = new Float64Array(rows * cols);

  // Per source plane: the weighted masked template A = Σ_t w_t M_t T_t, and the constant term.
  const planeOffsets: number[] = [];
  let total = 0;
  for (const size of source.groupSizes) {
    planeOffsets.push(total);
    total += size;
  }
  const weighted: (Float64Array | undefined)[] = new Array(total).fill(undefined);
  let constant = 0;
  let energy = 0;
  const mask = new Float32Array(th * tw);
  for (const term of query.terms) {
    const groupSize = source.groupSizes[term.group];
    if (groupSize === undefined) throw new Error(`candidateSsd: no plane group ${term.group}`);
    if (term.template.length !== groupSize) throw new Error('candidateSsd: template plane count does not match its group');
    if (term.weight === 0) continue;
    mask.fill(0);
    for (const r of term.rects) {
      if (r.y0 < 0 || r.x0 < 0 || r.y1 > th || r.x1 > tw) throw new Error('candidateSsd: mask rect outside the template');
      for (let y = r.y0; y < r.y1; y++) for (let x = r.x0; x < r.x1; x++) mask[y * tw + x] += r.multiplicity;
    }
    for (let c = 0; c < groupSize; c++) {
      const t = term.template[c];
      if (t.length !== th * tw) throw new Error('candidateSsd: template size does not match');
      const k = planeOffsets[term.group] + c;
      const a = (weighted[k] ??= new Float64Array(th * tw));
      for (let i = 0; i < th * tw; i++) {
        const m = mask[i];
        if (m === 0) continue;
        const v = t[i];
        a[i] += term.weight * m * v;
        constant += term.weight * m * v * v;
        energy += Math.abs(term.weight * m) * v * v;
      }
    }
  }

  // Sum-of-squares term by box sums (cached per rectangle size).
  let maxSquares = 0;
  for (const term of query.terms) {
    if (term.weight === 0) continue;
    for (const r of term.rects) {
      const h = r.y1 - r.y0;
      const w = r.x1 - r.x0;
      if (h <= 0 || w <= 0) continue;
      const sums = boxSums(source, term.group, h, w);
      const stride = source.width - w + 1;
      const k = term.weight * r.multiplicity;
      for (let py = 0; py < rows; py++) {
        const o = (py + r.y0) * stride + r.x0;
        const e = py * cols;
        for (let px = 0; px < cols; px++) errors[e + px] += k * sums[o + px];
      }
    }
  }
  for (let i = 0; i < errors.length; i++) maxSquares = Math.max(maxSquares, Math.abs(errors[i]));

  // Cross term by FFT correlation, two planes per complex transform.
  const active: number[] = [];
  for (let k = 0; k < total; k++) if (weighted[k] !== undefined) active.push(k);
  if (active.length > 0) {
    correlateInto(source, active, weighted, th, tw, rows);
    const { accRe } = source.scratch;
    const fw = source.fftWidth;
    for (let py = 0; py < rows; py++) {
      for (let px = 0; px < cols; px++) errors[py * cols + px] -= 2 * accRe[py * fw + px];
    }
  }
  for (let i = 0; i < errors.length; i++) errors[i] = Math.max(0, errors[i] + constant);
  // Double-precision FFT rounding is ~1e-15 relative per operation; allow a wide margin.
  const noise = 1e-9 * (energy + maxSquares);
  return { errors, rows, cols, noise };
}

/** Leaves Σ_k corr(S_k, A_k) in scratch.accRe (rows below neededRows are valid). */
function correlateInto(
  source: PreparedSource,
  active: readonly number[],
  weighted: readonly (Float64Array | undefined)[],
  th: number,
  tw: number,
  neededRows: number,
): void {
  const { fftHeight: fh, fftWidth: fw, plan } = source;
  const { re, im, accRe, accIm } = source.scratch;
  accRe.fill(0);
  accIm.fill(0);
  for (let pair = 0; pair < active.length; pair += 2) {
    const ka = active[pair];
    const kb = active[pair + 1];
    const a = weighted[ka]!;
    const b = kb === undefined ? undefined : weighted[kb]!;
    re.fill(0);
    im.fill(0);
    for (let y = 0; y < th; y++) {
      for (let x = 0; x < tw; x++) {
        re[y * fw + x] = a[y * tw + x];
        if (b) im[y * fw + x] = b[y * tw + x];
      }
    }
    plan.forward(re, im, th);
    const saRe = source.spectraRe[ka];
    const saIm = source.spectraIm[ka];
    const sbRe = kb === undefined ? undefined : source.spectraRe[kb];
    const sbIm = kb === undefined ? undefined : source.spectraIm[kb];
    // Only kx ≤ fw/2 is needed: the correlation is real, so inverseReal completes the rest.
    for (let ky = 0; ky < fh; ky++) {
      const ny = ky === 0 ? 0 : fh - ky;
      for (let kx = 0; kx <= fw / 2; kx++) {
        const nx = kx === 0 ? 0 : fw - kx;
        const i = ky * fw + kx;
        const j = ny * fw + nx;
        const zr = re[i];
        const zi = im[i];
        const cr = re[j];
        const ci = im[j];
        // Z = FFT(a + i b): A(k) = (Z(k) + conj Z(−k)) / 2, B(k) = (Z(k) − conj Z(−k)) / 2i.
        const ar = 0.5 * (zr + cr);
        const ai = 0.5 * (zi - ci);
        // conj(A) · S_a
        const sr = saRe[i];
        const si = saIm[i];
        let pr = ar * sr + ai * si;
        let pi = ar * si - ai * sr;
        if (sbRe && sbIm) {
          const br = 0.5 * (zi + ci);
          const bi = -0.5 * (zr - cr);
          const tr = sbRe[i];
          const ti = sbIm[i];
          pr += br * tr + bi * ti;
          pi += br * ti - bi * tr;
        }
        accRe[i] += pr;
        accIm[i] += pi;
      }
    }
  }
  plan.inverseReal(accRe, accIm, neededRows);
}
