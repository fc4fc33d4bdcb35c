import { describe, expect, it } from 'vitest';
import { dimVar, dimAdd, dimProd } from '../../../src/compiler/ir/dim.ts';
import type { PoolAttrs } from '../../../src/compiler/ir/types.ts';
import { runOnnx } from './helpers.ts';
import * as nv from './naive.ts';

const TOL = 1e-4;
const init = { kind: 'zeros' } as const;
const H = dimVar('H');
const W = dimVar('W');

function conv(
  shape: [number, number, number, number],
  wShape: [number, number, number, number],
  spec: nv.ConvSpec,
  bias: boolean,
  irPadding: 'same' | [number, number, number, number],
  symbolic = false,
) {
  const x = nv.t4(shape, nv.randn(shape, 1));
  const w = nv.t4(wShape, nv.randn(wShape, 2));
  const b = bias ? nv.randn([wShape[0]], 3) : null;
  const want = nv.conv2d(x, w, b, spec);
  return {
    want,
    got: runOnnx(
      (g) => {
        const xi = g.input('x', symbolic ? [shape[0], shape[1], H, W] : shape);
        const ins = [xi, g.param('w', wShape, init)];
        if (bias) ins.push(g.param('b', [wShape[0]], init));
        return g.add('conv2d', ins, {
          strides: spec.stride,
          dilations: spec.dilation,
          group: spec.group,
          padding: irPadding === 'same' ? { kind: 'same' } : { kind: 'explicit', pads: irPadding },
        });
      },
      { x: nv.host(x) },
      { w: nv.host(w), ...(b && { b: { shape: [wShape[0]], data: b } }) },
    ),
  };
}

describe('onnx conv2d', () => {
  it('zero padding, stride 1, bias, odd sizes', async () => {
    const spec: nv.ConvSpec = { stride: [1, 1], dilation: [1, 1], pads: [1, 1, 1, 1], group: 1 };
    const { want, got } = conv([1, 2, 7, 9], [3, 2, 3, 3], spec, true, [1, 1, 1, 1]);
    expect(nv.maxAbsDiff(await got, want)).toBeLessThan(TOL);
  });
  it('asymmetric explicit pads, stride 2, batch 2', async () => {
    const spec: nv.ConvSpec = { stride: [2, 2], dilation: [1, 1], pads: [0, 1, 2, 0], group: 1 };
    const { want, got } = conv([2, 2, 7, 9], [3, 2, 3, 3], spec, true, [0, 1, 2, 0]);
    expect(nv.maxAbsDiff(await got, want)).toBeLessThan(TOL);
  });
  it('TF SAME with stride 2 and an even kernel puts the extra pad at the end (concrete and symbolic)', async () => {
    // H=7, k=4, s=2: out 4, total pad (4-1)*2+4-7 = 3 -> top 1, bottom 2. W=9: out 5, total 3 -> 1, 2.
    const spec: nv.ConvSpec = { stride: [2, 2], dilation: [1, 1], pads: [1, 1, 2, 2], group: 1 };
    for (const symbolic of [false, true]) {
      const { want, got } = conv([1, 2, 7, 9], [2, 2, 4, 4], spec, false, 'same', symbolic);
      expect(nv.maxAbsDiff(await got, want)).toBeLessThan(TOL);
    }
  });
  it('dilation 2, groups 2, no bias', async () => {
    const spec: nv.ConvSpec = { stride: [1, 1], dilation: [2, 2], pads: [2, 2, 2, 2], group: 2 };
    const { want, got } = conv([2, 4, 7, 9], [6, 2, 3, 3], spec, false, [2, 2, 2, 2]);
    expect(nv.maxAbsDiff(await got, want)).toBeLessThan(TOL);
  });
  it('reflect pad node then an unpadded conv', async () => {
    const x = nv.t4([2, 2, 7, 9], nv.randn([2, 2, 7, 9], 4));
    const w = nv.t4([3, 2, 3, 3], nv.randn([3, 2, 3, 3], 5));
    const want = nv.conv2d(nv.pad(x, [1, 1, 1, 1], 'reflect'), w, null, { stride: [1, 1], dilation: [1, 1], pads: [0, 0, 0, 0], group: 1 });
    const got = await runOnnx(
      (g) => {
        const p = g.add('pad', [g.input('x', [2, 2, 7, 9])], { mode: 'reflect', pads: [1, 1, 1, 1], value: 0 });
        return g.add('conv2d', [p, g.param('w', [3, 2, 3, 3], init)], {
          strides: [1, 1],
          dilations: [1, 1],
          group: 1,
          padding: { kind: 'explicit', pads: [0, 0, 0, 0] },
        });
      },
      { x: nv.host(x) },
      { w: nv.host(w) },
    );
    expect(nv.maxAbsDiff(got, want)).toBeLessThan(TOL);
  });
});

