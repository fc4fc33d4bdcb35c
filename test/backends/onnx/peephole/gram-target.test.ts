/**
 * A term kind registered from this test file compares a Gram matrix of the generated image, G = F Fᵀ, with a
 * square target that is not symmetric: the style image's lagged channel correlation T = F₀ F₁ᵀ between
 * horizontally adjacent positions (Berger & Memisevic 2016 match such shifted Grams; matching one against a plain
 * Gram is a deliberate misuse). The GPU's Gram-gradient rewrite (peephole/gram.ts) replaces X + Xᵀ by 2X only
 * where X is symmetric by construction; rewriting here would change the gradient. So the step compiled for the
 * GPU (its lowerings and every peephole rewrite), run on ONNX Runtime's CPU provider, must compute what the CPU
 * pipeline's graph computes: the loss, each term and the image gradient. A built-in style term rides along, whose
 * Gram target is marked symmetric and does get the rewrite. Tolerance: ‖gpu − cpu‖₂ ≤ 1e-4·‖cpu‖₂ per output.
 */
import { describe, expect, it } from 'vitest';
import { OnnxBackend, loadOnnxModel, modelForDevice } from '../../../../src/backends/onnx/index.ts';
import { onnx } from '../../../../src/backends/onnx/proto.ts';
import { BUILTIN_TERMS, TermRegistry, gram, styleLayerLoss, type ObjectiveSpec, type TermKind } from '../../../../src/compiler/objective/index.ts';
import { buildObjectiveGraphs, LOSS } from '../../../../src/compiler/objective/build.ts';
import type { Graph, HostTensor } from '../../../../src/compiler/ir/types.ts';
import { differentiate } from '../../../../src/compiler/passes/autodiff/index.ts';
import { seededImage } from '../../../compiler/objective/float64-objective.ts';
import { tinyLossNet } from '../../../runtime/train/tiny-nets.ts';
import { expectSameOutputs } from './outputs-close.ts';

const S = 8;

/** T = F[..., :-1] · F[..., 1:]ᵀ over the positions with a right neighbour, [1, C, C], not symmetric. */
const laggedGram: TermKind = {
  kind: 'lagged_gram',
  summary: "the output's Gram against the style's lagged channel correlation (a test term)",
  attributes: [],
  taps: 'required',
  target: {
    image: 'style',
    build: ({ b, feature }, term) =>
      new Map(
        term.taps.map(({ tap }) => {
          const f = feature(tap);
          const [n, c, h, w] = b.shape(f) as number[];
          const flat = (start: number): string =>
            b.add('reshape', [b.add('slice', [f], { axis: 3, start, end: start + w! - 1 })], { shape: [n!, c!, h! * (w! - 1)] });
          return [tap, b.add('matmul', [flat(0), flat(1)], { transB: true })];
        }),
      ),
  },
  step(ctx, term) {
    const { b } = ctx;
    const parts = term.taps.map(({ tap }) => styleLayerLoss(b, gram(b, ctx.feature(tap), 'gatys'), ctx.target(tap), 'gatys', b.shape(ctx.feature(tap))));
    return parts.reduce((acc, p) => b.add('add', [acc, p], {}));
  },
};

const spec: ObjectiveSpec = {
  name: 'o',
  lossNet: 'tiny',
  terms: [
    { kind: 'lagged_gram', weight: 1, taps: [{ tap: 'relu2', weight: 1 }], attrs: {} },
    { kind: 'style', weight: 1, taps: [{ tap: 'relu1', weight: 1 }], attrs: {} },
  ],
};

async function runModel(proto: ReturnType<typeof modelForDevice>, feeds: Record<string, HostTensor>): Promise<Record<string, HostTensor>> {
  const m = await loadOnnxModel(onnx.ModelProto.encode(onnx.ModelProto.create(proto)).finish(), { threads: 1 });
  try {
    return await m.run(feeds);
  } finally {
    await m.dispose();
  }
}

async function styleTargets(g: Graph, weights: ReadonlyMap<string, HostTensor>, img: HostTensor): Promise<Record<string, HostTensor>> {
  const m = await new OnnxBackend().compile(g, weights, { threads: 1 });
  try {
    return await m.run({ [g.inputs[0]!]: img });
  } finally {
    await m.dispose();
  }
}

/** max |T − Tᵀ| / max |T| over the last two axes of a [1, C, C] tensor. */
function asymmetry(t: HostTensor): number {
  const c = t.shape.at(-1)!;
  let skew = 0;
  for (let i = 0; i < c; i++) for (let j = 0; j < c; j++) skew = Math.max(skew, Math.abs(t.data[i * c + j]! - t.data[j * c + i]!));
  return skew / Math.max(...t.data.map(Math.abs));
}

describe('a Gram compared with a non-symmetric square target, compiled for the GPU', () => {
  it('is not marked symmetric, and its GPU-lowered gradient matches the CPU graph', async () => {
    const net = tinyLossNet();
    const registry = new TermRegistry([...BUILTIN_TERMS, laggedGram]);
    const graphs = buildObjectiveGraphs(spec, net.graph, { size: { H: S, W: S }, registry });
    const marked = (key: string): boolean => graphs.step.values.get(graphs.targetInputs.get(key)!)!.symmetric === true;
    expect(marked('lagged_gram:relu2')).toBe(false);
    expect(marked('style:relu1')).toBe(true);

    const targets = await styleTargets(graphs.targets.style, net.weights, seededImage(2, S, S));
    expect(asymmetry(targets['lagged_gram:relu2']!)).toBeGreaterThan(0.05);
    const feeds: Record<string, HostTensor> = { [graphs.imageInput]: seededImage(1, S, S) };
    for (const [key, id] of graphs.targetInputs) feeds[id] = targets[key]!;

    const step = differentiate(graphs.step, { loss: LOSS, wrt: [graphs.imageInput] });
    const cpu = await runModel(modelForDevice(step, net.weights, { device: 'cpu' }), feeds);
    const gpu = await runModel(modelForDevice(step, net.weights, { device: 'gpu' }), feeds);
    expect(Object.keys(cpu)).toContain(`grad:${graphs.imageInput}`);
    expectSameOutputs(cpu, gpu);
  });
});
