import { describe, expect, it } from 'vitest';
import { GraphBuilder } from '../../../src/compiler/ir/builder.ts';
import type { HostTensor } from '../../../src/compiler/ir/types.ts';
import { buildModelProto, loadOnnxModel } from '../../../src/backends/onnx/index.ts';
import { onnx, type ModelProto } from '../../../src/backends/onnx/proto.ts';
import { equalizingAffine, psnr, reluInputScales } from '../../../src/backends/onnx/quant-math.ts';
import { equalizeForQuantization, perChannelTensors } from '../../../src/backends/onnx/quant-equalize.ts';
import { calibrate, convSites, quantizeModel } from '../../../src/backends/onnx/quantize.ts';
import { seeded } from './optimize/helpers.ts';

const tensor = (shape: number[], seed: number, lo: number, hi: number): HostTensor => seeded(shape, seed, lo, hi);

/** Multiplies the slice of axis-0 index c by factors[c % factors.length]: channels of very different sizes. */
function spread(t: HostTensor, factors: readonly number[]): HostTensor {
  const per = t.data.length / t.shape[0]!;
  return { shape: t.shape, data: t.data.map((v, i) => v * factors[Math.floor(i / per) % factors.length]!) };
}

/** Divides the kernel's input-channel slice c (axis 1) by factors[c]: each input channel contributes alike. */
function balance(t: HostTensor, factors: readonly number[]): HostTensor {
  const [o, i] = [t.shape[0]!, t.shape[1]!];
  const k = t.data.length / (o * i);
  return { shape: t.shape, data: t.data.map((v, idx) => v / factors[Math.floor(idx / k) % i]!) };
}

describe('channel equalisation maths', () => {
  it('equalizingAffine gives every channel the widest range, centred on 0', () => {
    const m = equalizingAffine({ min: Float32Array.of(-1, 10, 5), max: Float32Array.of(3, 11, 5) }, 0.1);
    expect(Array.from(m.scale)).toEqual([1, 4, 1]); // widths 4, 1, 0 (too narrow: only centred)
    const mapped = [[-1, 3], [10, 11], [5, 5]].map(([lo, hi], c) => [m.scale[c]! * lo! + m.shift[c]!, m.scale[c]! * hi! + m.shift[c]!]);
    expect(mapped).toEqual([[-2, 2], [-2, 2], [0, 0]]);
    expect(m.range).toEqual({ min: -2, max: 2 });
  });

  it('reluInputScales lifts each channel to the widest, or part way with strength < 1', () => {
    expect(Array.from(reluInputScales(Float32Array.of(8, 2, 0.5, 0), 1))).toEqual([1, 4, 16, 1]);
    expect(Array.from(reluInputScales(Float32Array.of(8, 2), 0.5))).toEqual([1, 2]);
  });
});

