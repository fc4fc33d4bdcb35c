/**
 * The GPU's dispatch budget: ONNX node counts of the bench's graphs compiled for `device: 'gpu'` (at 32², the
 * count does not depend on the size on the GPU pipeline), which must not regress. Regenerate the figures with
 * `npx tsx bench/node-counts.ts --size 32` (docs/benchmarks.md, "GPU node counts"); lower a budget when a change
 * lowers the count. No execution: the graphs are emitted, not run.
 */
import { describe, expect, it } from 'vitest';
import { emittedNodeCount } from '../../../src/backends/onnx/index.ts';
import { gatysStepGraph, nodeCountBefore, trainStepGraph } from '../../../bench/node-counts.ts';
import { johnsonInference } from '../../../bench/setup.ts';

const BUDGET = { inference: 67, gatysVgg19: 142, train: 1008 };

describe('GPU node-count budget', () => {
  it('Johnson-IN inference', async () => {
    const g = await johnsonInference(32);
    expect(emittedNodeCount(g.graph, g.weights, { device: 'gpu' }).nodes).toBeLessThanOrEqual(BUDGET.inference);
  });

  it('VGG-19 Gatys step (loss and image gradient): at most half the nodes of the GPU graph before the per-device pipeline', async () => {
    const g = await gatysStepGraph('vgg19', 32);
    const count = emittedNodeCount(g.graph, g.weights, { device: 'gpu', reluGrad: 'where' }).nodes;
    expect(count).toBeLessThanOrEqual(BUDGET.gatysVgg19);
    expect(count).toBeLessThanOrEqual(nodeCountBefore(g, 'where') / 2);
  });

  it('Johnson-IN training step, batch 2: at most half the nodes of the GPU graph before the per-device pipeline', async () => {
    const gpu = await trainStepGraph(2, 32, true);
    const count = emittedNodeCount(gpu.graph, gpu.weights, { device: 'gpu' }).nodes;
    expect(count).toBeLessThanOrEqual(BUDGET.train);
    expect(count).toBeLessThanOrEqual(nodeCountBefore(await trainStepGraph(2, 32)) / 2);
  });
});