describe('onnx convTranspose2d', () => {
  async function check(
    xs: [number, number, number, number],
    ws: [number, number, number, number],
    stride: [number, number],
    naivePads: [number, number, number, number],
    outPad: [number, number],
    irPadding: 'same' | [number, number, number, number],
    irOutPad: [number, number],
  ): Promise<void> {
    const x = nv.t4(xs, nv.randn(xs, 6));
    const w = nv.t4(ws, nv.randn(ws, 7));
    const b = nv.randn([ws[1]], 8);
    const want = nv.convTranspose2d(x, w, b, stride, naivePads, outPad);
    const got = await runOnnx(
      (g) =>
        g.add('convTranspose2d', [g.input('x', xs), g.param('w', ws, init), g.param('b', [ws[1]], init)], {
          strides: stride,
          dilations: [1, 1],
          group: 1,
          outputPadding: irOutPad,
          padding: irPadding === 'same' ? { kind: 'same' } : { kind: 'explicit', pads: irPadding },
        }),
      { x: nv.host(x) },
      { w: nv.host(w), b: { shape: [ws[1]], data: b } },
    );
    expect(nv.maxAbsDiff(got, want)).toBeLessThan(TOL);
  }
  it('stride 2, pads 1, output padding 1', () => check([2, 3, 5, 7], [3, 2, 3, 3], [2, 2], [1, 1, 1, 1], [1, 1], [1, 1, 1, 1], [1, 1]));
  it('TF SAME, k3 s2: full output 2H+1 cropped by 0 at the start and 1 at the end', () =>
    check([1, 3, 5, 7], [3, 2, 3, 3], [2, 2], [0, 0, 1, 1], [0, 0], 'same', [0, 0]));
  it('TF SAME, k4 s2: crop 1 and 1', () => check([1, 2, 4, 5], [2, 2, 4, 4], [2, 2], [1, 1, 1, 1], [0, 0], 'same', [0, 0]));
});

describe('onnx pad and norms', () => {
  for (const mode of ['reflect', 'edge', 'constant'] as const) {
    it(`pad ${mode}, asymmetric`, async () => {
      const x = nv.t4([2, 2, 5, 6], nv.randn([2, 2, 5, 6], 9));
      const pads: [number, number, number, number] = [2, 1, 3, 4];
      const got = await runOnnx((g) => g.add('pad', [g.input('x', [2, 2, 5, 6])], { mode, pads, value: 0.5 }), { x: nv.host(x) });
      expect(nv.maxAbsDiff(got, nv.pad(x, pads, mode, 0.5))).toBeLessThan(1e-7);
    });
  }
  it('instance norm (affine, biased variance)', async () => {
    const x = nv.t4([2, 3, 7, 9], nv.randn([2, 3, 7, 9], 10));
    const s = nv.randn([3], 11);
    const b = nv.randn([3], 12);
    const got = await runOnnx(
      (g) => g.add('instanceNorm', [g.input('x', [2, 3, 7, 9]), g.param('s', [3], init), g.param('b', [3], init)], { epsilon: 1e-3 }),
      { x: nv.host(x) },
      { s: { shape: [3], data: s }, b: { shape: [3], data: b } },
    );
    expect(nv.maxAbsDiff(got, nv.instanceNorm(x, s, b, 1e-3))).toBeLessThan(TOL);
  });
  it('batch norm (inference statistics)', async () => {
    const x = nv.t4([2, 3, 4, 5], nv.randn([2, 3, 4, 5], 13));
    const p = (seed: number, pos = false) => ({ shape: [3], data: nv.randn([3], seed).map((v) => (pos ? Math.abs(v) + 0.1 : v)) });
    const [s, b, m, v] = [p(14), p(15), p(16), p(17, true)];
    const got = await runOnnx(
      (g) =>
        g.add('batchNorm', [g.input('x', [2, 3, 4, 5]), ...['s', 'b', 'm', 'v'].map((n) => g.param(n, [3], init))], { epsilon: 1e-5 }),
      { x: nv.host(x) },
      { s, b, m, v },
    );
    expect(nv.maxAbsDiff(got, nv.batchNorm(x, s.data, b.data, m.data, v.data, 1e-5))).toBeLessThan(TOL);
  });
});

