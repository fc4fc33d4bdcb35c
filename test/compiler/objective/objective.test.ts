import { describe, expect, it } from 'vitest';
import { GraphBuilder } from '../../../src/compiler/ir/builder.ts';
import { dimVar } from '../../../src/compiler/ir/dim.ts';
import type { Graph } from '../../../src/compiler/ir/types.ts';
import {
  blendTargets,
  buildObjectiveGraphs,
  contentLoss,
  gram,
  normaliseBlend,
  ObjectiveError,
  styleLayerLoss,
  tvLoss,
  type ObjectiveSpec,
} from '../../../src/compiler/objective/index.ts';
import { run, type T } from './mini-interp.ts';

/** Seeded uniform values in [lo, hi). */
function rand(n: number, seed: number, lo = 0, hi = 1): Float64Array {
  let s = seed >>> 0;
  return Float64Array.from({ length: n }, () => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return lo + ((hi - lo) * s) / 2 ** 32;
  });
}

const tensor = (shape: number[], seed: number, lo = -1, hi = 1): T => ({ shape, data: rand(shape.reduce((a, b) => a * b, 1), seed, lo, hi) });

/** Index helper for NCHW arrays. */
const at = (t: T, n: number, c: number, h: number, w: number): number => {
  const [, C, H, W] = t.shape as [number, number, number, number];
  return t.data[((n * C + c) * H + h) * W + w]!;
};

/** Direct Gram: G[c1][c2] = Σ_{h,w} F[c1,h,w] F[c2,h,w] (batch 0). */
function directGram(f: T): number[][] {
  const [, C, H, W] = f.shape as [number, number, number, number];
  const g: number[][] = [];
  for (let i = 0; i < C; i++) {
    g.push([]);
    for (let j = 0; j < C; j++) {
      let s = 0;
      for (let h = 0; h < H; h++) for (let w = 0; w < W; w++) s += at(f, 0, i, h, w) * at(f, 0, j, h, w);
      g[i]!.push(s);
    }
  }
  return g;
}

function single(build: (b: GraphBuilder, inputs: string[]) => string, shapes: number[][]): (feeds: T[]) => number {
  const b = new GraphBuilder();
  const ids = shapes.map((s, i) => b.input(`in${i}`, s));
  b.output('out', build(b, ids));
  const g = b.build();
  return (feeds) => run(g, Object.fromEntries(ids.map((id, i) => [id, feeds[i]!]))).out!.data[0]!;
}

describe('loss terms', () => {
  const f = tensor([1, 4, 5, 3], 1);
  const p = tensor([1, 4, 5, 3], 2);

  it('gram: gatys is Σ_k F_ik F_jk; johnson divides by C·H·W', () => {
    const expected = directGram(f);
    for (const norm of ['gatys', 'johnson'] as const) {
      const b = new GraphBuilder();
      const x = b.input('f', f.shape);
      b.output('g', gram(b, x, norm));
      const g = run(b.build(), { [x]: f }).g!;
      expect(g.shape).toEqual([1, 4, 4]);
      const k = norm === 'gatys' ? 1 : 1 / (4 * 5 * 3);
      for (let i = 0; i < 4; i++) for (let j = 0; j < 4; j++) expect(g.data[i * 4 + j]).toBeCloseTo(expected[i]![j]! * k, 12);
    }
  });

  it('content: half_sum is ½ Σ (F − P)²; mean is Σ (F − P)² / numel', () => {
    let ss = 0;
    for (let i = 0; i < f.data.length; i++) ss += (f.data[i]! - p.data[i]!) ** 2;
    const half = single((b, [a, c]) => contentLoss(b, a!, c!, 'half_sum'), [f.shape, p.shape]);
    const mean = single((b, [a, c]) => contentLoss(b, a!, c!, 'mean'), [f.shape, p.shape]);
    expect(half([f, p])).toBeCloseTo(ss / 2, 12);
    expect(mean([f, p])).toBeCloseTo(ss / 60, 12);
  });

  it('style layer: gatys is Σ (G − A)² / (4 C² M²); johnson is ‖G − A‖²_F', () => {
    const gf = directGram(f);
    const gp = directGram(p);
    let ss = 0;
    for (let i = 0; i < 4; i++) for (let j = 0; j < 4; j++) ss += (gf[i]![j]! - gp[i]![j]!) ** 2;
    const loss = (norm: 'gatys' | 'johnson') =>
      single(
        (b, [x, y]) => {
          const a = gram(b, y!, norm);
          return styleLayerLoss(b, gram(b, x!, norm), a, norm, b.shape(x!));
        },
        [f.shape, p.shape],
      )([f, p]);
    const M = 15;
    expect(loss('gatys')).toBeCloseTo(ss / (4 * 16 * M * M), 10);
    expect(loss('johnson')).toBeCloseTo(ss / 60 ** 2, 12);
  });

  it('tv: sum of squared forward differences along H and W, over all channels; mean divides by numel', () => {
    let s = 0;
    for (let c = 0; c < 4; c++)
      for (let h = 0; h < 5; h++)
        for (let w = 0; w < 3; w++) {
          if (h + 1 < 5) s += (at(f, 0, c, h + 1, w) - at(f, 0, c, h, w)) ** 2;
          if (w + 1 < 3) s += (at(f, 0, c, h, w + 1) - at(f, 0, c, h, w)) ** 2;
        }
    expect(single((b, [x]) => tvLoss(b, x!, 'sum'), [f.shape])([f])).toBeCloseTo(s, 12);
    expect(single((b, [x]) => tvLoss(b, x!, 'mean'), [f.shape])([f])).toBeCloseTo(s / 60, 12);
  });
});

