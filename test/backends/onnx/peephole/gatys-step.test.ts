/**
 * The VGG-19 Gatys step (loss and image gradient, the bench's spec, seeded random weights) as compiled for the
 * GPU — tiled max-pool gradients, every peephole rewrite — computes what the CPU pipeline's graph computes: both
 * run here on ONNX Runtime's CPU provider, so only the lowering differs, not the provider. The targets are those
 * of a random style and content image (real Gram matrices, so symmetric: peephole/gram.ts); the images are
 * random reals, without tied window maxima or exact zeros before a ReLU (where the GPU lowering may differ).
 * Tolerance: ‖gpu − cpu‖₂ ≤ 1e-4·‖cpu‖₂ per output (float32, sums in other orders).
 */
import { describe, expect, it } from 'vitest';
import { gatysSpec, network, randomWeights } from '../../../../bench/setup.ts';
import { OnnxBackend, loadOnnxModel, modelForDevice } from '../../../../src/backends/onnx/index.ts';
import { onnx } from '../../../../src/backends/onnx/proto.ts';
import type { WeightMap } from '../../../../src/backends/types.ts';
import { buildObjectiveGraphs, LOSS } from '../../../../src/compiler/objective/build.ts';
import type { Graph, HostTensor } from '../../../../src/compiler/ir/types.ts';
import { differentiate } from '../../../../src/compiler/passes/autodiff/index.ts';
import { foldInputNormalisation } from '../../../../src/backends/onnx/optimize/index.ts';
import { Rng } from '../../../../src/runtime/data/rng.ts';
import { expectSameOutputs } from './outputs-close.ts';

const S = 16;

function image(seed: number): HostTensor {
  const rng = Rng.fromSeed(seed);
  return { shape: [1, 3, S, S], data: Float32Array.from({ length: 3 * S * S }, () => rng.next() * 255) };
}

async function runOnCpu(g: Graph, w: WeightMap, feeds: Record<string, HostTensor>): Promise<Record<string, HostTensor>> {
  const m = await new OnnxBackend().compile(g, w, { threads: 1 });
  try {
    return await m.run(feeds);
  } finally {
    await m.dispose();
  }
}

describe('GPU-lowered VGG-19 Gatys step on the CPU provider', () => {
  it('matches the CPU pipeline: every loss and the image gradient', async () => {
    const loss = network('vgg19');
    const graphs = buildObjectiveGraphs(gatysSpec('vgg19'), loss.graph, { size: { H: S, W: S } });
    const step = differentiate(foldInputNormalisation(graphs.step), { loss: LOSS, wrt: [graphs.imageInput] });
    const weights = await randomWeights(graphs.step, loss.specDir);
    const feeds: Record<string, HostTensor> = { [graphs.imageInput]: image(1) };
    for (const [role, seed] of [['style', 2], ['content', 3]] as const) {
      const t = graphs.targets[role];
      const out = await runOnCpu(t, await randomWeights(t, loss.specDir), { [t.inputs[0]!]: image(seed) });
      for (const [key, id] of graphs.targetInputs) if (out[key]) feeds[id] = out[key];
    }
    expect(Object.keys(feeds).sort()).toEqual([...step.inputs].sort());
    const run = async (device: 'cpu' | 'gpu'): Promise<Record<string, HostTensor>> => {
      const proto = modelForDevice(step, weights, { device, reluGrad: 'where' });
      const m = await loadOnnxModel(onnx.ModelProto.encode(onnx.ModelProto.create(proto)).finish(), { threads: 1 });
      try {
        return await m.run(feeds);
      } finally {
        await m.dispose();
      }
    };
    const [cpu, gpu] = [await run('cpu'), await run('gpu')];
    expectSameOutputs(cpu, gpu);
  });
});
