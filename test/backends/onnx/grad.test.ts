/** Gradient-only IR operators lowered to ONNX, against the naive scatter definitions. */
import { describe, expect, it } from 'vitest';
import { dimVar } from '../../../src/compiler/ir/dim.ts';
import type { PoolAttrs } from '../../../src/compiler/ir/types.ts';
import { buildModelProto, type EmitOptions } from '../../../src/backends/onnx/emit.ts';
import { GraphBuilder } from '../../../src/compiler/ir/builder.ts';
import { runOnnx } from './helpers.ts';
import * as nv from './naive.ts';

const spec = (a: PoolAttrs): nv.PoolSpec =>
  ({ kernel: [...a.kernel], stride: [...a.strides], pads: [...a.pads], ceil: a.ceilMode, countIncludePad: a.countIncludePad }) as nv.PoolSpec;

const pools: [string, PoolAttrs][] = [
  ['k3 s2 overlapping windows (SqueezeNet)', { kernel: [3, 3], strides: [2, 2], pads: [0, 0, 0, 0], ceilMode: false, countIncludePad: false }],
  ['k3 s2 ceil', { kernel: [3, 3], strides: [2, 2], pads: [0, 0, 0, 0], ceilMode: true, countIncludePad: false }],
  ['k3 s2 pad 1 ceil, count pad', { kernel: [3, 3], strides: [2, 2], pads: [1, 1, 1, 1], ceilMode: true, countIncludePad: true }],
  ['k2 s2 pad (1,0) ceil, exclude pad', { kernel: [2, 2], strides: [2, 2], pads: [1, 0, 1, 0], ceilMode: true, countIncludePad: false }],
  ['k2 s2 floor drops a row', { kernel: [2, 2], strides: [2, 2], pads: [0, 0, 0, 0], ceilMode: false, countIncludePad: false }],
];

function poolGradCase(op: 'maxPoolGrad' | 'avgPoolGrad', a: PoolAttrs, xData: Float32Array, shape: [number, number, number, number], emit?: EmitOptions) {
  const x = nv.t4(shape, xData);
  const yShape = (op === 'maxPoolGrad' ? nv.maxPool(x, spec(a)).y : nv.avgPool(x, spec(a))).shape;
  const dy = nv.t4(yShape, nv.randn(yShape, 41));
  const want = op === 'maxPoolGrad' ? nv.maxPoolGrad(x, dy, spec(a)) : nv.avgPoolGrad(x, dy, spec(a));
  const got = runOnnx((g) => g.add(op, [g.input('x', shape), g.input('dy', yShape)], a), { x: nv.host(x), dy: nv.host(dy) }, {}, emit);
  return { want, got };
}

describe('onnx maxPoolGrad', () => {
  for (const [name, a] of pools)
    it(name, async () => {
      const { want, got } = poolGradCase('maxPoolGrad', a, nv.randn([2, 2, 7, 9], 40), [2, 2, 7, 9]);
      expect(nv.maxAbsDiff(await got, want)).toBeLessThan(1e-6);
    });
  it('k2 s2 pad (1,0), floor mode', async () => {
    const a: PoolAttrs = { ...pools[4]![1], pads: [1, 0, 1, 0] };
    const { want, got } = poolGradCase('maxPoolGrad', a, nv.randn([2, 2, 7, 9], 41), [2, 2, 7, 9]);
    expect(nv.maxAbsDiff(await got, want)).toBeLessThan(1e-6);
  });
  it('sums both windows where one input is the max of two overlapping windows', async () => {
    // A single bright pixel at (2, 2) lies in windows (0,0), (0,1), (1,0), (1,1) of a k3 s2 pool over 5x5.
    const x = new Float32Array(25);
    x[2 * 5 + 2] = 10;
    const a = pools[0]![1];
    const got = await runOnnx((g) => g.add('maxPoolGrad', [g.input('x', [1, 1, 5, 5]), g.input('dy', [1, 1, 2, 2])], a), {
      x: { shape: [1, 1, 5, 5], data: x },
      dy: { shape: [1, 1, 2, 2], data: Float32Array.of(1, 2, 3, 4) },
    });
    expect(got.data[12]).toBeCloseTo(10, 6);
    expect(got.data.reduce((s, v) => s + v, 0)).toBeCloseTo(10, 6);
  });
  it('places dy with MaxUnpool where windows cannot overlap (k2 s2), scatter-adds where they can (k3 s2)', () => {
    const ops = (a: PoolAttrs, dy: [number, number, number, number]) => {
      const b = new GraphBuilder();
      b.output('y', b.add('maxPoolGrad', [b.input('x', [1, 2, 7, 9]), b.input('dy', dy)], a));
      return buildModelProto(b.build(), new Map()).graph!.node!.map((n) => n.opType);
    };
    const k2s2 = pools[4]![1];
    expect(ops(k2s2, [1, 2, 3, 4])).toContain('MaxUnpool');
    expect(ops(k2s2, [1, 2, 3, 4])).not.toContain('ScatterElements');
    expect(ops({ ...k2s2, pads: [1, 0, 1, 0] }, [1, 2, 4, 4])).toContain('MaxUnpool');
    // Ceil mode's overhang can make MaxUnpool's minimum output larger than x: scatter.
    expect(ops(pools[3]![1], [1, 2, 5, 5])).toContain('ScatterElements');
    expect(ops(pools[0]![1], [1, 2, 3, 4])).toContain('ScatterElements');
  });
});