/**
 * A toy loss network with symbolic size: a = 0.01·x (tap), b = avgpool2(relu(a)) (tap),
 * c = avgpool2(b) (tap, unused by the objectives below: must be pruned away).
 */
function toyNet(): Graph {
  const b = new GraphBuilder();
  const x = b.input('image', [dimVar('N'), 3, dimVar('H'), dimVar('W')]);
  const a = b.add('scale', [x], { value: 0.01 }, { layer: 'a' });
  b.tap('a', a);
  const pool = { kernel: [2, 2] as const, strides: [2, 2] as const, pads: [0, 0, 0, 0] as const, ceilMode: false, countIncludePad: false };
  const bb = b.add('avgPool', [b.add('relu', [a], {}, { layer: 'relu_a' })], pool, { layer: 'b' });
  b.tap('b', bb);
  b.tap('c', b.add('avgPool', [bb], pool, { layer: 'c' }));
  return b.build();
}

/** Independent features of the toy net. */
function toyA(x: T): T {
  return { shape: x.shape, data: x.data.map((v) => v * 0.01) };
}
function toyB(x: T): T {
  const a = toyA(x);
  const [N, C, H, W] = a.shape as [number, number, number, number];
  const out: T = { shape: [N, C, H / 2, W / 2], data: new Float64Array((N * C * H * W) / 4) };
  for (let c = 0; c < C; c++)
    for (let h = 0; h < H / 2; h++)
      for (let w = 0; w < W / 2; w++) {
        let s = 0;
        for (let i = 0; i < 2; i++) for (let j = 0; j < 2; j++) s += Math.max(0, at(a, 0, c, 2 * h + i, 2 * w + j));
        out.data[(c * (H / 2) + h) * (W / 2) + w] = s / 4;
      }
  return out;
}

const spec: ObjectiveSpec = {
  name: 'toy',
  lossNet: 'toy',
  terms: [
    { kind: 'content', taps: [{ tap: 'b', weight: 1 }], weight: 2, attrs: { norm: 'half_sum' } },
    {
      kind: 'style',
      taps: [
        { tap: 'a', weight: 0.25 },
        { tap: 'b', weight: 0.75 },
      ],
      weight: 1000,
      attrs: { norm: 'gatys' },
    },
    { kind: 'tv', taps: [], weight: 0.5, attrs: { norm: 'sum' } },
  ],
};

