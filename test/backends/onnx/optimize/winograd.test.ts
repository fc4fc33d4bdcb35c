import { describe, expect, it } from 'vitest';
import { GraphBuilder } from '../../../../src/compiler/ir/builder.ts';
import type { Graph, HostTensor, Padding } from '../../../../src/compiler/ir/types.ts';
import { differentiate } from '../../../../src/compiler/passes/autodiff/index.ts';
import { paramsToInputs } from '../../../../src/compiler/passes/adam-update.ts';
import { constantFold, convTransposeToConv, optimizeGraph, winogradConvs } from '../../../../src/backends/onnx/optimize/index.ts';
import { F2X2, F4X4, type WinogradTile } from '../../../../src/backends/onnx/optimize/winograd.ts';
import { OnnxBackend } from '../../../../src/backends/onnx/index.ts';
import type { WeightMap } from '../../../../src/backends/types.ts';
import { mulberry32 } from '../../../../src/util/prng.ts';
import { maxOutputDiff, opsOf, relErr, seeded } from './helpers.ts';

interface ConvCase {
  readonly x: readonly number[];
  readonly co: number;
  readonly k?: number;
  readonly padding?: Padding;
  readonly strides?: [number, number];
  readonly dilations?: [number, number];
  readonly group?: number;
  readonly bias?: boolean;
}

const P1: Padding = { kind: 'explicit', pads: [1, 1, 1, 1] };

function conv(c: ConvCase): Graph {
  const b = new GraphBuilder();
  const x = b.input('x', c.x);
  const k = c.k ?? 3;
  const ins = [x, b.param('w', [c.co, c.x[1]! / (c.group ?? 1), k, k], { kind: 'zeros' })];
  if (c.bias !== false) ins.push(b.param('b', [c.co], { kind: 'zeros' }));
  b.output('y', b.add('conv2d', ins, { strides: c.strides ?? [1, 1], dilations: c.dilations ?? [1, 1], padding: c.padding ?? P1, group: c.group ?? 1 }));
  return b.build();
}

function weightsFor(c: ConvCase): WeightMap {
  const k = c.k ?? 3;
  return new Map([
    ['w', seeded([c.co, c.x[1]! / (c.group ?? 1), k, k], 31)],
    ['b', seeded([c.co], 32)],
  ]);
}

/** F(4×4) wherever the sides divide by 4, else F(2×2) where they divide by 2. */
const ALL = { minChannels: 1, minPixels: 1, f2MinChannels: 1 };
/** F(2×2) only. */
const ALL_F2 = { minChannels: 1, minPixels: Infinity, f2MinChannels: 1 };

describe('Winograd transforms', () => {
  it.each<[string, WinogradTile]>([
    ['F(4×4, 3×3)', F4X4],
    ['F(2×2, 3×3)', F2X2],
  ])('%s: Aᵀ[(G g Gᵀ) ⊙ (Bᵀ d B)]A is the m×m valid correlation of an (m+2)² tile with a 3×3 kernel', (_name, f) => {
    const { m, BT, G, AT } = f;
    const rand = mulberry32(7);
    const d = Array.from({ length: m + 2 }, () => Array.from({ length: m + 2 }, () => rand() * 2 - 1));
    const g = Array.from({ length: 3 }, () => Array.from({ length: 3 }, () => rand() * 2 - 1));
    const mul = (a: readonly (readonly number[])[], b: readonly (readonly number[])[]): number[][] =>
      a.map((row) => b[0]!.map((_, j) => row.reduce((s, v, k) => s + v * b[k]![j]!, 0)));
    const tr = (a: readonly (readonly number[])[]): number[][] => a[0]!.map((_, j) => a.map((row) => row[j]!));
    const u = mul(mul(G, g), tr(G));
    const v = mul(mul(BT, d), tr(BT));
    const y = mul(mul(AT, u.map((row, i) => row.map((e, j) => e * v[i]![j]!))), tr(AT));
    expect(y.length).toBe(m);
    for (let p = 0; p < m; p++)
      for (let q = 0; q < m; q++) {
        let direct = 0;
        for (let a = 0; a < 3; a++) for (let b = 0; b < 3; b++) direct += g[a]![b]! * d[p + a]![q + b]!;
        expect(y[p]![q]!).toBeCloseTo(direct, 12);
      }
  });
});