describe("onnx maxPoolGrad, 'window' lowering (no MaxPool Indices)", () => {
  const window: EmitOptions = { maxPoolGrad: 'window' };
  for (const [name, a] of pools)
    it(name, async () => {
      const { want, got } = poolGradCase('maxPoolGrad', a, nv.randn([2, 2, 7, 9], 40), [2, 2, 7, 9], window);
      expect(nv.maxAbsDiff(await got, want)).toBeLessThan(1e-6);
    });
  it('k2 s2 on an even map (DepthToSpace path), with ties routed to the first maximum', async () => {
    // Post-ReLU maps have whole windows of zeros: the gradient must go to one input, the first in row-major order.
    const data = nv.randn([1, 3, 6, 8], 42).map((v) => Math.max(v, 0));
    for (const emit of [window, undefined]) {
      const { want, got } = poolGradCase('maxPoolGrad', pools[4]![1], data, [1, 3, 6, 8], emit);
      expect(nv.maxAbsDiff(await got, want)).toBeLessThan(1e-6);
    }
  });
  it('sums both windows where one input is the max of two overlapping windows', async () => {
    const x = new Float32Array(25);
    x[2 * 5 + 2] = 10;
    const got = await runOnnx(
      (g) => g.add('maxPoolGrad', [g.input('x', [1, 1, 5, 5]), g.input('dy', [1, 1, 2, 2])], pools[0]![1]),
      { x: { shape: [1, 1, 5, 5], data: x }, dy: { shape: [1, 1, 2, 2], data: Float32Array.of(1, 2, 3, 4) } },
      {},
      window,
    );
    expect(got.data[12]).toBeCloseTo(10, 6);
    expect(got.data.reduce((s, v) => s + v, 0)).toBeCloseTo(10, 6);
  });
  it('emits neither MaxPool nor ScatterElements', () => {
    const b = new GraphBuilder();
    b.output('y', b.add('maxPoolGrad', [b.input('x', [1, 2, 7, 9]), b.input('dy', [1, 2, 3, 4])], pools[0]![1]));
    const ops = (e?: EmitOptions) => buildModelProto(b.build(), new Map(), e).graph!.node!.map((n) => n.opType);
    expect(ops()).toEqual(expect.arrayContaining(['MaxPool', 'ScatterElements']));
    expect(ops()).not.toContain('MaxUnpool');
    expect(ops(window)).not.toContain('MaxPool');
    expect(ops(window)).not.toContain('ScatterElements');
  });
});