describe('instance-norm channel equalisation of a tiny network', () => {
  // conv 3->8 -> IN -> relu -> conv 8->8 -> IN -> relu -> conv 8->4, at 1x3x20x24, with output channels
  // and the norms' scales spread over four orders of magnitude (the next conv's kernel compensating, so that
  // every channel matters alike): the case per-tensor uint8 serves badly.
  const ZEROS = { kind: 'zeros' } as const;
  const b = new GraphBuilder();
  const x = b.input('x', [1, 3, 20, 24]);
  const conv = (inp: string, name: string, o: number, i: number): string =>
    b.add('conv2d', [inp, b.param(`${name}.weight`, [o, i, 3, 3], ZEROS), b.param(`${name}.bias`, [o], ZEROS)], {
      strides: [1, 1], dilations: [1, 1], group: 1, padding: { kind: 'explicit', pads: [1, 1, 1, 1] },
    });
  const norm = (inp: string, name: string): string => b.add('instanceNorm', [inp, b.param(`${name}.scale`, [8], ZEROS), b.param(`${name}.bias`, [8], ZEROS)], { epsilon: 1e-3 });
  const c1 = conv(x, 'c1', 8, 3);
  const r1 = b.add('relu', [norm(c1, 'in1')], {});
  const c2 = conv(r1, 'c2', 8, 8);
  const r2 = b.add('relu', [norm(c2, 'in2')], {});
  b.output('y', conv(r2, 'c3', 4, 8));
  const g = b.build();
  const factors = [1, 30, 0.1, 10, 0.3, 3, 0.03, 100];
  const weights = new Map<string, HostTensor>([
    ['c1.weight', spread(tensor([8, 3, 3, 3], 1, -0.5, 0.5), factors)], ['c1.bias', tensor([8], 2, -1, 1)],
    ['in1.scale', spread(tensor([8], 3, 0.5, 1.5), [...factors].reverse())], ['in1.bias', tensor([8], 4, -0.5, 0.5)],
    ['c2.weight', balance(spread(tensor([8, 8, 3, 3], 5, -0.3, 0.3), [...factors].reverse()), [...factors].reverse())], ['c2.bias', tensor([8], 6, -1, 1)],
    ['in2.scale', spread(tensor([8], 7, 0.5, 1.5), factors)], ['in2.bias', tensor([8], 8, -0.5, 0.5)],
    ['c3.weight', balance(tensor([4, 8, 3, 3], 9, -0.3, 0.3), factors)], ['c3.bias', tensor([4], 10, -1, 1)],
  ]);
  const calib = [1, 2, 3].map((s) => ({ x: tensor([1, 3, 20, 24], 10 + s, 0, 255) }));
  const probe = { x: tensor([1, 3, 20, 24], 99, 0, 255) };
  const encode = (m: ModelProto): Uint8Array => onnx.ModelProto.encode(onnx.ModelProto.create(m)).finish();
  const run = async (m: ModelProto): Promise<Float32Array> => {
    const s = await loadOnnxModel(encode(m), { threads: 1 });
    try {
      return (await s.run(probe))['y']!.data as Float32Array;
    } finally {
      await s.dispose();
    }
  };

  it('calibrates the equalised tensors per channel', async () => {
    const proto = buildModelProto(g, weights);
    expect([...perChannelTensors(proto)].sort()).toEqual([c1, c2, r1, r2].sort());
    const ranges = await calibrate(proto, calib, { threads: 1 });
    for (const name of [c1, c2, r1, r2]) {
      const r = ranges.get(name)!;
      expect(r.channels!.min).toHaveLength(8);
      expect(Math.min(...r.channels!.min)).toBe(r.min);
      expect(Math.max(...r.channels!.max)).toBe(r.max);
    }
    expect(ranges.get(x)!.channels).toBeUndefined();
  });

  it('leaves the float network unchanged (to 1e-4 relative) and equalises the channel ranges', async () => {
    const proto = buildModelProto(g, weights);
    const ranges = await calibrate(proto, calib, { threads: 1 });
    const eq = equalizeForQuantization(proto, new Set(convSites(proto).map((s) => s.output)), ranges);
    const [a, e] = [await run(proto), await run(eq.model)];
    const peak = Math.max(...a.map(Math.abs));
    for (let i = 0; i < a.length; i++) expect(Math.abs(e[i]! - a[i]!)).toBeLessThanOrEqual(1e-4 * peak);
    // The equalised model's per-channel ranges, calibrated afresh: every channel of c1 and c2 wide enough to scale
    // (256·√ε, see quant-equalize.ts outputMap) is about as wide as the widest; before, they spanned 1000x.
    const widths = (r: { readonly min: Float32Array; readonly max: Float32Array }): number[] => Array.from(r.max, (hi, c) => hi - r.min[c]!);
    const after = await calibrate(eq.model, calib, { threads: 1 });
    for (const name of [c1, c2]) {
      const [w0, w1] = [widths(ranges.get(name)!.channels!), widths(after.get(name)!.channels!)];
      const scaled = w1.filter((_, c) => w0[c]! >= 256 * Math.sqrt(1e-3));
      expect(scaled.length).toBeGreaterThanOrEqual(4);
      expect(Math.min(...scaled) / Math.max(...w1)).toBeGreaterThan(0.99);
      expect(eq.ranges.get(name)!.max / (Math.max(...w1) / 2)).toBeCloseTo(1, 4);
    }
    const w0 = widths(ranges.get(c1)!.channels!);
    expect(Math.min(...w0) / Math.max(...w0)).toBeLessThan(0.01);
  });

  it('makes the int8 model much closer to float32', async () => {
    const proto = buildModelProto(g, weights);
    const ranges = await calibrate(proto, calib, { threads: 1 });
    const a = await run(proto);
    const [lo, hi] = [Math.min(...a), Math.max(...a)];
    const db = async (opts: Parameters<typeof quantizeModel>[2]): Promise<number> => psnr(a, await run(quantizeModel(proto, ranges, { keepEnds: false, ...opts })), hi - lo);
    const [plain, outputs, both] = [await db({ equalize: false }), await db({ equalizeInputs: 0 }), await db({})];
    // Here the ReLU outputs' per-tensor uint8 steps are what loses most (10.8 dB without equalisation, about
    // the same with the output side only, 29.2 dB with both sides, when written).
    expect(outputs).toBeGreaterThan(plain - 0.5);
    expect(both).toBeGreaterThan(plain + 10);
  });
});