describe('winogradConvs', () => {
  it.each<[string, ConvCase, typeof ALL?]>([
    ['pads 1, batch 1', { x: [1, 4, 8, 12], co: 5 }],
    ['batch 2', { x: [2, 4, 8, 12], co: 5 }],
    ['no bias', { x: [2, 3, 8, 4], co: 2, bias: false }],
    ['asymmetric pads', { x: [1, 3, 8, 12], co: 4, padding: { kind: 'explicit', pads: [0, 2, 2, 0] } }],
    ['no pads', { x: [2, 3, 10, 6], co: 4, padding: { kind: 'explicit', pads: [0, 0, 0, 0] } }],
    ['SAME padding', { x: [1, 3, 4, 8], co: 3, padding: { kind: 'same' } }],
    ['F(2×2): pads 1, batch 2', { x: [2, 4, 6, 10], co: 5 }, ALL_F2],
    ['F(2×2): asymmetric pads, no bias', { x: [1, 3, 6, 10], co: 4, padding: { kind: 'explicit', pads: [0, 2, 2, 0] }, bias: false }, ALL_F2],
    ['sides divisible by 2, not 4: F(2×2)', { x: [1, 4, 6, 10], co: 5 }, ALL],
  ])('equals the direct conv (%s; float64 reference of float32 transform constants)', (_name, c, options = ALL) => {
    const g = conv(c);
    const weights = weightsFor(c);
    const feeds = { x: seeded(c.x, 33) };
    const opt = winogradConvs(g, options);
    expect(opsOf(opt)).toContain('depthToSpace');
    // The weight transform in IR (a trained weight), folded, and computed by the pass (a bound weight).
    const bound = winogradConvs(g, options, weights);
    expect(bound.nodes.some((n) => n.inputs.includes('w'))).toBe(false);
    for (const graph of [opt, constantFold(opt, weights), bound]) {
      const { diff, scale } = maxOutputDiff(g, graph, weights, feeds);
      expect(scale).toBeGreaterThan(0.5);
      expect(diff).toBeLessThan(2e-5 * scale);
    }
    // Folded, the hot path is the tile conv, the GEMM, the output transform and the shuffle.
    const hot = opsOf(constantFold(opt, weights)).filter((op) => op !== 'reshape' && op !== 'transpose');
    expect(hot).toEqual(['conv2d', 'matmul', 'matmul', 'depthToSpace', ...(c.bias === false ? [] : ['add'])]);
  });

  it.each<[string, ConvCase]>([
    ['stride 2', { x: [1, 4, 8, 8], co: 4, strides: [2, 2] }],
    ['dilation 2', { x: [1, 4, 8, 8], co: 4, dilations: [2, 2], padding: { kind: 'explicit', pads: [2, 2, 2, 2] } }],
    ['a 5×5 kernel', { x: [1, 4, 8, 8], co: 4, k: 5, padding: { kind: 'explicit', pads: [2, 2, 2, 2] } }],
    ['groups', { x: [1, 4, 8, 8], co: 4, group: 2 }],
    ['an odd output width', { x: [1, 4, 8, 9], co: 4 }],
  ])('leaves %s alone', (_name, c) => {
    const g = conv(c);
    expect(winogradConvs(g, ALL)).toBe(g);
  });

  it('by default: F(4×4) from 128 channels and 32² output pixels, no F(2×2) unless f2MinChannels is set', () => {
    const blocks = (g: Graph): number[] => g.nodes.filter((n) => n.op === 'depthToSpace').map((n) => (n.attrs as { block: number }).block);
    const narrow = conv({ x: [1, 64, 64, 64], co: 256 });
    expect(winogradConvs(narrow)).toBe(narrow);
    const small = conv({ x: [1, 128, 16, 32], co: 128 });
    expect(winogradConvs(small)).toBe(small);
    expect(blocks(winogradConvs(conv({ x: [1, 128, 32, 32], co: 128 })))).toEqual([4]);
    const wide = conv({ x: [1, 256, 16, 32], co: 256 });
    expect(winogradConvs(wide)).toBe(wide);
    expect(blocks(winogradConvs(wide, { f2MinChannels: 256 }))).toEqual([2]);
    expect(blocks(winogradConvs(conv({ x: [1, 128, 16, 32], co: 256 }), { f2MinChannels: 256 }))).toEqual([]);
  });
});