describe('buildObjectiveGraphs', () => {
  const H = 6;
  const W = 8;
  const graphs = buildObjectiveGraphs(spec, toyNet(), { size: { H, W } });
  const content = tensor([1, 3, H, W], 11, 0, 255);
  const style = tensor([1, 3, H, W], 12, 0, 255);
  const x = tensor([1, 3, H, W], 13, 0, 255);

  it('target graphs compute the content tap features and the style Grams', () => {
    const c = run(graphs.targets.content, { [graphs.imageInput]: content });
    expect(Object.keys(c)).toEqual(['content:b']);
    const expectedB = toyB(content);
    c['content:b']!.data.forEach((v, i) => expect(v).toBeCloseTo(expectedB.data[i]!, 12));
    const s = run(graphs.targets.style, { [graphs.imageInput]: style });
    expect(Object.keys(s).sort()).toEqual(['style:a', 'style:b']);
    const ga = directGram(toyA(style));
    expect(s['style:a']!.data[1]).toBeCloseTo(ga[0]![1]!, 8);
  });

  it('step loss = α L_c + β Σ w_l E_l + λ TV, with per-term outputs that sum to it', () => {
    const targets = { ...run(graphs.targets.content, { [graphs.imageInput]: content }), ...run(graphs.targets.style, { [graphs.imageInput]: style }) };
    const feeds: Record<string, T> = { [graphs.imageInput]: x };
    for (const [tap, id] of graphs.contentInputs) feeds[id] = targets[`content:${tap}`]!;
    for (const [tap, id] of graphs.styleInputs) feeds[id] = targets[`style:${tap}`]!;
    const out = run(graphs.step, feeds);

    // Independent expectation from the paper's formulas.
    const fb = toyB(x);
    const pb = toyB(content);
    let lc = 0;
    fb.data.forEach((v, i) => (lc += (v - pb.data[i]!) ** 2));
    lc /= 2;
    const e = (fx: T, fs: T): number => {
      const g = directGram(fx);
      const a = directGram(fs);
      const C = fx.shape[1]!;
      const M = fx.shape[2]! * fx.shape[3]!;
      let s = 0;
      for (let i = 0; i < C; i++) for (let j = 0; j < C; j++) s += (g[i]![j]! - a[i]![j]!) ** 2;
      return s / (4 * C * C * M * M);
    };
    const ls = 0.25 * e(toyA(x), toyA(style)) + 0.75 * e(toyB(x), toyB(style));
    let tv = 0;
    for (let c = 0; c < 3; c++)
      for (let h = 0; h < H; h++)
        for (let w = 0; w < W; w++) {
          if (h + 1 < H) tv += (at(x, 0, c, h + 1, w) - at(x, 0, c, h, w)) ** 2;
          if (w + 1 < W) tv += (at(x, 0, c, h, w + 1) - at(x, 0, c, h, w)) ** 2;
        }
    expect(graphs.termOutputs).toEqual(['loss:content', 'loss:style', 'loss:tv']);
    expect(out['loss:content']!.data[0]).toBeCloseTo(2 * lc, 8);
    expect(out['loss:style']!.data[0]! / (1000 * ls)).toBeCloseTo(1, 10);
    expect(out['loss:tv']!.data[0]).toBeCloseTo(0.5 * tv, 6);
    expect(out.loss!.data[0]! / (2 * lc + 1000 * ls + 0.5 * tv)).toBeCloseTo(1, 10);
  });

  it('prunes the loss network to the taps the terms use', () => {
    const layers = (g: Graph) => new Set(g.nodes.map((n) => n.layer).filter(Boolean));
    for (const g of [graphs.step, graphs.targets.content, graphs.targets.style]) expect(layers(g).has('c')).toBe(false);
    expect(graphs.targets.content.nodes.some((n) => n.op === 'matmul')).toBe(false);
    const contentOnly = buildObjectiveGraphs({ ...spec, terms: [{ kind: 'content', taps: [{ tap: 'a', weight: 1 }], weight: 1, attrs: { norm: 'mean' } }] }, toyNet(), {
      size: { H, W },
    });
    expect(contentOnly.step.nodes.some((n) => n.op === 'avgPool')).toBe(false);
    // Specialised at the requested size: no symbolic dimension is left.
    expect([...contentOnly.step.values.values()].every((v) => v.shape.every((d) => typeof d === 'number'))).toBe(true);
  });

  it('rescales unnormalised style Grams from the style size to the output size', () => {
    // A style image that is the 2x nearest upsampling of `style` has, at the pointwise tap a,
    // every position repeated 4 times: its Gram is 4x, and rescaled by M_x/M_s = 1/4 it equals style's.
    const big = buildObjectiveGraphs(spec, toyNet(), { size: { H, W }, styleSize: { H: 2 * H, W: 2 * W } });
    const up: T = { shape: [1, 3, 2 * H, 2 * W], data: new Float64Array(3 * 4 * H * W) };
    for (let c = 0; c < 3; c++)
      for (let h = 0; h < 2 * H; h++) for (let w = 0; w < 2 * W; w++) up.data[(c * 2 * H + h) * 2 * W + w] = at(style, 0, c, h >> 1, w >> 1);
    const small = run(graphs.targets.style, { [graphs.imageInput]: style })['style:a']!;
    const scaled = run(big.targets.style, { [big.imageInput]: up })['style:a']!;
    scaled.data.forEach((v, i) => expect(v).toBeCloseTo(small.data[i]!, 8));
  });

  it('reports a missing tap with the available ones', () => {
    const bad: ObjectiveSpec = { ...spec, terms: [{ kind: 'content', taps: [{ tap: 'conv4_2', weight: 1 }], weight: 1, attrs: { norm: 'half_sum' } }] };
    expect(() => buildObjectiveGraphs(bad, toyNet(), { size: { H, W } })).toThrow(ObjectiveError);
    expect(() => buildObjectiveGraphs(bad, toyNet(), { size: { H, W } })).toThrow(/no tap conv4_2; available taps: a, b, c/);
  });
});

describe('style blending', () => {
  it('normalises blend weights to sum 1 and defaults to equal weights', () => {
    expect(normaliseBlend(2, [7, 3])).toEqual([0.7, 0.3]);
    expect(normaliseBlend(4)).toEqual([0.25, 0.25, 0.25, 0.25]);
    expect(() => normaliseBlend(2, [1])).toThrow(/1 blend weights for 2 style images/);
    expect(() => normaliseBlend(2, [-1, 2])).toThrow(/non-negative/);
    expect(() => normaliseBlend(2, [0, 0])).toThrow(/zero/);
  });

  it('blends target Grams linearly', () => {
    const a = { 'style:a': { shape: [1, 2, 2], data: Float32Array.of(1, 2, 3, 4) } };
    const b = { 'style:a': { shape: [1, 2, 2], data: Float32Array.of(10, 20, 30, 40) } };
    expect(Array.from(blendTargets([a, b], [0.7, 0.3])['style:a']!.data)).toEqual([3.7, 7.4, 11.1, 14.8].map(Math.fround));
  });
});