describe('onnx pools and upsample', () => {
  const cases: [string, PoolAttrs][] = [
    ['k3 s2 floor (SqueezeNet)', { kernel: [3, 3], strides: [2, 2], pads: [0, 0, 0, 0], ceilMode: false, countIncludePad: false }],
    ['k3 s2 ceil', { kernel: [3, 3], strides: [2, 2], pads: [0, 0, 0, 0], ceilMode: true, countIncludePad: false }],
    ['k3 s2 pad 1 ceil, count pad', { kernel: [3, 3], strides: [2, 2], pads: [1, 1, 1, 1], ceilMode: true, countIncludePad: true }],
    ['k2 s2 pad 1 ceil, exclude pad', { kernel: [2, 2], strides: [2, 2], pads: [1, 0, 1, 0], ceilMode: true, countIncludePad: false }],
    ['k3 s1 pad (1,0,1,2) count pad', { kernel: [3, 3], strides: [1, 1], pads: [1, 0, 1, 2], ceilMode: false, countIncludePad: true }],
  ];
  const spec = (a: PoolAttrs): nv.PoolSpec => ({ kernel: [...a.kernel], stride: [...a.strides], pads: [...a.pads], ceil: a.ceilMode, countIncludePad: a.countIncludePad }) as nv.PoolSpec;
  for (const [name, a] of cases) {
    it(`max pool ${name}`, async () => {
      const x = nv.t4([2, 2, 7, 9], nv.randn([2, 2, 7, 9], 20));
      const got = await runOnnx((g) => g.add('maxPool', [g.input('x', [2, 2, 7, 9])], a), { x: nv.host(x) });
      expect(nv.maxAbsDiff(got, nv.maxPool(x, spec(a)).y)).toBeLessThan(1e-7);
    });
    it(`average pool ${name}`, async () => {
      const x = nv.t4([2, 2, 7, 9], nv.randn([2, 2, 7, 9], 21));
      const got = await runOnnx((g) => g.add('avgPool', [g.input('x', [2, 2, 7, 9])], a), { x: nv.host(x) });
      expect(nv.maxAbsDiff(got, nv.avgPool(x, spec(a)))).toBeLessThan(1e-6);
    });
  }
  it('global average pool', async () => {
    const x = nv.t4([2, 3, 7, 9], nv.randn([2, 3, 7, 9], 22));
    const got = await runOnnx((g) => g.add('globalAvgPool', [g.input('x', [2, 3, 7, 9])], {}), { x: nv.host(x) });
    const want = nv.avgPool(x, { kernel: [7, 9], stride: [1, 1], pads: [0, 0, 0, 0], ceil: false, countIncludePad: false });
    expect(nv.maxAbsDiff(got, want)).toBeLessThan(1e-6);
  });
  it('nearest upsample by (2, 3)', async () => {
    const x = nv.t4([2, 2, 5, 7], nv.randn([2, 2, 5, 7], 23));
    const got = await runOnnx((g) => g.add('upsampleNearest', [g.input('x', [2, 2, 5, 7])], { scale: [2, 3] }), { x: nv.host(x) });
    expect(nv.maxAbsDiff(got, nv.upsampleNearest(x, [2, 3]))).toBe(0);
  });
});