/** dy -> stride-1 transposed conv with w [I, O, 3, 3] (autodiff's input gradient of a conv). */
function convT(dy: readonly number[], o: number, pads: [number, number, number, number], bias: boolean): Graph {
  const b = new GraphBuilder();
  const ins = [b.input('dy', dy), b.param('w', [dy[1]!, o, 3, 3], { kind: 'zeros' })];
  if (bias) ins.push(b.param('b', [o], { kind: 'zeros' }));
  b.output('y', b.add('convTranspose2d', ins, { strides: [1, 1], dilations: [1, 1], padding: { kind: 'explicit', pads }, outputPadding: [0, 0], group: 1 }));
  return b.build();
}

describe('winogradConvs on transposed convs (input gradients)', () => {
  it.each<[string, number[], number, [number, number, number, number], boolean, typeof ALL?]>([
    ['pads 1, batch 1', [1, 5, 8, 12], 4, [1, 1, 1, 1], false],
    ['batch 2 with bias', [2, 3, 8, 4], 6, [1, 1, 1, 1], true],
    ['asymmetric pads', [1, 4, 8, 12], 3, [0, 2, 2, 0], true],
    ['F(2×2): batch 2 with bias', [2, 3, 6, 10], 4, [1, 1, 1, 1], true, ALL_F2],
    ['F(2×2): asymmetric pads', [1, 4, 6, 10], 3, [0, 2, 2, 0], false, ALL_F2],
  ])('equals the transposed conv (%s; float64 reference)', (_name, dy, o, pads, bias, options = ALL) => {
    const g = convT(dy, o, pads, bias);
    const weights: WeightMap = new Map([
      ['w', seeded([dy[1]!, o, 3, 3], 35)],
      ['b', seeded([o], 36)],
    ]);
    const opt = winogradConvs(g, options);
    expect(opsOf(opt)).not.toContain('convTranspose2d');
    for (const graph of [opt, constantFold(opt, weights), winogradConvs(g, options, weights)]) {
      const { diff, scale } = maxOutputDiff(g, graph, weights, { dy: seeded(dy, 37) });
      expect(scale).toBeGreaterThan(0.5);
      expect(diff).toBeLessThan(2e-5 * scale);
    }
  });

  it('a conv and the transposed conv of the same weight share one transformed kernel', () => {
    const b = new GraphBuilder();
    const w = b.param('w', [6, 5, 3, 3], { kind: 'zeros' });
    const attrs = { strides: [1, 1] as [number, number], dilations: [1, 1] as [number, number], padding: P1, group: 1 };
    b.output('y', b.add('conv2d', [b.input('x', [1, 5, 8, 8]), w], attrs));
    b.output('dx', b.add('convTranspose2d', [b.input('dy', [1, 6, 8, 8]), w], { ...attrs, outputPadding: [0, 0] }));
    const g = b.build();
    const weights: WeightMap = new Map([['w', seeded([6, 5, 3, 3], 38)]]);
    const opt = winogradConvs(g, ALL, weights);
    // Both GEMMs read the same [36, 6, 5] constant and nothing reads w itself.
    const gemmConsts = opt.nodes.filter((n) => n.op === 'matmul').flatMap((n) => n.inputs.filter((i) => opt.values.get(i)?.shape.join() === '36,6,5'));
    expect(gemmConsts.length).toBe(2);
    expect(new Set(gemmConsts).size).toBe(1);
    expect(opt.nodes.some((n) => n.inputs.includes('w'))).toBe(false);
    const { diff, scale } = maxOutputDiff(g, opt, weights, { x: seeded([1, 5, 8, 8], 39), dy: seeded([1, 6, 8, 8], 40) });
    expect(diff).toBeLessThan(2e-5 * scale);
  });
});

