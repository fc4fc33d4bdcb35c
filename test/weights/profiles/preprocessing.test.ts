/** Folding a publisher's input convention into the first conv (src/weights/profiles/preprocessing.ts): exact, zero padding included. */
import { describe, expect, it } from 'vitest';
import type { HostTensor } from '../../../src/compiler/ir/types.ts';
import { CAFFE, MATCONVNET, type Preprocessing, TORCHVISION, foldFirstConv, stcMean } from '../../../src/weights/profiles/preprocessing.ts';
import { mulberry32 } from '../../../src/util/prng.ts';

/** Direct 3x3 conv, zero padding 1, no bias, float64: x [C, H, W], w OIHW. */
function conv3x3(x: Float64Array, c: number, h: number, wd: number, w: HostTensor): Float64Array {
  const o = w.shape[0]!;
  const out = new Float64Array(o * h * wd);
  for (let oc = 0; oc < o; oc++)
    for (let y = 0; y < h; y++)
      for (let xx = 0; xx < wd; xx++) {
        let s = 0;
        for (let ic = 0; ic < c; ic++)
          for (let ky = 0; ky < 3; ky++)
            for (let kx = 0; kx < 3; kx++) {
              const [iy, ix] = [y + ky - 1, xx + kx - 1];
              if (iy < 0 || iy >= h || ix < 0 || ix >= wd) continue;
              s += w.data[((oc * c + ic) * 3 + ky) * 3 + kx]! * x[(ic * h + iy) * wd + ix]!;
            }
        out[(oc * h + y) * wd + xx] = s;
      }
  return out;
}

/** The publisher's z: (s · x[π(c')] − m_c') / σ_c'. */
function fileInput(x: Float64Array, p: Preprocessing, h: number, w: number): Float64Array {
  const z = new Float64Array(x.length);
  for (let c = 0; c < 3; c++) {
    const src = p.bgr ? 2 - c : c;
    for (let i = 0; i < h * w; i++) z[c * h * w + i] = (p.scale * x[src * h * w + i]! - p.mean[c]!) / p.std[c]!;
  }
  return z;
}

describe('preprocessing folded into the first conv', () => {
  const [h, w] = [5, 6];
  const next = mulberry32(7);
  const x = Float64Array.from({ length: 3 * h * w }, () => next() * 255);
  const kernel: HostTensor = { shape: [4, 3, 3, 3], data: Float32Array.from({ length: 108 }, () => next() - 0.5) };

  for (const [name, p] of [['Caffe (BGR, minus means)', CAFFE], ['torchvision (RGB [0, 1], mean/std)', TORCHVISION], ['MatConvNet (RGB minus means)', MATCONVNET]] as const)
    it(`${name}: conv(W, z) = conv(W', x − μ) at every pixel, borders included`, () => {
      const want = conv3x3(fileInput(x, p, h, w), 3, h, w, kernel);
      const mu = stcMean(p);
      const centred = Float64Array.from(x, (v, i) => v - mu.data[Math.floor(i / (h * w))]!);
      const got = conv3x3(centred, 3, h, w, foldFirstConv(kernel, p));
      const scale = Math.max(...want.map(Math.abs));
      want.forEach((v, i) => expect(Math.abs(got[i]! - v) / scale).toBeLessThan(1e-6));
    });

  it('μ is the publisher mean in RGB order and input units', () => {
    expect(Array.from(stcMean(CAFFE).data)).toEqual(Array.from(Float32Array.of(123.68, 116.779, 103.939)));
    expect(Array.from(stcMean(TORCHVISION).data)).toEqual(Array.from(Float32Array.of(0.485 * 255, 0.456 * 255, 0.406 * 255)));
  });
});