describe("onnx maxPoolGrad, 'tiled' lowering (the GPU's: Resize, Equal, Where)", () => {
  const tiled: EmitOptions = { maxPoolGrad: 'tiled' };
  const k2s2 = pools[4]![1];
  const ops = (x: [number, number, number, number], dy: [number, number, number, number], a: PoolAttrs, pooled: boolean) => {
    const b = new GraphBuilder();
    const xv = b.input('x', x);
    if (pooled) b.output('p', b.add('maxPool', [xv], a));
    b.output('y', b.add('maxPoolGrad', [xv, b.input('dy', dy)], a));
    return buildModelProto(b.build(), new Map(), tiled).graph!.node!.map((n) => n.opType).filter((op) => op !== 'Identity');
  };

  it('equals the exact gradient on a map the 2×2 windows tile, without ties', async () => {
    const { want, got } = poolGradCase('maxPoolGrad', k2s2, nv.randn([2, 3, 6, 8], 43), [2, 3, 6, 8], tiled);
    expect(nv.maxAbsDiff(await got, want)).toBeLessThan(1e-6);
  });

  it('routes dy to every maximum of a tied window (the first only, exactly)', async () => {
    // One window of four equal values: the exact lowering gives dy to the first, the tiled one to all four.
    const x = { shape: [1, 1, 2, 2], data: Float32Array.of(3, 3, 3, 3) };
    const dy = { shape: [1, 1, 1, 1], data: Float32Array.of(2) };
    const run = (emit: EmitOptions) => runOnnx((g) => g.add('maxPoolGrad', [g.input('x', [1, 1, 2, 2]), g.input('dy', [1, 1, 1, 1])], k2s2), { x, dy }, {}, emit);
    expect([...(await run(tiled)).data]).toEqual([2, 2, 2, 2]);
    expect([...(await run({})).data]).toEqual([2, 0, 0, 0]);
  });

  it('reuses the forward pool, recomputes it when the graph has none, and falls back where windows do not tile', () => {
    expect(ops([1, 2, 6, 8], [1, 2, 3, 4], k2s2, true)).toEqual(['MaxPool', 'Resize', 'Equal', 'Resize', 'Where']);
    expect(ops([1, 2, 6, 8], [1, 2, 3, 4], k2s2, false)).toEqual(['MaxPool', 'Resize', 'Equal', 'Resize', 'Where']);
    // 7 rows: floor mode drops the last; overlapping k3 s2 windows: both take the windowed lowering.
    expect(ops([1, 2, 7, 9], [1, 2, 3, 4], k2s2, false)).toContain('DepthToSpace');
    expect(ops([1, 2, 7, 9], [1, 2, 3, 4], pools[0]![1], false)).toContain('ConvTranspose');
  });
});

describe('onnx avgPoolGrad', () => {
  for (const [name, a] of pools)
    it(name, async () => {
      const { want, got } = poolGradCase('avgPoolGrad', a, nv.randn([2, 2, 7, 9], 42), [2, 2, 7, 9]);
      expect(nv.maxAbsDiff(await got, want)).toBeLessThan(1e-6);
    });
  it('symbolic sizes, no padding, floor mode', async () => {
    const a = pools[4]![1];
    const x = nv.t4([1, 2, 7, 9], nv.randn([1, 2, 7, 9], 43));
    const dy = nv.t4([1, 2, 3, 4], nv.randn([1, 2, 3, 4], 44));
    const H = dimVar('H');
    const W = dimVar('W');
    const got = await runOnnx(
      (g) => {
        const xi = g.input('x', [1, 2, H, W]);
        const y = g.add('avgPool', [xi], a); // shape of dy, symbolically
        return g.add('avgPoolGrad', [xi, g.add('mul', [y, g.input('dy', g.shape(y))], {})], a);
      },
      { x: nv.host(x), dy: nv.host(dy) },
    );
    const y = nv.avgPool(x, spec(a));
    const dyy = nv.t4(dy.shape, y.data.map((v, i) => v * dy.data[i]!));
    expect(nv.maxAbsDiff(got, nv.avgPoolGrad(x, dyy, spec(a)))).toBeLessThan(1e-6);
  });
});