async function onnxBoth(plain: Graph, rewritten: Graph, weights: WeightMap, feeds: Record<string, HostTensor>) {
  const be = new OnnxBackend();
  const a = await be.compile(plain, weights, { threads: 1, optimize: false });
  const b = await be.compile(rewritten, weights, { threads: 1, optimize: false });
  try {
    return [await a.run(feeds), await b.run(feeds)] as const;
  } finally {
    await Promise.all([a.dispose(), b.dispose()]);
  }
}

describe('Winograd on onnxruntime (float32)', () => {
  it('a 128-channel conv is rewritten by the backend when asked (winograd: true) and matches the direct conv to 2e-5 of its range', async () => {
    const c: ConvCase = { x: [1, 128, 64, 64], co: 128 };
    const g = conv(c);
    const weights = weightsFor(c);
    expect(opsOf(optimizeGraph(g, weights))).toContain('depthToSpace');
    const be = new OnnxBackend();
    const direct = await be.compile(g, weights, { threads: 1 });
    const fast = await be.compile(g, weights, { threads: 1, winograd: true });
    const feeds = { x: seeded(c.x, 34) };
    const [y0, y1] = [(await direct.run(feeds)).y!, (await fast.run(feeds)).y!];
    await Promise.all([direct.dispose(), fast.dispose()]);
    expect(y1.shape).toEqual([1, 128, 64, 64]);
    expect(relErr(y0, y1)).toBeLessThan(2e-5);
  });

  it.each<[string, typeof ALL, number]>([
    ['F(4×4)', ALL, 4],
    ['F(2×2)', ALL_F2, 2],
  ])('a gradient graph (%s): image and weight gradients through two Winograd convs (forward and input-gradient convs)', async (_name, options, block) => {
    const b = new GraphBuilder();
    const x = b.input('x', [2, 6, 8, 8]);
    const c1 = b.add('conv2d', [x, b.param('w1', [8, 6, 3, 3], { kind: 'zeros' }), b.param('b1', [8], { kind: 'zeros' })], { strides: [1, 1], dilations: [1, 1], padding: P1, group: 1 });
    const r1 = b.add('relu', [c1], {});
    const c2 = b.add('conv2d', [r1, b.param('w2', [4, 8, 3, 3], { kind: 'zeros' })], { strides: [1, 1], dilations: [1, 1], padding: P1, group: 1 });
    b.output('loss', b.add('reduceSum', [b.add('mul', [c2, c2], {})], { axes: [0, 1, 2, 3], keepDims: false }));
    const params = ['w1', 'b1', 'w2'];
    const weights: WeightMap = new Map([
      ['w1', seeded([8, 6, 3, 3], 41)],
      ['b1', seeded([8], 42)],
      ['w2', seeded([4, 8, 3, 3], 43)],
    ]);
    // Trained weights are fed each step, so the weight transform stays in the graph.
    const fed = paramsToInputs(differentiate(b.build(), { loss: 'loss', wrt: ['x', ...params] }), params);
    const direct = convTransposeToConv(fed);
    const rewritten = winogradConvs(fed, options);
    // Both forward convs and both input gradients (transposed convs), with one weight transform per weight.
    const shuffles = rewritten.nodes.filter((n) => n.op === 'depthToSpace');
    expect(shuffles.map((n) => (n.attrs as { block: number }).block)).toEqual([block, block, block, block]);
    expect(opsOf(rewritten)).not.toContain('convTranspose2d');
    const feeds: Record<string, HostTensor> = { x: seeded([2, 6, 8, 8], 44) };
    for (const p of params) feeds[p] = weights.get(p)!;
    const [plain, fast] = await onnxBoth(direct, rewritten, new Map(), feeds);
    expect(Object.keys(fast).sort()).toEqual(Object.keys(plain).sort());
    for (const name of Object.keys(plain)) expect(relErr(plain[name]!, fast[name]!), name).toBeLessThan(5e-5);
  });
});
