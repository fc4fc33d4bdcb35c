/**
 * The compiler's gradients (autodiff pass + objective terms) against PyTorch autograd in float64
 * (test/goldens/gradients; objective and weights in each case.json, conventions in the README).
 *
 * Tolerances, relative to the largest |golden gradient| entry:
 * - reference backend (float64 throughout): 1e-9 (float64 rounding only);
 * - ONNX (float32 forward and backward, losses of size 1e4..1e7 made of large cancelling sums): 2e-3.
 * A wrong normalisation constant, a dropped term or a misrouted pool gradient moves entries by O(1).
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { OnnxBackend } from '../../src/backends/onnx/index.ts';
import { runReference, type Float64Tensor } from '../../src/backends/reference/index.ts';
import { compileFile, getNetwork } from '../../src/compiler/frontend.ts';
import { GraphBuilder } from '../../src/compiler/ir/builder.ts';
import type { Graph, HostTensor } from '../../src/compiler/ir/types.ts';
import { contentLoss, gram, styleLayerLoss, tvLoss } from '../../src/compiler/objective/terms.ts';
import { differentiate } from '../../src/compiler/passes/autodiff/index.ts';
import { selectOutputs } from '../../src/compiler/passes/prune.ts';
import { specialize } from '../../src/compiler/passes/specialize.ts';
import { uniformTensor } from '../../src/verify/det.ts';
import { bindWeights } from '../../src/weights/index.ts';
import { caseInput, caseOutput, maxAbsDiff, readCase, type GoldenCase } from './golden-io.ts';

const ROOT = join(import.meta.dirname, '../..');
const hasShared = existsSync(join(ROOT, '../shared/weights'));
if (!hasShared) console.warn('[stc tests] ../shared is absent: skipping the SqueezeNet gradient golden');

interface Objective {
  readonly content: { readonly tap: string; readonly weight: number };
  readonly style: { readonly taps: Record<string, number>; readonly weight: number };
  readonly tv: { readonly weight: number };
}

/** loss = α content + β Σ w_l E_l + λ tv on features `f` of x, with targets `p` (content) and `a` (grams). */
function addObjective(b: GraphBuilder, x: string, f: ReadonlyMap<string, string>, p: string, a: ReadonlyMap<string, string>, o: Objective): string {
  const terms: string[] = [];
  terms.push(b.add('scale', [contentLoss(b, f.get(o.content.tap)!, p, 'half_sum')], { value: o.content.weight }));
  for (const [tap, w] of Object.entries(o.style.taps)) {
    const e = styleLayerLoss(b, gram(b, f.get(tap)!, 'gatys'), a.get(tap)!, 'gatys', b.shape(f.get(tap)!));
    terms.push(b.add('scale', [e], { value: o.style.weight * w }));
  }
  terms.push(b.add('scale', [tvLoss(b, x, 'sum')], { value: o.tv.weight }));
  return terms.reduce((acc, t) => b.add('add', [acc, t], {}));
}

function expectGrad(got: ArrayLike<number>, want: Float64Array, rel: number, what: string): void {
  let scale = 0;
  for (const v of want) scale = Math.max(scale, Math.abs(v));
  const err = maxAbsDiff(got, want);
  expect(err, `${what}: max abs ${err.toExponential(2)} vs max |grad| ${scale.toExponential(2)}`).toBeLessThanOrEqual(rel * scale);
}

// ---------------------------------------------------------------------------- tiny VGG-shaped net

/** x / 255 -> conv1_1 relu1_1 -> conv1_2 relu1_2 -> pool1 (max 2/2) -> conv2_1 relu2_1; 3x3 pad 1. */
function tinyNet(b: GraphBuilder, x: string, suffix: string): Map<string, string> {
  const conv = { strides: [1, 1], dilations: [1, 1], padding: { kind: 'explicit', pads: [1, 1, 1, 1] }, group: 1 } as const;
  const layer = (h: string, name: string): string => b.add('relu', [b.add('conv2d', [h, `${name}.weight`, `${name}.bias`], conv, {}, `${name}${suffix}`)], {}, {}, `${name.replace('conv', 'relu')}${suffix}`);
  const r11 = layer(b.add('scale', [x], { value: 1 / 255 }), 'conv1_1');
  const r12 = layer(r11, 'conv1_2');
  const pool = b.add('maxPool', [r12], { kernel: [2, 2], strides: [2, 2], pads: [0, 0, 0, 0], ceilMode: false, countIncludePad: false });
  return new Map([['relu1_1', r11], ['relu2_1', layer(pool, 'conv2_1')]]);
}

