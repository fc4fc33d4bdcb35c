/**
 * The mean_std, histogram and masked content/style terms: values against independent float64
 * computations from the loss network's features, and the compiler's gradients against central
 * finite differences, on the reference interpreter (float64 throughout).
 */
import { describe, expect, it } from 'vitest';
import { runReference } from '../../../src/backends/reference/index.ts';
import type { HostTensor } from '../../../src/compiler/ir/types.ts';
import { downsampleMask, matchHistogram, sortedQuantiles, type Mask, type ObjectiveSpec } from '../../../src/compiler/objective/index.ts';
import { selectOutputs } from '../../../src/compiler/passes/prune.ts';
import { tinyLossNet } from '../../runtime/train/tiny-nets.ts';
import { expectGradientMatchesFiniteDifferences, float64Objective, seededImage } from './float64-objective.ts';

const H = 8;
const W = 10;
const net = tinyLossNet();
const content = seededImage(1, H, W);
const styleA = seededImage(2, H, W, 0, 120);
const styleB = seededImage(3, H, W, 100, 255);
const x = Float64Array.from(seededImage(4, H, W).data);
const pixels = [0, 13, 47, 80, 121, 199, 238];

interface F {
  shape: number[];
  data: Float64Array;
}
/** Loss-network features at the taps, float64. */
function features(img: HostTensor | Float64Array): Record<string, F> {
  const g = selectOutputs(net.graph, ['relu1', 'relu2']);
  const data = img instanceof Float64Array ? img : Float64Array.from(img.data);
  const out = runReference(g, net.weights, { [g.inputs[0]!]: { shape: [1, 3, H, W], data } });
  return Object.fromEntries(Object.entries(out).map(([k, v]) => [k, { shape: [...v.shape], data: Float64Array.from(v.data) }]));
}
const channel = (f: F, c: number): Float64Array => {
  const m = f.shape[2]! * f.shape[3]!;
  return f.data.subarray(c * m, (c + 1) * m);
};
const mean = (v: Float64Array): number => v.reduce((a, b) => a + b, 0) / v.length;
const std = (v: Float64Array, eps: number): number => Math.sqrt(mean(v.map((t) => (t - mean(v)) ** 2)) + eps);

const spec = (...terms: ObjectiveSpec['terms']): ObjectiveSpec => ({ name: 't', lossNet: 'tiny', terms });

describe('mean_std (AdaIN loss)', () => {
  const o = float64Objective(spec({ kind: 'mean_std', weight: 3, taps: [{ tap: 'relu1', weight: 0.5 }, { tap: 'relu2', weight: 1 }], attrs: {} }), net.graph, net.weights, { content, styles: [styleA] });

  it('is Σ_l w_l (Σ_c (μ − μ_s)² + (σ − σ_s)²) / C with σ = √(var + 1e-5)', () => {
    const fx = features(x);
    const fs = features(styleA);
    let want = 0;
    for (const [tap, w] of [['relu1', 0.5], ['relu2', 1]] as const) {
      const C = fx[tap]!.shape[1]!;
      for (let c = 0; c < C; c++) {
        const a = channel(fx[tap]!, c);
        const s = channel(fs[tap]!, c);
        want += (3 * w * ((mean(a) - mean(s)) ** 2 + (std(a, 1e-5) - std(s, 1e-5)) ** 2)) / C;
      }
    }
    // The targets are float32, as the runtime keeps them.
    expect(o.evaluate(x).terms['loss:mean_std']! / want).toBeCloseTo(1, 6);
  });
  it('has the gradient of its value', () => expectGradientMatchesFiniteDifferences(o, x, pixels));
});

describe('histogram (Risser et al. 2017)', () => {
  it('remaps each channel to the style’s sorted values in the order of its own', () => {
    const f: HostTensor = { shape: [1, 2, 1, 4], data: Float32Array.of(3, 1, 2, 0, 5, 5, 1, 7) };
    const q = sortedQuantiles({ shape: [1, 2, 2, 2], data: Float32Array.of(10, 40, 20, 30, -1, -3, -2, -4) }, 4);
    expect(Array.from(q.data)).toEqual([10, 20, 30, 40, -4, -3, -2, -1]);
    expect(Array.from(matchHistogram(f, q).data)).toEqual([40, 20, 30, 10, -3, -2, -4, -1]);
    // Resampled to fewer quantiles: linear interpolation between ranks.
    expect(Array.from(sortedQuantiles({ shape: [1, 1, 1, 5], data: Float32Array.of(4, 0, 1, 2, 3) }, 3).data)).toEqual([0, 2, 4]);
  });

  const term = { kind: 'histogram', weight: 2, taps: [{ tap: 'relu1', weight: 1 }, { tap: 'relu2', weight: 0.5 }], attrs: { norm: 'half_sum' } };
  const o = float64Objective(spec(term), net.graph, net.weights, { content, styles: [styleA] }, { shape: [1, 3, H, W], data: Float32Array.from(x) });

  it('is ½ Σ (F − R)² with R = F histogram-matched to the style, recomputed every `every` iterations', () => {
    expect(o.graphs.refreshEvery).toBe(10);
    const fx = features(x);
    const fs = features(styleA);
    let want = 0;
    for (const [tap, w] of [['relu1', 1], ['relu2', 0.5]] as const) {
      const C = fx[tap]!.shape[1]!;
      for (let c = 0; c < C; c++) {
        const a = channel(fx[tap]!, c);
        const s = Float64Array.from(channel(fs[tap]!, c)).sort();
        const order = [...a.keys()].sort((i, j) => a[i]! - a[j]! || i - j);
        order.forEach((i, k) => (want += w * 2 * 0.5 * (a[i]! - s[k]!) ** 2));
      }
    }
    expect(o.evaluate(x).terms['loss:histogram']! / want).toBeCloseTo(1, 5);
  });
  it('has the gradient of its value between refreshes', () => expectGradientMatchesFiniteDifferences(o, x, pixels));
});

