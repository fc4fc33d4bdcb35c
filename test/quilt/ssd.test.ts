import { describe, expect, it } from 'vitest';
import { Fft2dPlan } from '../../src/quilt/fft.ts';
import { mulberry32 } from '../../src/util/prng.ts';
import { candidateSsd, prepareSource, type SsdQuery } from '../../src/quilt/ssd.ts';

function randomPlane(rng: () => number, n: number): Float32Array {
  return Float32Array.from({ length: n }, () => Math.round(rng() * 255));
}

/** The definition, term by term: Σ_t w_t Σ_ij M_t(ij) Σ_c (S_c(p + ij) − T_c(ij))². */
function naiveSsd(groups: Float32Array[][], h: number, w: number, q: SsdQuery): Float64Array {
  const rows = h - q.patchHeight + 1;
  const cols = w - q.patchWidth + 1;
  const out = new Float64Array(rows * cols);
  for (let py = 0; py < rows; py++) {
    for (let px = 0; px < cols; px++) {
      let e = 0;
      for (const t of q.terms) {
        for (const r of t.rects) {
          for (let i = r.y0; i < r.y1; i++) {
            for (let j = r.x0; j < r.x1; j++) {
              groups[t.group].forEach((plane, c) => {
                const d = plane[(py + i) * w + px + j] - t.template[c][i * q.templateWidth + j];
                e += t.weight * r.multiplicity * d * d;
              });
            }
          }
        }
      }
      out[py * cols + px] = e;
    }
  }
  return out;
}

describe('FFT', () => {
  it('2-D forward matches the DFT definition and inverse restores the input', () => {
    const rng = mulberry32(3);
    const h = 4;
    const w = 8;
    const re = Float64Array.from({ length: h * w }, () => rng() - 0.5);
    const im = Float64Array.from({ length: h * w }, () => rng() - 0.5);
    const [re0, im0] = [re.slice(), im.slice()];
    const plan = new Fft2dPlan(h, w);
    plan.forward(re, im);
    for (let ky = 0; ky < h; ky++) {
      for (let kx = 0; kx < w; kx++) {
        let sr = 0;
        let si = 0;
        for (let y = 0; y < h; y++) {
          for (let x = 0; x < w; x++) {
            const a = -2 * Math.PI * ((ky * y) / h + (kx * x) / w);
            sr += re0[y * w + x] * Math.cos(a) - im0[y * w + x] * Math.sin(a);
            si += re0[y * w + x] * Math.sin(a) + im0[y * w + x] * Math.cos(a);
          }
        }
        expect(re[ky * w + kx]).toBeCloseTo(sr, 10);
        expect(im[ky * w + kx]).toBeCloseTo(si, 10);
      }
    }
    plan.inverse(re, im);
    for (let i = 0; i < h * w; i++) {
      expect(re[i]).toBeCloseTo(re0[i], 12);
      expect(im[i]).toBeCloseTo(im0[i], 12);
    }
  });
});

describe('FFT of real signals', () => {
  it('inverseReal recovers a real signal from the half spectrum, and pruned forward equals full forward', () => {
    const rng = mulberry32(4);
    const h = 8;
    const w = 16;
    const x = Float64Array.from({ length: h * w }, (_, i) => (i < 3 * w ? rng() - 0.5 : 0));
    const plan = new Fft2dPlan(h, w);
    const [re, im] = [x.slice(), new Float64Array(h * w)];
    plan.forward(re, im, 3);
    const [fullRe, fullIm] = [x.slice(), new Float64Array(h * w)];
    plan.forward(fullRe, fullIm);
    for (let i = 0; i < h * w; i++) {
      expect(re[i]).toBeCloseTo(fullRe[i], 12);
      expect(im[i]).toBeCloseTo(fullIm[i], 12);
    }
    // Destroy the columns kx > w/2 that inverseReal must not read.
    for (let y = 0; y < h; y++) for (let kx = w / 2 + 1; kx < w; kx++) re[y * w + kx] = im[y * w + kx] = NaN;
    plan.inverseReal(re, im, 5);
    for (let i = 0; i < 5 * w; i++) expect(re[i]).toBeCloseTo(x[i], 12);
  });
});

describe('candidate SSD (FFT + integral images)', () => {
  it('equals the naive sum for an L-shaped overlap, a previous-output term and a correspondence term', () => {
    const rng = mulberry32(11);
    const h = 21;
    const w = 27; // not powers of two: exercises padding
    const rgb = [0, 1, 2].map(() => randomPlane(rng, h * w));
    const lum = [randomPlane(rng, h * w)];
    const groups = [rgb, lum];
    const source = prepareSource(h, w, groups);
    const B = 7;
    const th = 7;
    const tw = 5; // clipped at the output border
    const tmpl = (k: number) => Array.from({ length: k }, () => randomPlane(rng, th * tw));
    const q: SsdQuery = {
      patchHeight: B,
      patchWidth: B,
      templateHeight: th,
      templateWidth: tw,
      terms: [
        {
          group: 0,
          weight: 0.3,
          rects: [
            { y0: 0, x0: 0, y1: th, x1: 2, multiplicity: 1 },
            { y0: 0, x0: 0, y1: 2, x1: tw, multiplicity: 1 },
            { y0: 0, x0: 0, y1: 2, x1: 2, multiplicity: -1 },
          ],
          template: tmpl(3),
        },
        { group: 0, weight: 0.2, rects: [{ y0: 0, x0: 0, y1: th, x1: tw, multiplicity: 1 }], template: tmpl(3) },
        { group: 1, weight: 0.5, rects: [{ y0: 0, x0: 0, y1: th, x1: tw, multiplicity: 1 }], template: tmpl(1) },
      ],
    };
    const fast = candidateSsd(source, q);
    const slow = naiveSsd(groups, h, w, q);
    expect(fast.rows).toBe(h - B + 1);
    expect(fast.cols).toBe(w - B + 1);
    let maxRel = 0;
    for (let i = 0; i < slow.length; i++) maxRel = Math.max(maxRel, Math.abs(fast.errors[i] - slow[i]) / slow[i]);
    expect(maxRel).toBeLessThan(1e-9);
    expect(fast.noise).toBeLessThan(Math.min(...slow) * 1e-3);
  });

  it('is zero (within its noise bound) exactly where the template was cut from the source', () => {
    const rng = mulberry32(5);
    const h = 16;
    const w = 16;
    const planes = [0, 1, 2].map(() => randomPlane(rng, h * w));
    const source = prepareSource(h, w, [planes]);
    const B = 5;
    const template = planes.map((p) => {
      const t = new Float32Array(B * B);
      for (let i = 0; i < B; i++) for (let j = 0; j < B; j++) t[i * B + j] = p[(9 + i) * w + 4 + j];
      return t;
    });
    const rect = [{ y0: 0, x0: 0, y1: B, x1: B, multiplicity: 1 }];
    const r = candidateSsd(source, {
      patchHeight: B,
      patchWidth: B,
      templateHeight: B,
      templateWidth: B,
      terms: [{ group: 0, weight: 1, rects: rect, template }],
    });
    const zeros: number[] = [];
    r.errors.forEach((e, i) => e <= r.noise && zeros.push(i));
    expect(zeros).toEqual([9 * r.cols + 4]);
  });
});