describe('onnx padGrad', () => {
  for (const mode of ['reflect', 'edge', 'constant'] as const)
    for (const pads of [
      [1, 1, 1, 1],
      [2, 0, 3, 4],
      [4, 4, 4, 4], // reflect folds overlap on a 5x6 input
    ] as [number, number, number, number][])
      it(`${mode} pads [${pads}]`, async () => {
        const xs: [number, number, number, number] = [2, 2, 5, 6];
        const ps: [number, number, number, number] = [2, 2, 5 + pads[0] + pads[2], 6 + pads[1] + pads[3]];
        const dy = nv.t4(ps, nv.randn(ps, 50));
        const got = await runOnnx((g) => g.add('padGrad', [g.input('dy', ps)], { mode, pads, value: 0 }), { dy: nv.host(dy) });
        expect(got.shape).toEqual(xs);
        expect(nv.maxAbsDiff(got, nv.padGrad(dy, pads, mode))).toBeLessThan(1e-5);
      });
  for (const mode of ['reflect', 'edge'] as const)
    it(`${mode} on a long axis: one Split and one Concat per axis, no full-size Pad`, async () => {
      const pads: [number, number, number, number] = [4, 1, 3, 4];
      const ps: [number, number, number, number] = [2, 3, 12 + 7, 11 + 5];
      const dy = nv.t4(ps, nv.randn(ps, 52));
      const build = (g: GraphBuilder): string => g.add('padGrad', [g.input('dy', ps)], { mode, pads, value: 0 });
      const got = await runOnnx(build, { dy: nv.host(dy) });
      expect(got.shape).toEqual([2, 3, 12, 11]);
      expect(nv.maxAbsDiff(got, nv.padGrad(dy, pads, mode))).toBeLessThan(1e-5);
      const b = new GraphBuilder();
      b.output('y', build(b));
      const ops = buildModelProto(b.build(), new Map()).graph!.node!.map((n) => n.opType);
      expect(ops.filter((o) => o === 'Split')).toHaveLength(2);
      expect(ops).not.toContain('Pad');
    });
  it('reflect with symbolic sizes', async () => {
    const pads: [number, number, number, number] = [4, 1, 2, 3];
    const H = dimVar('H');
    const W = dimVar('W');
    const dy = nv.t4([1, 2, 13, 13], nv.randn([1, 2, 13, 13], 51));
    const got = await runOnnx((g) => g.add('padGrad', [g.input('dy', [1, 2, H, W])], { mode: 'reflect', pads, value: 0 }), {
      dy: nv.host(dy),
    });
    expect(nv.maxAbsDiff(got, nv.padGrad(dy, pads, 'reflect'))).toBeLessThan(1e-5);
  });
  it('reflect folds without negative-step slices (ONNX Runtime 1.30 WebGPU gets those wrong)', () => {
    const b = new GraphBuilder();
    b.output('y', b.add('padGrad', [b.input('dy', [1, 2, 13, 14])], { mode: 'reflect', pads: [4, 1, 2, 3], value: 0 }));
    const model = buildModelProto(b.build(), new Map());
    const consts = new Map(model.graph!.initializer!.map((t) => [t.name, t]));
    const slices = model.graph!.node!.filter((n) => n.opType === 'Slice');
    expect(slices.length).toBeGreaterThan(0);
    for (const n of slices) {
      const steps = n.input![4] === undefined ? undefined : consts.get(n.input![4]);
      if (steps === undefined) continue; // default steps: 1
      const raw = steps.rawData!;
      const values = [...new BigInt64Array(raw.buffer.slice(raw.byteOffset, raw.byteOffset + raw.byteLength))];
      expect(values.length).toBeGreaterThan(0);
      expect(values.every((v) => v > 0n)).toBe(true);
    }
  });
});

describe('onnx upsampleNearestGrad and reluGrad', () => {
  it('upsampleNearestGrad sums each (2, 3) block', async () => {
    const dy = nv.t4([2, 2, 10, 21], nv.randn([2, 2, 10, 21], 60));
    const got = await runOnnx((g) => g.add('upsampleNearestGrad', [g.input('dy', [2, 2, 10, 21])], { scale: [2, 3] }), { dy: nv.host(dy) });
    expect(nv.maxAbsDiff(got, nv.upsampleNearestGrad(dy, [2, 3]))).toBeLessThan(1e-5);
  });
  it("reluGrad passes dy where y > 0, zero elsewhere (including y == 0 and y < 0, as clip's gradient uses it)", async () => {
    const y = nv.randn([1, 2, 3, 5], 61);
    y[0] = 0;
    expect(y.some((v) => v < 0)).toBe(true);
    const dy = nv.randn([1, 2, 3, 5], 62);
    const got = await runOnnx((g) => g.add('reluGrad', [g.input('yv', [1, 2, 3, 5]), g.input('dy', [1, 2, 3, 5])], {}), {
      yv: { shape: [1, 2, 3, 5], data: y },
      dy: { shape: [1, 2, 3, 5], data: dy },
    });
    got.data.forEach((v, i) => expect(v + 0).toBe(y[i]! > 0 ? dy[i]! : 0)); // + 0: dy < 0 masked is −0
    // The lean lowering (boolean mask, Where) gives the same values.
    const build = (g: GraphBuilder): string => g.add('reluGrad', [g.input('yv', [1, 2, 3, 5]), g.input('dy', [1, 2, 3, 5])], {});
    const feeds = { yv: { shape: [1, 2, 3, 5], data: y }, dy: { shape: [1, 2, 3, 5], data: dy } };
    const where = await runOnnx(build, feeds, {}, { reluGrad: 'where' });
    where.data.forEach((v, i) => expect(v).toBe(y[i]! > 0 ? dy[i]! : 0));
    const ops = (e?: EmitOptions) => {
      const b = new GraphBuilder();
      b.output('g', build(b));
      return buildModelProto(b.build(), new Map(), e).graph!.node!.map((n) => n.opType);
    };
    expect(ops()).toEqual(expect.arrayContaining(['Greater', 'Cast', 'Mul']));
    expect(ops({ reluGrad: 'where' })).toEqual(expect.arrayContaining(['Greater', 'Where']));
    expect(ops({ reluGrad: 'where' })).not.toContain('Cast');
  });
});