describe('onnx structure ops', () => {
  it('concat, slice with a symbolic end, elementwise', async () => {
    const x = nv.t4([1, 2, 7, 9], nv.randn([1, 2, 7, 9], 30));
    const got = await runOnnx(
      (g) => {
        const xi = g.input('x', [1, 2, H, W]);
        const c = g.add('concat', [xi, g.add('scale', [xi], { value: 2 })], { axis: 1 });
        // TV-style difference: rows 1.. minus rows ..H-1
        const a = g.add('slice', [c], { axis: 2, start: 1, end: H });
        const b = g.add('slice', [c], { axis: 2, start: 0, end: dimAdd(H, -1) });
        return g.add('sub', [a, b], {});
      },
      { x: nv.host(x) },
    );
    expect(got.shape).toEqual([1, 4, 6, 9]);
    for (let c = 0; c < 4; c++)
      for (let i = 0; i < 6; i++)
        for (let j = 0; j < 9; j++) {
          const k = c < 2 ? 1 : 2;
          const want = k * (nv.at(x, 0, c % 2, i + 1, j) - nv.at(x, 0, c % 2, i, j));
          expect(Math.abs(got.data[(c * 6 + i) * 9 + j]! - want)).toBeLessThan(1e-5);
        }
  });
  it('Gram matrix via symbolic reshape, transpose, matmul and reductions', async () => {
    const x = nv.t4([2, 3, 5, 7], nv.randn([2, 3, 5, 7], 31));
    const got = await runOnnx(
      (g) => {
        const f = g.add('reshape', [g.input('x', [2, 3, H, W])], { shape: [2, 3, dimProd(H, W)] });
        const gram = g.add('matmul', [f, g.add('transpose', [f], { perm: [0, 2, 1] })], {});
        const s = g.add('reduceSum', [gram], { axes: [2], keepDims: false });
        return g.add('reduceMean', [s], { axes: [0], keepDims: true });
      },
      { x: nv.host(x) },
    );
    expect(got.shape).toEqual([1, 3]);
    for (let i = 0; i < 3; i++) {
      let acc = 0;
      for (let n = 0; n < 2; n++)
        for (let j = 0; j < 3; j++) for (let h = 0; h < 5; h++) for (let w = 0; w < 7; w++) acc += nv.at(x, n, i, h, w) * nv.at(x, n, j, h, w);
      expect(Math.abs(got.data[i]! - acc / 2)).toBeLessThan(1e-4);
    }
  });
  it('unary ops, clip, shift and expand', async () => {
    const x = nv.t4([1, 2, 3, 4], nv.randn([1, 2, 3, 4], 32));
    const got = await runOnnx(
      (g) => {
        const xi = g.input('x', [1, 2, 3, 4]);
        const t = g.add('tanh', [g.add('relu', [xi], {})], {});
        const s = g.add('sigmoid', [g.add('neg', [xi], {})], {});
        const q = g.add('sqrt', [g.add('shift', [g.add('clip', [xi], { min: -0.5, max: 0.5 })], { value: 1 })], {});
        const e = g.add('expand', [g.add('reduceSum', [xi], { axes: [1, 2, 3], keepDims: true })], { shape: [1, 2, 3, 4] });
        return g.add('add', [g.add('mul', [t, s], {}), g.add('div', [q, g.add('shift', [g.add('mul', [e, e], {})], { value: 1 })], {})], {});
      },
      { x: nv.host(x) },
    );
    const total = x.data.reduce((a, b) => a + b, 0);
    x.data.forEach((v, i) => {
      const want = Math.tanh(Math.max(v, 0)) * (1 / (1 + Math.exp(v))) + Math.sqrt(Math.min(Math.max(v, -0.5), 0.5) + 1) / (total * total + 1);
      expect(Math.abs(got.data[i]! - want)).toBeLessThan(1e-5);
    });
  });
});