/** Left columns (x < W/2) white for `left`, the rest for the other. */
function halfMask(left: boolean): Mask {
  const data = new Float32Array(H * W);
  for (let i = 0; i < H; i++) for (let j = 0; j < W; j++) data[i * W + j] = (j < W / 2) === left ? 1 : 0;
  return { width: W, height: H, data };
}

describe('masks', () => {
  it('are downsampled to each tap by area averaging', () => {
    const m: Mask = { width: 4, height: 2, data: Float32Array.of(1, 1, 0, 0, 1, 1, 0, 0) };
    expect(Array.from(downsampleMask(m, 1, 2).data)).toEqual([1, 0]);
    expect(Array.from(downsampleMask(m, 2, 3).data).map((v) => Math.round(v * 1e6) / 1e6)).toEqual([1, 0.5, 0, 1, 0.5, 0]);
  });

  const styleTerm = { kind: 'style', weight: 1e3, taps: [{ tap: 'relu1', weight: 1 }, { tap: 'relu2', weight: 1 }], attrs: { norm: 'gatys', mask: true } };
  const images = { content, styles: [styleA, styleB], styleMasks: [halfMask(true), halfMask(false)] };
  const o = float64Objective(spec(styleTerm), net.graph, net.weights, images);

  it('style(mask: true): Σ_k E(G(F ∘ m_k), A_k · Σ m_k² / M), one target per style image', () => {
    expect(o.graphs.masks.map((m) => `${m.source}${m.index} ${m.shape.join('x')}`)).toEqual(['style0 1x1x8x10', 'style1 1x1x8x10', 'style0 1x1x4x5', 'style1 1x1x4x5']);
    expect([...o.graphs.targetInputs.keys()]).toEqual(['style:relu1#0', 'style:relu1#1', 'style:relu2#0', 'style:relu2#1']);
    const fx = features(x);
    let want = 0;
    for (const tap of ['relu1', 'relu2'] as const) {
      const f = fx[tap]!;
      const [, C, h, w] = f.shape as [number, number, number, number];
      [styleA, styleB].forEach((s, k) => {
        const m = downsampleMask(images.styleMasks[k]!, h, w).data;
        const fs = features(s)[tap]!;
        const share = m.reduce((a, v) => a + v * v, 0) / (h * w);
        let e = 0;
        for (let i = 0; i < C; i++)
          for (let j = 0; j < C; j++) {
            let g = 0;
            let a = 0;
            for (let p = 0; p < h * w; p++) {
              g += f.data[i * h * w + p]! * m[p]! * f.data[j * h * w + p]! * m[p]!;
              a += fs.data[i * h * w + p]! * fs.data[j * h * w + p]!;
            }
            e += (g - a * share) ** 2;
          }
        want += (1e3 * e) / (4 * C * C * (h * w) ** 2);
      });
    }
    expect(o.evaluate(x).terms['loss:style']! / want).toBeCloseTo(1, 6);
  });
  it('style(mask: true) has the gradient of its value', () => expectGradientMatchesFiniteDifferences(o, x, pixels));

  const c = float64Objective(
    spec({ kind: 'content', weight: 1, taps: [{ tap: 'relu2', weight: 1 }], attrs: { norm: 'half_sum', mask: true } }),
    net.graph,
    net.weights,
    { content, styles: [styleA], contentMask: halfMask(true) },
  );
  it('content(mask: true): ½ Σ ((F − P) ∘ m)², the content released where m = 0', () => {
    const fx = features(x).relu2!;
    const fc = features(content).relu2!;
    const m = downsampleMask(halfMask(true), 4, 5).data;
    let want = 0;
    fx.data.forEach((v, i) => (want += 0.5 * ((v - fc.data[i]!) * m[i % 20]!) ** 2));
    expect(c.evaluate(x).terms['loss:content']! / want).toBeCloseTo(1, 6);
    // No gradient reaches the right half's pixels through relu2 (the mask is 0 there, beyond the receptive field).
    const g = c.evaluate(x).grad;
    expect(Math.max(...[0, 1, 2].map((ch) => Math.abs(g[ch * H * W + 3 * W + 9]!)))).toBe(0);
  });
  it('content(mask: true) has the gradient of its value', () => expectGradientMatchesFiniteDifferences(c, x, pixels));
});