describe('gradients/gatys_tiny against PyTorch autograd (float64)', () => {
  const c: GoldenCase = readCase('gradients/gatys_tiny');
  const o = c['objective'] as Objective;
  const b = new GraphBuilder();
  const shape = c.inputs.find((t) => t.name === 'x')!.shape;
  const [x, content, style] = ['x', 'content', 'style'].map((n) => b.input(n, shape)) as [string, string, string];
  const weights = new Map<string, HostTensor>();
  for (const t of c.inputs.filter((t) => t.name.includes('.'))) {
    b.param(t.name, t.shape, { kind: 'zeros' }, false);
    weights.set(t.name, caseInput(c, t.name));
  }
  const f = tinyNet(b, x, '');
  const p = tinyNet(b, content, '_c').get(o.content.tap)!;
  const fs = tinyNet(b, style, '_s');
  const a = new Map(Object.keys(o.style.taps).map((t) => [t, gram(b, fs.get(t)!, 'gatys')]));
  b.output('loss', addObjective(b, x, f, p, a, o));
  const g = differentiate(b.build(), { loss: 'loss', wrt: [x] });
  const feeds = Object.fromEntries(['x', 'content', 'style'].map((n) => [n, caseInput(c, n)]));
  const want = caseOutput(c, 'grad').data;

  it('reference backend: loss and gradient to 1e-9', () => {
    const out = runReference(g, weights, feeds);
    const losses = c['losses'] as { total: number };
    expect(Math.abs(out['loss']!.data[0]! - losses.total)).toBeLessThanOrEqual(1e-9 * Math.abs(losses.total));
    expectGrad(out[`grad:${x}`]!.data, want, 1e-9, 'reference');
  });
  it('ONNX backend (float32): gradient to 2e-3', async () => {
    const model = await new OnnxBackend().compile(g, weights, { threads: 2 });
    try {
      expectGrad((await model.run(feeds))[`grad:${x}`]!.data, want, 2e-3, 'onnx');
    } finally {
      await model.dispose();
    }
  });
});

// ---------------------------------------------------------------------------- SqueezeNet 1.1

describe.skipIf(!hasShared)('gradients/gatys_squeezenet64 against PyTorch autograd (float64)', () => {
  const c: GoldenCase = readCase('gradients/gatys_squeezenet64');
  const o = c['objective'] as Objective;
  const taps = [...new Set([o.content.tap, ...Object.keys(o.style.taps)])];
  const r = hasShared ? compileFile(join(ROOT, 'stdlib/squeezenet1_1.style')) : undefined;
  const net = r?.module ? getNetwork(r.module, 'squeezenet1_1') : undefined;
  const image = (n: string): HostTensor => {
    const e = c.inputs.find((t) => t.name === n)!;
    return uniformTensor(e.shape, e.gen!.seed, e.gen!.lo, e.gen!.hi);
  };

  it('reference (float64) to 1e-6 and ONNX (float32) to 2e-3', async () => {
    const [N, , H, W] = c.inputs[0]!.shape as [number, number, number, number];
    const fwd = specialize(selectOutputs(net!.graph, taps), { N, H, W });
    const weights = await bindWeights(fwd, net!.weights!, { specDir: net!.specDir });
    const xId = fwd.inputs[0]!;
    // Targets from the same network in float64 (PyTorch computes them in float64 too).
    const content = runReference(fwd, weights, { [xId]: image('content') });
    const styleF = runReference(fwd, weights, { [xId]: image('style') });
    const b = GraphBuilder.from(fwd);
    const f = new Map(taps.map((t) => [t, fwd.outputs.get(t)!]));
    const p = b.input('target_content', b.shape(f.get(o.content.tap)!));
    const a = new Map<string, string>();
    const styleGrams = new Map<string, Float64Tensor>();
    const gb = new GraphBuilder();
    const gramOut: Record<string, string> = {};
    for (const t of Object.keys(o.style.taps)) {
      const [n, ch] = b.shape(f.get(t)!) as [number, number];
      a.set(t, b.input(`target_gram_${t}`, [n, ch, ch]));
      gramOut[t] = gram(gb, gb.input(t, b.shape(f.get(t)!)), 'gatys');
      gb.output(t, gramOut[t]!);
    }
    const grams = runReference(gb.build(), new Map(), Object.fromEntries(Object.keys(o.style.taps).map((t) => [t, styleF[t]!])));
    for (const t of Object.keys(o.style.taps)) styleGrams.set(t, grams[t]!);
    b.output('loss', addObjective(b, xId, f, p, a, o));
    const g: Graph = differentiate(b.build(), { loss: 'loss', wrt: [xId] });
    const feeds64: Record<string, HostTensor | Float64Tensor> = { [xId]: image('x'), target_content: content[o.content.tap]! };
    for (const [t, v] of styleGrams) feeds64[`target_gram_${t}`] = v;
    const want = caseOutput(c, 'grad').data;
    // The golden is stored as float32, so 1e-6 covers its rounding; float64 arithmetic adds nothing visible.
    expectGrad(runReference(g, weights, feeds64)[`grad:${xId}`]!.data, want, 1e-6, 'reference');

    const feeds32 = Object.fromEntries(Object.entries(feeds64).map(([k, v]) => [k, { shape: [...v.shape], data: Float32Array.from(v.data) }]));
    const model = await new OnnxBackend().compile(g, weights, { threads: 2 });
    try {
      expectGrad((await model.run(feeds32))[`grad:${xId}`]!.data, want, 2e-3, 'onnx');
    } finally {
      await model.dispose();
    }
  }, 120_000);
});
