/**
 * The optimised graphs on ONNX Runtime against the unoptimised ones (float32 both): a Gatys step
 * (preprocessing, zero-padded convs, max pool, content + style + TV, gradient w.r.t. the image) and
 * parameter gradients of a Johnson-like net (reflect pads, stride-2 conv, nearest upsample).
 */
import { describe, expect, it } from 'vitest';
import { OnnxBackend } from '../../../../src/backends/onnx/index.ts';
import type { WeightMap } from '../../../../src/backends/types.ts';
import type { Graph, HostTensor } from '../../../../src/compiler/ir/types.ts';
import { buildObjectiveGraphs, LOSS } from '../../../../src/compiler/objective/build.ts';
import { differentiate } from '../../../../src/compiler/passes/autodiff/index.ts';
import { foldInputNormalisation, optimizeGraph } from '../../../../src/backends/onnx/optimize/index.ts';
import { relErr, seeded, tinyNet } from './helpers.ts';

async function runBoth(g: Graph, weights: WeightMap, feeds: Record<string, HostTensor>) {
  const b = new OnnxBackend();
  const plain = await b.compile(g, weights, { threads: 1, optimize: false });
  const opt = await b.compile(g, weights, { threads: 1 });
  try {
    return { plain: await plain.run(feeds), opt: await opt.run(feeds) };
  } finally {
    await plain.dispose();
    await opt.dispose();
  }
}

describe('optimised ONNX graphs equal the unoptimised ones', () => {
  it('Gatys step: loss, terms and image gradient', async () => {
    const spec = {
      name: 't',
      lossNet: 'v',
      terms: [
        { kind: 'content' as const, taps: [{ tap: 'relu2_1', weight: 1 }], weight: 1, attrs: { norm: 'half_sum' as const } },
        { kind: 'style' as const, taps: [{ tap: 'relu1_1', weight: 0.5 }, { tap: 'relu2_1', weight: 0.5 }], weight: 1e3, attrs: { norm: 'gatys' as const } },
        { kind: 'tv' as const, taps: [], weight: 1e-3, attrs: { norm: 'sum' as const } },
      ],
    };
    // The symbolic net, re-specialised by the objective compiler.
    const { graph: symbolic, weights } = await tinyNet(
      `main network v {
        input x: image[N, 3, H, W]
        preprocess = preprocess(bgr: true, mean: [103.939, 116.779, 123.68])
        conv1_1 = conv(6, 3, pad: 1); relu1_1 = relu()
        pool1 = max_pool(2)
        conv2_1 = conv(8, 3, pad: 1); relu2_1 = relu()
        output y = relu2_1
      }`,
      {},
    );
    const graphs = buildObjectiveGraphs(spec, symbolic, { size: { H: 12, W: 10 } });
    // As the Gatys engine does: fold the normalisation into the forward graph, then differentiate,
    // so the backward pass has no preprocessing either.
    const step = differentiate(foldInputNormalisation(graphs.step), { loss: LOSS, wrt: [graphs.imageInput] });
    const reference = differentiate(graphs.step, { loss: LOSS, wrt: [graphs.imageInput] });
    // The passes really change this graph.
    const ops = (g: Graph) => g.nodes.map((n) => n.op);
    const optimised = optimizeGraph(step, weights);
    expect(ops(reference)).toContain('concat');
    expect(ops(step)).toContain('convTranspose2d');
    expect(ops(optimised)).not.toContain('convTranspose2d');
    expect(ops(optimised)).not.toContain('concat');
    const feeds: Record<string, HostTensor> = { [graphs.imageInput]: seeded([1, 3, 12, 10], 1, 0, 255) };
    for (const [, id] of graphs.contentInputs) feeds[id] = seeded(step.values.get(id)!.shape as number[], 2, 0, 50);
    for (const [, id] of graphs.styleInputs) feeds[id] = seeded(step.values.get(id)!.shape as number[], 3, 0, 1e5);
    const { plain } = await runBoth(reference, weights, feeds);
    const { opt } = await runBoth(step, weights, feeds);
    for (const name of Object.keys(plain)) expect(relErr(plain[name]!, opt[name]!), name).toBeLessThan(2e-5);
  });

  it('Johnson-like net: every parameter gradient', async () => {
    const { graph, weights } = await tinyNet(
      `main network j {
        input x: image[N, 3, H, W]
        conv1 = conv(4, 3, padding: reflect); in1 = instance_norm(); relu()
        conv2 = conv(6, 3, stride: 2, padding: reflect); relu()
        deconv1 = upsample(2) -> conv(4, 3, padding: reflect); relu()
        conv3 = conv(3, 5, padding: reflect)
        output y = conv3
      }`,
      { N: 2, H: 8, W: 10 },
    );
    const { GraphBuilder } = await import('../../../../src/compiler/ir/builder.ts');
    const b = GraphBuilder.from(graph);
    const y = graph.outputs.get('y')!;
    b.output('loss', b.add('reduceSum', [b.add('mul', [y, y], {})], { axes: [0, 1, 2, 3], keepDims: false }));
    const params = [...weights.keys()];
    const diff = differentiate(b.build(), { loss: 'loss', wrt: params });
    const optimised = optimizeGraph(diff, new Map()); // trained weights: not foldable
    expect(optimised.nodes.filter((n) => n.op === 'matmul').length).toBeGreaterThan(0);
    // conv3's 5×5 weight gradient (4 → 3 channels) in the swapped formulation: one conv writing [O, C, KH, KW].
    expect(optimised.nodes.some((n) => n.op === 'conv2d' && optimised.values.get(n.outputs[0]!)!.shape.join() === '3,4,5,5')).toBe(true);
    // conv3 itself (3 output channels, 25 taps, 8×10 output) over its output's 2×2 phases.
    expect(optimised.nodes.some((n) => n.op === 'depthToSpace')).toBe(true);
    // Trained weights are fed (not bound), as in the training step.
    const { paramsToInputs } = await import('../../../../src/compiler/passes/adam-update.ts');
    const fed = paramsToInputs(diff, params);
    const feeds: Record<string, HostTensor> = { [graph.inputs[0]!]: seeded([2, 3, 8, 10], 4, 0, 255) };
    for (const p of params) feeds[p] = weights.get(p)!;
    const { plain, opt } = await runBoth(fed, new Map(), feeds);
    // conv1's bias gradient is zero in exact arithmetic (instance norm removes channel means): float32
    // noise in both, compared against the largest gradient instead of its own size.
    const largest = Math.max(...Object.values(plain).map((t) => Math.max(...Array.from(t.data, Math.abs))));
    for (const name of Object.keys(plain)) {
      const own = Math.max(...Array.from(plain[name]!.data, Math.abs));
      if (own < 1e-4 * largest) expect(Math.max(...Array.from(opt[name]!.data, Math.abs)), name).toBeLessThan(1e-4 * largest);
      else expect(relErr(plain[name]!, opt[name]!), name).toBeLessThan(5e-5);
    }
  });
});
